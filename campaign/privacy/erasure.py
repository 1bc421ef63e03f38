"""A supporter's right to be forgotten.

Erasing deletes the supporter and everything that names them: signatures (the
petitions' and demands' counts drop with the confirmed ones), RSVPs (their places
go to the waiting list), subscriptions, deliveries and the emails addressed to
them. What remains is an audit entry saying that an erasure happened — no name,
no address — and, when the address had been suppressed (a bounce or a complaint),
that suppression under a keyed hash of the address: should the same address come
back, the suppression is restored, so an erasure never undoes it.
"""

from sqlalchemy import delete, func, select

from campaign.accounts.audit import record
from campaign.db import utcnow
from campaign.events.models import Rsvp, RsvpStatus
from campaign.events.rsvps import places_freed
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from campaign.mailing.models import Delivery, Subscription, Suppression
from campaign.mailing.services import erased_suppression_key
from campaign.petitions.services import change_confirmed_count, change_demand_counts
from campaign.signatures.models import Signature, SignatureDemand, SignatureStatus


def erase_supporter(supporter, *, actor=None, now=None):
    """Erase ``supporter`` (see the module's docstring). Flushes; the caller commits, so
    the erasure is one transaction. Returns a dict of how many records of each kind went."""
    now = now or utcnow()
    erased = {}
    confirmed = select(Signature.id).where(Signature.supporter_id == supporter.id,
                                           Signature.status == SignatureStatus.CONFIRMED)
    for petition_id, count in db.session.execute(
            select(Signature.petition_id, func.count()).where(Signature.id.in_(confirmed))
            .group_by(Signature.petition_id)).all():
        change_confirmed_count(petition_id, -count)
    for demand_id, count in db.session.execute(
            select(SignatureDemand.demand_id, func.count())
            .where(SignatureDemand.signature_id.in_(confirmed))
            .group_by(SignatureDemand.demand_id)).all():
        change_demand_counts([demand_id], -count)
    erased["signatures"] = _delete(Signature, Signature.supporter_id == supporter.id)

    freed_events = db.session.scalars(
        select(Rsvp.event_id).where(Rsvp.supporter_id == supporter.id,
                                    Rsvp.status == RsvpStatus.CONFIRMED).distinct()).all()
    erased["rsvps"] = _delete(Rsvp, Rsvp.supporter_id == supporter.id)
    for event_id in freed_events:
        places_freed(event_id, now=now)

    erased["deliveries"] = _delete(Delivery, Delivery.supporter_id == supporter.id)
    erased["subscriptions"] = _delete(Subscription, Subscription.supporter_id == supporter.id)
    erased["emails"] = _delete(OutboundEmail,
                               func.lower(OutboundEmail.to_address) == supporter.email_key)
    suppression = db.session.scalars(
        select(Suppression).where(Suppression.email_key == supporter.email_key)).one_or_none()
    if suppression is not None:
        suppression.email_key = erased_suppression_key(supporter.email_key)
        suppression.detail = ""
    db.session.delete(supporter)
    record(actor, "supporter.erased", "supporter", 0,
           reason=", ".join(f"{kind}={count}" for kind, count in erased.items()))
    db.session.flush()
    return erased


def _delete(model, condition):
    return db.session.execute(
        delete(model).where(condition).execution_options(synchronize_session=False)).rowcount
