"""Mailing-list membership and the record of consent behind it."""

from sqlalchemy import select

from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus


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
        subscription = Subscription(supporter_id=supporter.id, campaign_id=campaign.id)
        db.session.add(subscription)
    subscription.status = SubscriptionStatus.SUBSCRIBED
    subscription.consent_wording = wording
    subscription.consent_source = source
    subscription.consent_at = now
    subscription.unsubscribed_at = None
    return subscription
