"""Organizer accounts: the first administrator, invitations, logging in, passwords, email
changes, and the administrators' decisions about users.

Every function here flushes and never commits: the view, command or test that
calls it owns the transaction. Emails go through the outbox, so they leave only
if that transaction commits. Links sent by email carry a random token whose
hash alone is stored (:class:`AccountToken`); each purpose has at most one
working link per user, the newest.
"""

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from campaign.accounts import audit
from campaign.accounts.models import AccountToken, TokenPurpose, User, UserRole
from campaign.accounts.passwords import hash_password, needs_rehash, password_problems, verify_password
from campaign.db import utcnow
from campaign.errors import DomainError
from campaign.extensions import db
from campaign.mail.services import queue_email
from campaign.security import hash_token, new_token

INVITATION_DAYS = 7
PASSWORD_RESET_HOURS = 2
EMAIL_CHANGE_HOURS = 24


class AccountError(DomainError):
    """A rule about accounts said no. ``message`` is fit to show to the person acting."""

    message = _l("This could not be done.")

    def __init__(self):
        # Kept lazy: services also run outside requests (commands, jobs), where
        # there is no visitor language to translate into until it is shown.
        super().__init__(self.message)


class InvalidEmail(AccountError):
    status_code = 422
    message = _l("This email address is not valid.")


class EmailTaken(AccountError):
    status_code = 409
    message = _l("This email address already belongs to an account.")


class SameEmail(AccountError):
    status_code = 422
    message = _l("This is already your email address.")


class WrongPassword(AccountError):
    status_code = 403
    message = _l("Your current password is not correct.")


class WeakPassword(AccountError):
    status_code = 422
    message = _l("Please choose a stronger password.")

    def __init__(self, problems):
        super().__init__()
        self.problems = problems


class SelfDeactivation(AccountError):
    status_code = 409
    message = _l("You cannot deactivate your own account. Ask another administrator.")


class LastAdmin(AccountError):
    status_code = 409
    message = _l("This is the last active administrator. Make someone else an administrator first.")


class AccountTokenError(AccountError):
    """A link from an email that cannot be used; ``kind`` names why, for its page."""

    kind = "invalid"


class TokenInvalid(AccountTokenError):
    status_code = 404
    kind = "invalid"
    message = _l("This link does not work.")


class TokenUsed(AccountTokenError):
    status_code = 410
    kind = "used"
    message = _l("This link has already been used.")


class TokenExpired(AccountTokenError):
    status_code = 410
    kind = "expired"
    message = _l("This link has expired.")


# Addresses --------------------------------------------------------------------


def normalize_email(address):
    """The address as we store it (email-validator's normal form, no DNS look-up).

    Raises :class:`InvalidEmail`. Its lower-cased form is the unique ``email_key``.
    """
    try:
        return validate_email((address or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidEmail() from None


def find_user_by_email(address):
    """The account with this address (in any case), or None; None too for a malformed address."""
    try:
        key = normalize_email(address).lower()
    except InvalidEmail:
        return None
    return _user_by_key(key)


def _user_by_key(key, lock=False):
    statement = select(User).where(User.email_key == key)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalars(statement).one_or_none()


def _claim_email(user, address):
    """Give ``user`` the address ``address``, or raise :class:`EmailTaken`.

    Checking first would leave a window for a concurrent request to take the
    address; the unique key is the real arbiter, and the savepoint keeps the
    caller's transaction usable when it says no.
    """
    try:
        with db.session.begin_nested():
            user.email, user.email_key = address, address.lower()
            db.session.add(user)
    except IntegrityError:
        raise EmailTaken() from None


def require_strong_password(password, email):
    """Raise :class:`WeakPassword` with the policy's reasons if ``password`` breaks it."""
    problems = password_problems(password, email)
    if problems:
        raise WeakPassword(problems)


# Links sent by email ----------------------------------------------------------


def _issue_token(user, purpose, lifetime, now, new_email=""):
    _discard_unused_tokens(user, purpose)
    token, token_hash = new_token()
    db.session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=token_hash,
                                expires_at=now + lifetime, new_email=new_email))
    db.session.flush()
    return token


def _discard_unused_tokens(user, *purposes):
    # Only the newest link of a purpose works. Used tokens stay, so that their
    # link can still say "already used" rather than "does not work".
    statement = delete(AccountToken).where(AccountToken.user_id == user.id,
                                           AccountToken.used_at.is_(None))
    if purposes:
        statement = statement.where(AccountToken.purpose.in_(purposes))
    # A token marked used in this transaction must be written first, or it would go too.
    db.session.flush()
    db.session.execute(statement.execution_options(synchronize_session=False))


def check_account_token(token, purpose, *, now=None, lock=False):
    """The :class:`AccountToken` behind a link, if the link may still be used.

    Raises :class:`TokenInvalid` (unknown, replaced by a newer link, or the
    account is deactivated), :class:`TokenUsed` or :class:`TokenExpired`.
    Changes nothing.
    """
    now = now or utcnow()
    found = None
    if token and len(token) <= 100:
        statement = select(AccountToken).where(AccountToken.token_hash == hash_token(token),
                                               AccountToken.purpose == purpose)
        if lock:
            statement = statement.with_for_update()
        found = db.session.scalars(statement).one_or_none()
    if found is None or not found.user.is_active_account:
        raise TokenInvalid()
    if found.used_at is not None:
        raise TokenUsed()
    if now >= found.expires_at:
        raise TokenExpired()
    return found


def _public_url(endpoint, **values):
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


# The first administrator ------------------------------------------------------


def create_admin(email, password):
    """Create an administrator, or make the account with this address one.

    Either way the account is active afterwards and ``password`` becomes its
    password; an existing account's other sessions end. Returns
    ``(user, created)``. Raises :class:`InvalidEmail` or :class:`WeakPassword`.
    Flushes; the caller commits.
    """
    address = normalize_email(email)
    require_strong_password(password, address)
    user = _user_by_key(address.lower(), lock=True)
    created = user is None
    if created:
        user = User(name="", role=UserRole.ADMIN, password_hash=hash_password(password),
                    session_version=1)
        _claim_email(user, address)
    else:
        user.role = UserRole.ADMIN
        user.is_active_account = True
        user.password_hash = hash_password(password)
        user.session_version += 1
    # A pending invitation has nothing left to do.
    _discard_unused_tokens(user, TokenPurpose.INVITATION)
    db.session.flush()
    audit.record(None, "user.created_admin" if created else "user.made_admin", "user", user.id,
                 reason="flask create-admin")
    return user, created


# Invitations ------------------------------------------------------------------


def invite_user(actor, email, role, *, locale, now=None):
    """Invite ``email`` to join as ``role``, or send a pending invitee a fresh link.

    The account exists from now on, without a password, so it cannot log in
    until the invitee sets one; an earlier invitation link stops working.
    Raises :class:`InvalidEmail`, or :class:`EmailTaken` if the address belongs
    to an account that has a password or is deactivated. Flushes; the caller commits.
    """
    now = now or utcnow()
    role = UserRole(role)
    address = normalize_email(email)
    user = _user_by_key(address.lower(), lock=True)
    if user is None:
        user = User(name="", role=role, password_hash="", session_version=1)
        _claim_email(user, address)
        action = "user.invited"
    elif user.password_hash or not user.is_active_account:
        raise EmailTaken()
    else:
        user.role = role
        action = "user.invited_again"
    token = _issue_token(user, TokenPurpose.INVITATION, timedelta(days=INVITATION_DAYS), now)
    queue_email("invitation", user.email, "invitation", locale,
                inviter=(actor.name or actor.email) if actor is not None else "",
                role=str(role), accept_url=_public_url("accounts.accept_invitation", token=token),
                days=INVITATION_DAYS)
    audit.record(actor, action, "user", user.id)
    return user


def accept_invitation(token, name, password, *, now=None):
    """Set the invitee's name and password; the invitation link is then used up.

    Raises :class:`TokenInvalid`, :class:`TokenUsed`, :class:`TokenExpired` or
    :class:`WeakPassword` (the link stays usable). Flushes; the caller commits.
    """
    now = now or utcnow()
    account_token = check_account_token(token, TokenPurpose.INVITATION, now=now, lock=True)
    user = account_token.user
    if user.password_hash:
        raise TokenUsed()
    require_strong_password(password, user.email)
    user.name = name
    user.password_hash = hash_password(password)
    account_token.used_at = now
    db.session.flush()
    audit.record(user, "user.joined", "user", user.id)
    return user


# Logging in and passwords -----------------------------------------------------


def authenticate(email, password, *, now=None):
    """The active account with this address and password, or None.

    Takes about as long whether the address is unknown, the password wrong or
    the account deactivated, so the timing does not tell which. On success
    records the login time and upgrades an outdated hash. Flushes; the caller commits.
    """
    user = find_user_by_email(email)
    password_hash = user.password_hash if user is not None else ""
    if not verify_password(password_hash, password or "") or not user.is_active:
        return None
    if needs_rehash(password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now or utcnow()
    db.session.flush()
    return user


def request_password_reset(email, *, locale, now=None):
    """Email a password-reset link if an active account with a password has this address.

    Returns whether an email was queued. The caller must answer the same either
    way, so that the answer never tells whether an address has an account. An
    earlier reset link stops working. Flushes; the caller commits.
    """
    now = now or utcnow()
    user = find_user_by_email(email)
    if user is None or not user.is_active_account or not user.password_hash:
        return False
    token = _issue_token(user, TokenPurpose.PASSWORD_RESET, timedelta(hours=PASSWORD_RESET_HOURS),
                         now)
    queue_email("password_reset", user.email, "password_reset", locale,
                reset_url=_public_url("accounts.reset_password", token=token),
                hours=PASSWORD_RESET_HOURS)
    return True


def _set_password(user, password):
    user.password_hash = hash_password(password)
    # Every session opened with the old password ends at its next request.
    user.session_version += 1
    _discard_unused_tokens(user, TokenPurpose.PASSWORD_RESET)


def reset_password(token, password, *, now=None):
    """Set a new password through a reset link and end every session of the account.

    Raises :class:`TokenInvalid`, :class:`TokenUsed`, :class:`TokenExpired` or
    :class:`WeakPassword` (the link stays usable). Flushes; the caller commits.
    """
    now = now or utcnow()
    account_token = check_account_token(token, TokenPurpose.PASSWORD_RESET, now=now, lock=True)
    user = account_token.user
    require_strong_password(password, user.email)
    account_token.used_at = now
    _set_password(user, password)
    db.session.flush()
    audit.record(user, "user.password_reset", "user", user.id)
    return user


def change_password(user, current_password, new_password):
    """Replace ``user``'s password, given the current one, and end all their sessions.

    The caller logs the person back in if the current session should go on.
    Raises :class:`WrongPassword` or :class:`WeakPassword`. Flushes; the caller commits.
    """
    if not verify_password(user.password_hash, current_password or ""):
        raise WrongPassword()
    require_strong_password(new_password, user.email)
    _set_password(user, new_password)
    db.session.flush()
    audit.record(user, "user.password_changed", "user", user.id)


# Email changes ----------------------------------------------------------------


def request_email_change(user, current_password, new_email, *, locale, now=None):
    """Send a confirmation link to ``new_email``; the address changes only when it is opened.

    Returns the normalised new address. An earlier change link stops working.
    Raises :class:`WrongPassword`, :class:`InvalidEmail`, :class:`SameEmail`
    or :class:`EmailTaken`. Flushes; the caller commits.
    """
    now = now or utcnow()
    if not verify_password(user.password_hash, current_password or ""):
        raise WrongPassword()
    address = normalize_email(new_email)
    if address.lower() == user.email_key:
        raise SameEmail()
    if _user_by_key(address.lower()) is not None:
        raise EmailTaken()
    token = _issue_token(user, TokenPurpose.EMAIL_CHANGE, timedelta(hours=EMAIL_CHANGE_HOURS),
                         now, new_email=address)
    queue_email("email_change", address, "email_change/confirm", locale,
                old_email=user.email, new_email=address,
                confirm_url=_public_url("accounts.confirm_email_change", token=token),
                hours=EMAIL_CHANGE_HOURS)
    return address


def confirm_email_change(token, *, locale, now=None):
    """Apply the email change behind ``token`` and tell the old address about it.

    Raises :class:`TokenInvalid`, :class:`TokenUsed`, :class:`TokenExpired` or
    :class:`EmailTaken` (another account took the address meanwhile).
    Flushes; the caller commits.
    """
    now = now or utcnow()
    account_token = check_account_token(token, TokenPurpose.EMAIL_CHANGE, now=now, lock=True)
    user = account_token.user
    old_email = user.email
    _claim_email(user, account_token.new_email)
    account_token.used_at = now
    db.session.flush()
    # The old address hears of it, in case someone else holds the account now.
    queue_email("email_change_notice", old_email, "email_change/notice", locale,
                old_email=old_email, new_email=user.email)
    audit.record(user, "user.email_changed", "user", user.id)
    return user


# Administrators' decisions ----------------------------------------------------


def list_users():
    return db.session.scalars(select(User).order_by(User.email_key)).all()


def _require_another_active_admin(user):
    # Locks every active admin in id order, so two admins demoting each other
    # at once queue up instead of both seeing the other one still there.
    admins = db.session.scalars(
        select(User).where(User.role == UserRole.ADMIN, User.is_active_account.is_(True))
        .order_by(User.id).with_for_update()
    ).all()
    if not any(admin.id != user.id for admin in admins):
        raise LastAdmin()


def deactivate_user(actor, user, *, reason):
    """Deactivate ``user``: their sessions end at their next request and their links stop working.

    Returns False if the account was already inactive (nothing changes).
    Raises :class:`SelfDeactivation` or :class:`LastAdmin`. Flushes; the caller commits.
    """
    if actor is not None and actor.id == user.id:
        raise SelfDeactivation()
    if not user.is_active_account:
        return False
    if user.is_admin:
        _require_another_active_admin(user)
    user.is_active_account = False
    user.session_version += 1
    _discard_unused_tokens(user)
    db.session.flush()
    audit.record(actor, "user.deactivated", "user", user.id, reason=reason)
    return True


def reactivate_user(actor, user, *, reason=""):
    """Let ``user`` log in again (with their old password). Returns False if already active.

    A pending invitee needs a new invitation: their old link was discarded.
    Flushes; the caller commits.
    """
    if user.is_active_account:
        return False
    user.is_active_account = True
    db.session.flush()
    audit.record(actor, "user.reactivated", "user", user.id, reason=reason)
    return True


def change_role(actor, user, role, *, reason=""):
    """Make ``user`` an administrator or an organizer. Returns False if the role is unchanged.

    Raises :class:`LastAdmin` rather than leave no active administrator.
    Flushes; the caller commits.
    """
    role = UserRole(role)
    if user.role == role:
        return False
    if user.is_admin and user.is_active_account:
        _require_another_active_admin(user)
    user.role = role
    db.session.flush()
    audit.record(actor, f"user.made_{role}", "user", user.id, reason=reason)
    return True
