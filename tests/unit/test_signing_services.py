from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaign.campaigns.models import CampaignStatus
from campaign.db import utcnow
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from campaign.mailing.models import Subscription
from campaign.petitions.models import PetitionStatus
from campaign.petitions.services import confirmed_counts, recount_signatures
from campaign.signatures.models import Signature, SignatureStatus, Supporter
from campaign.signatures.services import (
    PetitionClosed,
    SignOutcome,
    TokenExpired,
    TokenInvalid,
    confirm_signature,
    discard_pending_signature,
    purge_expired_signatures,
    reissue_confirmation,
    sign_petition,
)
from tests.conftest import Outbox
from tests.factories import make_campaign, make_petition, signer


def _token_from_last_email(app, address):
    messages = Outbox(app).to(address)
    assert messages, f"no email to {address}"
    return Outbox.link(messages[-1]).rsplit("/", 1)[1]


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_signing_creates_a_pending_signature_and_its_confirmation_email(ctx):
    petition = make_petition()
    details = signer(email="Ada.Lovelace@Example.ORG")

    assert sign_petition(petition, details) == SignOutcome.CREATED
    db.session.commit()

    signature = db.session.scalars(select(Signature)).one()
    assert signature.status == SignatureStatus.PENDING
    assert signature.supporter.email_key == "ada.lovelace@example.org"
    assert signature.ip_hash and "127.0.0.1" not in signature.ip_hash
    [message] = Outbox(ctx).to("Ada.Lovelace@Example.ORG")
    text = Outbox.text(message)
    assert petition.title in message["Subject"]
    assert petition.campaign.title in text and petition.target in text
    assert "/confirm/" in text and "/discard" in text
    assert message.get_body(("html",)) is not None
    assert message["Message-ID"]


def test_the_email_sent_is_marked_sent_in_the_outbox(ctx):
    sign_petition(make_petition(), signer())
    db.session.commit()
    assert db.session.scalars(select(OutboundEmail.status)).one() == "sent"


def test_second_signature_with_same_email_creates_nothing(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="twice@example.org"))
    db.session.commit()

    outcome = sign_petition(petition, signer(email="TWICE@example.org"))
    db.session.commit()

    assert outcome == SignOutcome.THROTTLED
    assert _count(Signature) == 1 and _count(Supporter) == 1
    assert len(Outbox(ctx).to("twice@example.org")) == 1


def test_signing_again_later_while_pending_sends_a_new_link_and_retires_the_old(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="later@example.org"), now=utcnow() - timedelta(hours=1))
    db.session.commit()
    old_token = _token_from_last_email(ctx, "later@example.org")

    outcome = sign_petition(petition, signer(email="later@example.org", first_name="Grace"))
    db.session.commit()

    assert outcome == SignOutcome.REMINDED
    new_token = _token_from_last_email(ctx, "later@example.org")
    assert new_token != old_token
    with pytest.raises(TokenInvalid):
        confirm_signature(old_token)
    assert confirm_signature(new_token).first_name == "Grace"


def test_signing_again_after_confirming_sends_an_already_signed_email(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="done@example.org"), now=utcnow() - timedelta(hours=1))
    db.session.commit()
    confirm_signature(_token_from_last_email(ctx, "done@example.org"))
    db.session.commit()

    outcome = sign_petition(petition, signer(email="done@example.org"))
    db.session.commit()

    assert outcome == SignOutcome.ALREADY_SIGNED
    assert _count(Signature) == 1
    assert "already" in Outbox(ctx).to("done@example.org")[-1]["Subject"]
    assert confirmed_counts([petition.id])[petition.id] == 1


def test_one_supporter_may_sign_several_petitions(ctx):
    first, second = make_petition(), make_petition()
    sign_petition(first, signer(email="both@example.org"))
    sign_petition(second, signer(email="both@example.org"))
    db.session.commit()
    assert _count(Signature) == 2 and _count(Supporter) == 1


@pytest.mark.parametrize("change", [
    {"status": PetitionStatus.CLOSED},
    {"deadline_at": utcnow() - timedelta(minutes=1)},
])
def test_a_closed_petition_takes_no_signature(ctx, change):
    petition = make_petition(**change)
    with pytest.raises(PetitionClosed):
        sign_petition(petition, signer())


@pytest.mark.parametrize("status", [CampaignStatus.DRAFT, CampaignStatus.ARCHIVED])
def test_a_petition_of_an_unpublished_campaign_takes_no_signature(ctx, status):
    petition = make_petition(campaign=make_campaign(status=status))
    with pytest.raises(PetitionClosed):
        sign_petition(petition, signer())


def test_confirming_counts_the_signature_once(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="count@example.org"))
    db.session.commit()
    token = _token_from_last_email(ctx, "count@example.org")

    confirm_signature(token)
    db.session.commit()
    confirm_signature(token)
    db.session.commit()

    assert confirmed_counts([petition.id])[petition.id] == 1
    supporter = db.session.scalars(select(Supporter)).one()
    assert (supporter.first_name, supporter.country) == ("Ada", "CA")


def test_an_unconfirmed_signature_does_not_change_the_supporters_record(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="owner@example.org", first_name="Owner"))
    db.session.commit()
    confirm_signature(_token_from_last_email(ctx, "owner@example.org"))
    db.session.commit()

    # A stranger types the owner's address into another petition's form.
    sign_petition(make_petition(), signer(email="owner@example.org", first_name="Stranger"))
    db.session.commit()

    assert db.session.scalars(select(Supporter.first_name)).one() == "Owner"


def test_an_expired_link_is_refused_and_a_new_one_can_be_sent(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="slow@example.org"), now=utcnow() - timedelta(days=4))
    db.session.commit()
    token = _token_from_last_email(ctx, "slow@example.org")

    with pytest.raises(TokenExpired):
        confirm_signature(token)
    reissue_confirmation(token)
    db.session.commit()

    fresh = _token_from_last_email(ctx, "slow@example.org")
    assert fresh != token
    confirm_signature(fresh)
    db.session.commit()
    assert confirmed_counts([petition.id])[petition.id] == 1


@pytest.mark.parametrize("token", ["", "x", "a" * 43, "a" * 5000, "../../etc/passwd", "\x00"])
def test_a_forged_link_is_refused(ctx, token):
    with pytest.raises(TokenInvalid):
        confirm_signature(token)


def test_consent_is_recorded_only_when_ticked_with_its_wording(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="yes@example.org", wants_updates=True,
                                   consent_wording="Keep me informed about this campaign"))
    sign_petition(petition, signer(email="no@example.org"))
    db.session.commit()
    for address in ("yes@example.org", "no@example.org"):
        confirm_signature(_token_from_last_email(ctx, address))
    db.session.commit()

    subscription = db.session.scalars(select(Subscription)).one()
    assert subscription.supporter.email == "yes@example.org"
    assert subscription.consent_wording == "Keep me informed about this campaign"
    assert subscription.consent_source == f"petition:{petition.slug}"
    assert subscription.consent_at is not None


def test_no_consent_is_recorded_before_confirmation(ctx):
    sign_petition(make_petition(), signer(wants_updates=True, consent_wording="yes"))
    db.session.commit()
    assert _count(Subscription) == 0


def test_discarding_removes_the_pending_signature_and_the_supporter(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="notme@example.org"))
    db.session.commit()

    assert discard_pending_signature(_token_from_last_email(ctx, "notme@example.org"))
    db.session.commit()

    assert _count(Signature) == 0 and _count(Supporter) == 0


def test_discarding_leaves_a_confirmed_signature_alone(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="kept@example.org"))
    db.session.commit()
    token = _token_from_last_email(ctx, "kept@example.org")
    confirm_signature(token)
    db.session.commit()

    assert not discard_pending_signature(token)
    assert confirmed_counts([petition.id])[petition.id] == 1


def test_purge_deletes_only_old_unconfirmed_signatures(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="old@example.org"), now=utcnow() - timedelta(days=40))
    sign_petition(petition, signer(email="new@example.org"))
    db.session.commit()

    assert purge_expired_signatures() == 1
    db.session.commit()
    assert db.session.scalars(select(Supporter.email)).all() == ["new@example.org"]


def test_recount_repairs_a_count_changed_behind_the_services_back(ctx):
    petition = make_petition()
    sign_petition(petition, signer(email="a@example.org"))
    db.session.commit()
    confirm_signature(_token_from_last_email(ctx, "a@example.org"))
    db.session.commit()
    db.session.execute(Signature.__table__.update().values(status="invalidated"))
    db.session.commit()

    assert recount_signatures() == 1
    db.session.commit()
    assert confirmed_counts([petition.id])[petition.id] == 0
    assert recount_signatures() == 0
