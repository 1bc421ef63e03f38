"""Who a mailing goes to: the campaign's subscribers, optionally narrowed.

The audience is a plain dict stored on the mailing, so the count shown while
composing and the deliveries frozen at send time come from the same query.
"""

import dataclasses

from sqlalchemy import func, select

from campaign.events.models import ACTIVE_RSVP_STATUSES, Rsvp
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.mailing.unsubscribe import suppressed_email_keys
from campaign.signatures.models import Signature, SignatureStatus, Supporter


@dataclasses.dataclass(frozen=True)
class Audience:
    """A narrowing of a campaign's subscribers; empty fields narrow nothing."""

    petition_id: int | None = None   # confirmed signers of this petition
    event_id: int | None = None      # attendees of this event with a place or waiting
    country: str = ""                # ISO 3166 code, as signers gave it
    postal_prefix: str = ""          # e.g. "M5V": the start of the postal code, any spacing

    @classmethod
    def from_dict(cls, values):
        values = values or {}
        return cls(petition_id=values.get("petition_id"), event_id=values.get("event_id"),
                   country=values.get("country", ""), postal_prefix=values.get("postal_prefix", ""))

    def to_dict(self):
        return {key: value for key, value in dataclasses.asdict(self).items() if value}


def _compact_postal(column):
    return func.upper(func.replace(column, " ", ""))


def audience_query(campaign_id, audience):
    """A select of (subscription id, supporter id) for everyone ``audience`` reaches now:
    subscribed to the campaign, not suppressed, and matching every narrowing."""
    query = (select(Subscription.id, Subscription.supporter_id)
             .join(Supporter, Supporter.id == Subscription.supporter_id)
             .where(Subscription.campaign_id == campaign_id,
                    Subscription.status == SubscriptionStatus.SUBSCRIBED,
                    Supporter.email_key.not_in(suppressed_email_keys())))
    if audience.petition_id:
        query = query.where(select(Signature.id).where(
            Signature.supporter_id == Subscription.supporter_id,
            Signature.petition_id == audience.petition_id,
            Signature.status == SignatureStatus.CONFIRMED).exists())
    if audience.event_id:
        query = query.where(select(Rsvp.id).where(
            Rsvp.supporter_id == Subscription.supporter_id, Rsvp.event_id == audience.event_id,
            Rsvp.status.in_(ACTIVE_RSVP_STATUSES)).exists())
    if audience.country:
        query = query.where(Supporter.country == audience.country.upper())
    if audience.postal_prefix:
        prefix = audience.postal_prefix.replace(" ", "").upper()
        query = query.where(_compact_postal(Supporter.postal_code).startswith(prefix, autoescape=True))
    return query


def count_audience(campaign_id, audience):
    return db.session.scalar(
        select(func.count()).select_from(audience_query(campaign_id, audience).subquery()))
