"""Signing a petition and confirming the signature by email (double opt-in)."""

import dataclasses
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import delete, exists, select

from campaign.api.webhooks import queue_webhooks
from campaign.db import dialect_insert, insert_ignoring_conflicts, prepared, utcnow
from campaign.errors import DomainError
from campaign.events.models import Rsvp
from campaign.extensions import db
from campaign.links import public_url
from campaign.mail.models import EmailStatus, OutboundEmail
from campaign.mail.services import queue_email
from campaign.mailing.models import Subscription
from campaign.mailing.services import record_consent
from campaign.petitions.services import change_confirmed_count, change_demand_counts
from campaign.security import hash_token, ip_hash, new_token
from campaign.signatures.models import Signature, SignatureDemand, SignatureStatus, Supporter


class PetitionClosed(DomainError):
    status_code = 409


class TokenInvalid(DomainError):
    """No pending or confirmed signature has this token (mistyped, forged, or discarded)."""

    status_code = 404


class TokenExpired(DomainError):
    status_code = 410

    def __init__(self, signature):
        super().__init__("confirmation link expired")
        self.signature = signature


@dataclasses.dataclass(frozen=True)
class SignerDetails:
    """What a visitor typed into the sign form, already cleaned and validated for shape."""

    first_name: str
    last_name: str
    email: str
    postal_code: str
    country: str
    comment: str = ""
    wants_updates: bool = False
    consent_wording: str = ""
    source: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    referrer_host: str = ""
    locale: str = "en"
    ip_address: str | None = None
    # The campaign's demands the signer backs, when the petition lets signers choose.
    demand_ids: tuple[int, ...] = ()


class SignOutcome(StrEnum):
    CREATED = "created"            # a new pending signature; confirmation email queued
    REMINDED = "reminded"          # still pending: a fresh confirmation link was sent
    ALREADY_SIGNED = "already_signed"  # confirmed before: the email says so
    THROTTLED = "throttled"        # an email went out moments ago: nothing more sent
    NOT_COUNTED = "not_counted"    # invalidated by organizers: nothing sent
    CONFIRMED = "confirmed"        # vouched for by an organizer: counted at once, nothing sent


def sign_petition(petition, details, *, now=None, vouched=False):
    """Record ``details`` as a pending signature of ``petition`` and queue its confirmation.

    ``petition`` is a :class:`~campaign.petitions.models.Petition` or the
    :class:`~campaign.petitions.services.SignablePetition` snapshot the sign
    action uses. The signature keeps the version of the text the signer saw and,
    when the petition lets signers choose, the demands they back (only the
    campaign's own; others are ignored). Never creates a second signature for
    the same person and petition. Whatever happened before, the caller shows
    the same "check your email" page, so the page never tells a stranger whether
    an address has signed; the email says so instead. Raises
    :class:`PetitionClosed`. Flushes; the caller commits.

    ``vouched``: an organizer vouches for the signer (through the API, as for paper
    signatures), so the signature is confirmed and counted at once and nothing is
    emailed; the outcome is then CONFIRMED, ALREADY_SIGNED or NOT_COUNTED.
    """
    now = now or utcnow()
    if not petition.is_open(now):
        raise PetitionClosed("petition closed")
    supporter_id = find_or_create_supporter_id(details.email, details.locale)
    token, token_hash = new_token()
    signature_id = insert_ignoring_conflicts(Signature, {
        "petition_id": petition.id, "supporter_id": supporter_id,
        "status": SignatureStatus.PENDING, "first_name": details.first_name,
        "last_name": details.last_name, "postal_code": details.postal_code,
        "country": details.country, "comment": details.comment,
        "wants_updates": details.wants_updates, "consent_wording": details.consent_wording,
        "source": details.source, "utm_source": details.utm_source,
        "utm_medium": details.utm_medium, "utm_campaign": details.utm_campaign,
        "referrer_host": details.referrer_host, "petition_version": petition.current_version,
        "locale": details.locale,
        "ip_hash": ip_hash(details.ip_address), "confirm_token_hash": token_hash,
        "token_issued_at": now, "last_emailed_at": now, "created_at": now, "updated_at": now,
    }, returning=Signature.id)
    if signature_id is not None:
        _record_demands(signature_id, _chosen_demand_ids(petition, details))
        if vouched:
            _count_as_confirmed(db.session.get(Signature, signature_id), now, by_link=False)
            return SignOutcome.CONFIRMED
        _queue_confirmation(petition, details.email, details.first_name, details.locale, token)
        return SignOutcome.CREATED

    signature = db.session.scalars(
        select(Signature).where(Signature.petition_id == petition.id,
                                Signature.supporter_id == supporter_id).with_for_update()
    ).one()
    if vouched:
        return _answer_repeat_vouched(petition, signature, details, now)
    return _answer_repeat_signature(petition, signature, details, now)


def _chosen_demand_ids(petition, details):
    if not petition.signers_choose_demands or not details.demand_ids:
        return ()
    offered = {demand.id for demand in petition.campaign.demands}
    return tuple(sorted(offered.intersection(details.demand_ids)))


def _record_demands(signature_id, demand_ids):
    if demand_ids:
        # One executemany of the prepared insert, in the signature's transaction.
        insert_ignoring_conflicts(SignatureDemand, [
            {"signature_id": signature_id, "demand_id": demand_id} for demand_id in demand_ids])


def find_or_create_supporter_id(email, locale):
    """The id of the supporter with this (normalised) address, created if new. Flushes."""
    email_key = email.lower()
    now = utcnow()
    values = {"email": email, "email_key": email_key, "locale": locale,
              "first_name": "", "last_name": "", "postal_code": "", "country": "",
              "created_at": now, "updated_at": now}

    def build():
        # One statement whether or not the supporter exists, race-free: the no-op
        # update makes RETURNING hand back the existing row's id too.
        statement = dialect_insert(Supporter)
        return statement.on_conflict_do_update(
            index_elements=["email_key"], set_={"email_key": statement.excluded.email_key}
        ).returning(statement.table.c.id)

    return db.session.execute(prepared("upsert-supporter", build), values).scalar_one()


def _answer_repeat_signature(petition, signature, details, now):
    interval = timedelta(seconds=current_app.config["RESEND_INTERVAL_SECONDS"])
    if signature.status == SignatureStatus.INVALIDATED:
        return SignOutcome.NOT_COUNTED
    if signature.last_emailed_at and now - signature.last_emailed_at < interval:
        # A double click, or a reload of the form: one email is enough.
        return SignOutcome.THROTTLED
    signature.last_emailed_at = now
    if signature.status == SignatureStatus.CONFIRMED:
        queue_email("already_signed", details.email, "already_signed", details.locale,
                    **_petition_context(petition), first_name=signature.first_name,
                    petition_url=public_url("petitions.show", slug=petition.slug))
        return SignOutcome.ALREADY_SIGNED
    # Still pending: the latest details win (the signer may have fixed a typo),
    # and only the newest link works.
    _replace_pending_details(petition, signature, details)
    token, signature.confirm_token_hash = new_token()
    signature.token_issued_at = now
    _queue_confirmation(petition, details.email, details.first_name, details.locale, token)
    return SignOutcome.REMINDED


def _answer_repeat_vouched(petition, signature, details, now):
    if signature.status == SignatureStatus.INVALIDATED:
        return SignOutcome.NOT_COUNTED
    if signature.status == SignatureStatus.CONFIRMED:
        return SignOutcome.ALREADY_SIGNED
    _replace_pending_details(petition, signature, details)
    _count_as_confirmed(signature, now, by_link=False)
    return SignOutcome.CONFIRMED


def _replace_pending_details(petition, signature, details):
    for field in ("first_name", "last_name", "postal_code", "country", "comment",
                  "wants_updates", "consent_wording", "source", "utm_source", "utm_medium",
                  "utm_campaign", "referrer_host", "locale"):
        setattr(signature, field, getattr(details, field))
    signature.petition_version = petition.current_version
    signature.ip_hash = ip_hash(details.ip_address)
    # The latest choice of demands replaces the earlier one.
    db.session.execute(delete(SignatureDemand).where(SignatureDemand.signature_id == signature.id))
    _record_demands(signature.id, _chosen_demand_ids(petition, details))


def _queue_confirmation(petition, email, first_name, locale, token):
    queue_email("signature_confirmation", email, "signature_confirmation", locale,
                **_petition_context(petition), first_name=first_name,
                confirm_url=public_url("signatures.confirm", token=token),
                discard_url=public_url("signatures.discard", token=token),
                hours=current_app.config["CONFIRM_TOKEN_HOURS"])


def _petition_context(petition):
    """What the emails show of a petition, as it reads when the signer signs."""
    return {"petition": {"title": petition.title, "target": petition.target},
            "campaign": {"title": petition.campaign.title}}


def find_signature_by_token(token):
    """The signature a confirmation link points to, or None. Does not check expiry."""
    if not token or len(token) > 100:
        return None
    return db.session.scalars(
        select(Signature).where(Signature.confirm_token_hash == hash_token(token))
    ).one_or_none()


def token_has_expired(signature, now):
    lifetime = timedelta(hours=current_app.config["CONFIRM_TOKEN_HOURS"])
    return signature.token_issued_at is None or now >= signature.token_issued_at + lifetime


def confirm_signature(token, *, now=None):
    """Confirm the signature behind ``token`` and count it, and count it for each
    demand the signer backs.

    Idempotent: confirming again returns the signature unchanged and counts
    nothing. Records mailing-list consent if the signer ticked the box. Raises
    :class:`TokenInvalid`, :class:`TokenExpired` or :class:`PetitionClosed`.
    Flushes; the caller commits.
    """
    now = now or utcnow()
    signature = db.session.scalars(
        select(Signature).where(Signature.confirm_token_hash == hash_token(token or ""))
        .with_for_update()
    ).one_or_none()
    if signature is None or signature.status == SignatureStatus.INVALIDATED:
        raise TokenInvalid("unknown confirmation link")
    if signature.status == SignatureStatus.CONFIRMED:
        return signature
    if token_has_expired(signature, now):
        raise TokenExpired(signature)
    if not signature.petition.is_open(now):
        raise PetitionClosed("petition closed")
    _count_as_confirmed(signature, now)
    return signature


def _count_as_confirmed(signature, now, *, by_link=True):
    """Confirm a pending signature, whoever vouches for it (the signer's link, or an
    organizer), and count it: the one place a signature becomes confirmed."""
    petition = signature.petition
    signature.status = SignatureStatus.CONFIRMED
    signature.confirmed_at = now
    supporter = signature.supporter
    # Only a confirmed address may change what the supporter's record says: an organizer
    # vouching for a signer (by_link False) only fills in what the record lacks.
    for field in ("first_name", "last_name", "postal_code", "country", "locale"):
        if by_link or not getattr(supporter, field):
            setattr(supporter, field, getattr(signature, field))
    change_signature_counts(signature, +1)
    if signature.wants_updates:
        record_consent(supporter, petition.campaign, signature.consent_wording,
                       source=f"petition:{petition.slug}", now=now)
    queue_webhooks("signature", signature, now=now)


def change_signature_counts(signature, delta):
    """Move every count a confirmed signature is part of by ``delta``: its petition's and
    those of the demands it backs. For confirming (+1) and for invalidating or
    restoring a confirmed signature (-1/+1). In the caller's transaction.
    """
    change_confirmed_count(signature.petition_id, delta)
    demand_ids = db.session.scalars(
        select(SignatureDemand.demand_id).where(SignatureDemand.signature_id == signature.id)).all()
    if demand_ids:
        change_demand_counts(demand_ids, delta)


def discard_pending_signature(token):
    """Delete the pending signature behind ``token`` ("this wasn't me").

    A confirmed signature is not touched. Removes the supporter too when
    nothing else of theirs remains. Returns True if something was discarded.
    The caller commits.
    """
    signature = db.session.scalars(
        select(Signature).where(Signature.confirm_token_hash == hash_token(token or ""))
        .with_for_update()
    ).one_or_none()
    if signature is None or signature.status != SignatureStatus.PENDING:
        return False
    supporter_id = signature.supporter_id
    db.session.delete(signature)
    db.session.flush()
    delete_supporters_without_records([supporter_id])
    return True


def reissue_confirmation(token, *, now=None):
    """Send a fresh link for the pending signature behind an expired ``token``.

    The new link goes to the address that signed, so asking reveals nothing.
    Raises :class:`TokenInvalid` when there is no pending signature to confirm,
    and :class:`PetitionClosed`. The caller commits.
    """
    now = now or utcnow()
    signature = db.session.scalars(
        select(Signature).where(Signature.confirm_token_hash == hash_token(token or ""))
        .with_for_update()
    ).one_or_none()
    if signature is None or signature.status != SignatureStatus.PENDING:
        raise TokenInvalid("nothing to confirm")
    petition = signature.petition
    if not petition.is_open(now):
        raise PetitionClosed("petition closed")
    interval = timedelta(seconds=current_app.config["RESEND_INTERVAL_SECONDS"])
    if signature.last_emailed_at and now - signature.last_emailed_at < interval:
        return signature
    new, signature.confirm_token_hash = new_token()
    signature.token_issued_at = now
    signature.last_emailed_at = now
    _queue_confirmation(petition, signature.supporter.email, signature.first_name,
                        signature.locale, new)
    return signature


def purge_expired_signatures(*, now=None):
    """Delete what is no longer needed: signatures never confirmed within the
    allowed days, supporters left with nothing, and old sent or failed emails.

    Idempotent; the caller commits. Returns how many signatures were deleted.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["PENDING_SIGNATURE_DAYS"])
    supporter_ids = db.session.scalars(
        select(Signature.supporter_id).where(Signature.status == SignatureStatus.PENDING,
                                             Signature.created_at < cutoff)
    ).all()
    deleted = db.session.execute(
        delete(Signature).where(Signature.status == SignatureStatus.PENDING,
                                Signature.created_at < cutoff)
    ).rowcount
    delete_supporters_without_records(supporter_ids)
    db.session.execute(
        delete(OutboundEmail).where(OutboundEmail.status != EmailStatus.PENDING,
                                    OutboundEmail.updated_at < cutoff))
    return deleted


def delete_supporters_without_records(supporter_ids):
    """Delete those of ``supporter_ids`` that no signature, subscription or RSVP names any
    more: an address kept for nothing. (RSVPs cascade with their supporter, so one with
    only an RSVP left must stay.)"""
    supporter_ids = {supporter_id for supporter_id in supporter_ids if supporter_id is not None}
    if not supporter_ids:
        return
    db.session.execute(
        delete(Supporter).where(
            Supporter.id.in_(supporter_ids),
            ~exists().where(Signature.supporter_id == Supporter.id),
            ~exists().where(Subscription.supporter_id == Supporter.id),
            ~exists().where(Rsvp.supporter_id == Supporter.id),
        ).execution_options(synchronize_session=False))
