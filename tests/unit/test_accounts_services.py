"""Account services called directly: what each guarantees, without the pages around it."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from campaign.accounts import passwords, services
from campaign.accounts.models import AccountToken, AuditEntry, TokenPurpose, User, UserRole
from campaign.db import utcnow
from campaign.extensions import db
from campaign.security import hash_token
from tests.conftest import Outbox
from tests.factories_accounts import DEFAULT_PASSWORD, fast_password_hashing, make_user  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

NEW_PASSWORD = "a quiet river at dawn"


def token_from(message, path):
    return Outbox.link(message, path).rsplit("/", 1)[1]


def audit_actions(user):
    return [entry.action for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_id == user.id).order_by(AuditEntry.id))]


def test_authenticate_accepts_the_right_password_and_records_the_login(ctx):
    user = make_user(email="ada@example.org")
    found = services.authenticate("  ADA@Example.org ", DEFAULT_PASSWORD)
    assert found is user and user.last_login_at is not None


@pytest.mark.parametrize("email, password", [
    ("ada@example.org", "not the right password"),
    ("nobody@example.org", DEFAULT_PASSWORD),
    ("not an address", DEFAULT_PASSWORD),
    ("pending@example.org", ""),
    ("gone@example.org", DEFAULT_PASSWORD),
])
def test_authenticate_refuses_alike_and_always_checks_a_hash(ctx, monkeypatch, email, password):
    make_user(email="ada@example.org")
    make_user(email="pending@example.org", password="")
    make_user(email="gone@example.org", is_active_account=False)
    checked = []
    real_verify = services.verify_password
    monkeypatch.setattr(services, "verify_password",
                        lambda *args: checked.append(args) or real_verify(*args))
    assert services.authenticate(email, password) is None
    # One argon2 verification whatever the reason, so the time taken tells nothing.
    assert len(checked) == 1


def test_authenticate_upgrades_an_outdated_hash(ctx):
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    user = make_user(password_hash=older.hash(DEFAULT_PASSWORD))
    old_hash = user.password_hash
    assert services.authenticate(user.email, DEFAULT_PASSWORD) is user
    assert user.password_hash != old_hash and not passwords.needs_rehash(user.password_hash)


def test_emails_are_normalised_and_unique_whatever_their_case(ctx):
    admin = make_user(role="admin")
    invited = services.invite_user(admin, "Grace.Hopper@EXAMPLE.org", "organizer", locale="en")
    assert invited.email == "Grace.Hopper@example.org"
    assert invited.email_key == "grace.hopper@example.org"
    again = services.invite_user(admin, "GRACE.HOPPER@example.org", "admin", locale="en")
    assert again is invited and again.role == UserRole.ADMIN
    with pytest.raises(services.InvalidEmail):
        services.invite_user(admin, "not an address", "organizer", locale="en")


def test_inviting_an_address_with_an_account_is_refused(ctx):
    admin = make_user(role="admin")
    member = make_user()
    with pytest.raises(services.EmailTaken):
        services.invite_user(admin, member.email.upper(), "organizer", locale="en")


def test_an_invitation_works_for_seven_days_once(ctx, outbox):
    admin = make_user(role="admin")
    invited = services.invite_user(admin, "grace@example.org", "organizer", locale="en")
    db.session.commit()
    token = token_from(outbox.to("grace@example.org")[0], "/organize/invitation/")
    later = utcnow() + timedelta(days=7, seconds=1)
    with pytest.raises(services.TokenExpired):
        services.accept_invitation(token, "Grace", NEW_PASSWORD, now=later)
    with pytest.raises(services.WeakPassword):
        services.accept_invitation(token, "Grace", "password2024")
    services.accept_invitation(token, "Grace", NEW_PASSWORD, now=utcnow() + timedelta(days=6))
    db.session.commit()
    assert invited.name == "Grace" and services.authenticate("grace@example.org", NEW_PASSWORD)
    with pytest.raises(services.TokenUsed):
        services.accept_invitation(token, "Someone", "another fine passphrase")
    assert audit_actions(invited) == ["user.invited", "user.joined"]


def test_a_new_invitation_replaces_the_old_link(ctx, outbox):
    admin = make_user(role="admin")
    services.invite_user(admin, "grace@example.org", "organizer", locale="en")
    db.session.commit()
    services.invite_user(admin, "grace@example.org", "organizer", locale="en")
    db.session.commit()
    first, second = (token_from(m, "/organize/invitation/") for m in outbox.to("grace@example.org"))
    with pytest.raises(services.TokenInvalid):
        services.check_account_token(first, TokenPurpose.INVITATION)
    assert services.check_account_token(second, TokenPurpose.INVITATION)


def test_tokens_are_stored_only_as_hashes(ctx, outbox):
    make_user(email="ada@example.org")
    services.request_password_reset("ada@example.org", locale="en")
    db.session.commit()
    token = token_from(outbox.to("ada@example.org")[0], "/organize/password/reset/")
    stored = db.session.scalars(select(AccountToken.token_hash)).all()
    assert stored == [hash_token(token)] and token not in stored


def test_a_reset_link_works_two_hours_once_and_ends_every_session(ctx, outbox):
    user = make_user(email="ada@example.org")
    version = user.session_version
    assert services.request_password_reset("ada@example.org", locale="en")
    db.session.commit()
    token = token_from(outbox.to("ada@example.org")[0], "/organize/password/reset/")
    with pytest.raises(services.TokenExpired):
        services.reset_password(token, NEW_PASSWORD, now=utcnow() + timedelta(hours=2, seconds=1))
    services.reset_password(token, NEW_PASSWORD)
    db.session.commit()
    assert user.session_version == version + 1
    assert services.authenticate("ada@example.org", NEW_PASSWORD) is user
    with pytest.raises(services.TokenUsed):
        services.reset_password(token, "yet another passphrase")


def test_no_reset_email_for_unknown_inactive_or_pending_accounts(ctx, outbox):
    make_user(email="gone@example.org", is_active_account=False)
    make_user(email="pending@example.org", password="")
    for address in ("nobody@example.org", "gone@example.org", "pending@example.org", "bad address"):
        assert services.request_password_reset(address, locale="en") is False
    db.session.commit()
    assert outbox.messages() == []


def test_changing_the_password_needs_the_current_one(ctx):
    user = make_user()
    version = user.session_version
    with pytest.raises(services.WrongPassword):
        services.change_password(user, "wrong", NEW_PASSWORD)
    with pytest.raises(services.WeakPassword) as weak:
        services.change_password(user, DEFAULT_PASSWORD, "short")
    assert weak.value.problems == ["Use at least 12 characters."]
    services.change_password(user, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert user.session_version == version + 1
    assert passwords.verify_password(user.password_hash, NEW_PASSWORD)


def test_an_email_change_needs_the_password_and_a_confirmed_link(ctx, outbox):
    user = make_user(email="ada@example.org")
    make_user(email="taken@example.org")
    with pytest.raises(services.WrongPassword):
        services.request_email_change(user, "wrong", "new@example.org", locale="en")
    with pytest.raises(services.SameEmail):
        services.request_email_change(user, DEFAULT_PASSWORD, "ADA@example.org", locale="en")
    with pytest.raises(services.EmailTaken):
        services.request_email_change(user, DEFAULT_PASSWORD, "Taken@example.org", locale="en")
    services.request_email_change(user, DEFAULT_PASSWORD, "New@Example.org", locale="en")
    db.session.commit()
    assert user.email == "ada@example.org"
    token = token_from(outbox.to("New@example.org")[0], "/organize/account/email/")
    with pytest.raises(services.TokenExpired):
        services.confirm_email_change(token, locale="en", now=utcnow() + timedelta(hours=24))
    services.confirm_email_change(token, locale="en")
    db.session.commit()
    assert (user.email, user.email_key) == ("New@example.org", "new@example.org")
    [notice] = outbox.to("ada@example.org")
    assert "New@example.org" in Outbox.text(notice)


def test_an_email_change_fails_cleanly_if_the_address_was_taken_meanwhile(ctx, outbox):
    user = make_user(email="ada@example.org")
    services.request_email_change(user, DEFAULT_PASSWORD, "new@example.org", locale="en")
    db.session.commit()
    make_user(email="new@example.org")
    db.session.commit()
    token = token_from(outbox.to("new@example.org")[0], "/organize/account/email/")
    with pytest.raises(services.EmailTaken):
        services.confirm_email_change(token, locale="en")
    db.session.rollback()
    assert user.email == "ada@example.org"


def test_deactivation_ends_sessions_discards_links_and_is_audited(ctx, outbox):
    admin = make_user(role="admin")
    user = make_user(email="ada@example.org")
    services.request_password_reset("ada@example.org", locale="en")
    version = user.session_version
    assert services.deactivate_user(admin, user, reason="Left the group")
    db.session.commit()
    assert not user.is_active and user.session_version == version + 1
    assert db.session.scalars(select(AccountToken)).all() == []
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.deactivated")).one()
    assert (entry.actor_id, entry.subject_id, entry.reason) == (admin.id, user.id, "Left the group")
    assert services.deactivate_user(admin, user, reason="again") is False
    assert services.reactivate_user(admin, user, reason="Back") and user.is_active


def test_an_admin_cannot_deactivate_themself(ctx):
    admin = make_user(role="admin")
    make_user(role="admin")
    with pytest.raises(services.SelfDeactivation):
        services.deactivate_user(admin, admin, reason="oops")


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(ctx):
    admin = make_user(role="admin")
    other = make_user(role="admin")
    make_user(role="admin", is_active_account=False)
    assert services.change_role(admin, other, "organizer", reason="Steps back")
    with pytest.raises(services.LastAdmin):
        services.change_role(other, admin, "organizer")
    with pytest.raises(services.LastAdmin):
        services.deactivate_user(None, admin, reason="command line")
    assert services.change_role(admin, other, "admin")
    assert services.change_role(admin, admin, "organizer")
    assert audit_actions(other) == ["user.made_organizer", "user.made_admin"]


def test_create_admin_creates_or_promotes(ctx):
    user, created = services.create_admin("Root@Example.org", NEW_PASSWORD)
    assert created and user.is_admin and user.email_key == "root@example.org"
    organizer = make_user(email="org@example.org", is_active_account=False)
    version = organizer.session_version
    promoted, created = services.create_admin("ORG@example.org", NEW_PASSWORD)
    assert promoted is organizer and not created
    assert organizer.is_admin and organizer.is_active and organizer.session_version == version + 1
    assert services.authenticate("org@example.org", NEW_PASSWORD) is organizer
    with pytest.raises(services.WeakPassword):
        services.create_admin("third@example.org", "third@example.org")
    assert db.session.scalars(select(User).where(User.email_key == "third@example.org")).all() == []
