"""Mailing-list membership and the record of consent behind it."""

from sqlalchemy import select

from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus, Suppression
from campaign.security import keyed_hash

ERASED_KEY_PREFIX = "erased:"


def record_consent(supporter, campaign, wording, source, now):
    """Put ``supporter`` on ``campaign``'s list, keeping exactly what they agreed to.

    Called once the supporter has confirmed their address (double opt-in).
    A renewed consent replaces the older record and re-subscribes. The caller commits.
    """
    subscription = db.session.scalars(
        select(Subscription).where(Subscription.supporter_id == supporter.id,
                                   Subscription.campaign_id == campaign.id)
    ).one_or_none()
    if subscription is None:
        # A new list for this person: maybe an erased one coming back, whose bounce or
        # complaint must still hold.
        restore_erased_suppression(supporter.email_key)
        subscription = Subscription(supporter_id=supporter.id, campaign_id=campaign.id)
        db.session.add(subscription)
    subscription.status = SubscriptionStatus.SUBSCRIBED
    subscription.consent_wording = wording
    subscription.consent_source = source
    subscription.consent_at = now
    subscription.unsubscribed_at = None
    return subscription


def erased_suppression_key(email_key):
    """What an erased address's suppression is filed under (campaign.privacy.erasure):
    never equal to a real key (those hold an "@"), and not the address."""
    return ERASED_KEY_PREFIX + keyed_hash(email_key, "erased-suppression")


def restore_erased_suppression(email_key):
    """The address is back: file its suppression, if an erasure had hashed one, under the
    address again so that it still holds. Flushes."""
    suppression = db.session.scalars(
        select(Suppression).where(Suppression.email_key == erased_suppression_key(email_key))
    ).one_or_none()
    if suppression is not None:
        suppression.email_key = email_key
        db.session.flush()
    return suppression
