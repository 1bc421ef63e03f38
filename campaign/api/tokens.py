"""API tokens: making, revoking and checking them, and what each may act on.

A token acts as its owner, never as more: its campaigns are always read through
the owner's :func:`~campaign.accounts.access.visible_campaign_ids` at the time
of the request, so an owner who loses a campaign or is deactivated takes the
token's access with them. Only the SHA-256 hash of the secret is stored.
"""

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from campaign.accounts.access import visible_campaign_ids
from campaign.accounts.audit import record
from campaign.api.models import TOKEN_NAME_MAX, ApiToken, api_token_campaigns
from campaign.campaigns.models import Campaign
from campaign.db import utcnow
from campaign.errors import DomainError
from campaign.extensions import db
from campaign.security import hash_token
from campaign.text import clean_line, has_control_characters

TOKEN_PREFIX = "plc_"  # noqa: S105 - the start of every secret, not one
PREFIX_LENGTH = 10
# A real secret is 44 characters; anything much longer is not worth hashing.
SECRET_MAX_LENGTH = 200
# How stale ``last_used_at`` may get: the API writes at most this often per token.
USE_NOTE_INTERVAL = timedelta(minutes=5)


class ApiTokenError(DomainError):
    """A token the rules refuse to make; ``message`` tells the organizer why."""

    status_code = 422
    message = _l("This token could not be made.")


class TokenNameRequired(ApiTokenError):
    message = _l("Please give the token a name, such as the tool that will use it.")


class TokenNameInvalid(ApiTokenError):
    message = _l("Please keep the name under %(max)d characters, without invisible control "
                 "characters.", max=TOKEN_NAME_MAX)


class TokenScopeInvalid(ApiTokenError):
    message = _l("Please choose “all my campaigns” or at least one of the campaigns you organize.")


def new_api_secret():
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def _clean_name(name):
    name = clean_line(name)
    if not name:
        raise TokenNameRequired()
    if len(name) > TOKEN_NAME_MAX or has_control_characters(name):
        raise TokenNameInvalid()
    return name


def _chosen_campaigns(user, campaign_ids):
    """The campaigns named by ``campaign_ids``, all of which ``user`` must manage."""
    if isinstance(campaign_ids, str | bytes) or not hasattr(campaign_ids, "__iter__"):
        raise TokenScopeInvalid()
    wanted = set()
    for campaign_id in campaign_ids:
        if isinstance(campaign_id, bool) or not isinstance(campaign_id, int):
            raise TokenScopeInvalid()
        wanted.add(campaign_id)
    if not wanted:
        raise TokenScopeInvalid()
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.id.in_(wanted),
                               Campaign.id.in_(visible_campaign_ids(user)))).all()
    # Another organizer's campaign and one that does not exist get the same answer.
    if len(campaigns) != len(wanted):
        raise TokenScopeInvalid()
    return campaigns


def create_token(user, name, campaign_ids=None, *, now=None):
    """Make a token for ``user``; returns ``(token, secret)``.

    ``campaign_ids=None`` gives the token all of the owner's campaigns, now and
    later; otherwise it is limited to those ids, each of which the owner must
    manage. The secret is returned once and never stored. Raises an
    :class:`ApiTokenError` (nothing is added) for a bad name or scope. Flushes
    and audits; the caller commits.
    """
    name = _clean_name(name)
    campaigns = None if campaign_ids is None else _chosen_campaigns(user, campaign_ids)
    secret = new_api_secret()
    now = now or utcnow()
    token = ApiToken(user=user, name=name, token_hash=hash_token(secret),
                     prefix=secret[:PREFIX_LENGTH], all_campaigns=campaigns is None,
                     created_at=now, updated_at=now)
    if campaigns is not None:
        token.campaigns = campaigns
    db.session.add(token)
    db.session.flush()
    record(user, "api_token.create", "api_token", token.id, reason=name)
    return token, secret


def revoke_token(token, *, actor, now=None):
    """Revoke ``token`` for good. Idempotent: a second call changes nothing and
    audits nothing. Permission is the caller's to check. Flushes; the caller commits."""
    if token.revoked_at is not None:
        return token
    token.revoked_at = now or utcnow()
    db.session.flush()
    record(actor, "api_token.revoke", "api_token", token.id, reason=token.name)
    return token


def authenticate(secret):
    """The live token whose secret this is, or None (empty, oversized, unknown,
    revoked, or its owner's account is inactive). Every well-formed attempt costs
    one lookup by hash, whether or not it matches."""
    if not isinstance(secret, str) or not secret or len(secret) > SECRET_MAX_LENGTH:
        return None
    token = db.session.scalars(
        select(ApiToken).options(selectinload(ApiToken.user))
        .where(ApiToken.token_hash == hash_token(secret))).one_or_none()
    if token is None or token.is_revoked or token.user is None or not token.user.is_active:
        return None
    return token


def note_token_use(token, now=None):
    """Record that ``token`` was just used, at most once per ``USE_NOTE_INTERVAL``.

    Returns True if it wrote. The write is a single UPDATE guarded by the same
    condition, so concurrent requests write once between them; it is sent at
    once, and the caller commits.
    """
    now = now or utcnow()
    cutoff = now - USE_NOTE_INTERVAL
    if token.last_used_at is not None and token.last_used_at >= cutoff:
        return False
    table = ApiToken.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == token.id,
               or_(table.c.last_used_at.is_(None), table.c.last_used_at < cutoff))
        .values(last_used_at=now))
    db.session.flush()
    if result.rowcount:
        # The row already says so: keep the object in step without marking it dirty.
        set_committed_value(token, "last_used_at", now)
    return bool(result.rowcount)


def token_campaign_ids(token):
    """A select of the ids of the campaigns ``token`` may act on, for use in ``in_()``.

    Always within what its owner may manage today (every campaign for an
    administrator); narrowed to the token's own list unless ``all_campaigns``.
    """
    owners = visible_campaign_ids(token.user)
    if token.all_campaigns:
        return owners
    return (select(api_token_campaigns.c.campaign_id)
            .where(api_token_campaigns.c.token_id == token.id,
                   api_token_campaigns.c.campaign_id.in_(owners)))


def list_tokens(user):
    """``user``'s own tokens, revoked ones included, newest first."""
    return db.session.scalars(
        select(ApiToken).options(selectinload(ApiToken.campaigns))
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def list_all_tokens(*, include_revoked=False):
    """Every user's tokens (live ones only unless ``include_revoked``), newest
    first, with their owners: for administrators."""
    statement = (select(ApiToken)
                 .options(selectinload(ApiToken.user), selectinload(ApiToken.campaigns))
                 .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    if not include_revoked:
        statement = statement.where(ApiToken.revoked_at.is_(None))
    return db.session.scalars(statement).all()


def find_token_for(user, token_id):
    """Token ``token_id`` if ``user`` owns it or is an administrator, else None."""
    token = db.session.get(ApiToken, token_id)
    if token is None or not (user.is_admin or token.user_id == user.id):
        return None
    return token
