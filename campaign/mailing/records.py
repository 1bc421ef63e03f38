"""The consent record as administrators read it: a supporter's subscriptions, with
exactly what they agreed to, and whether their address is suppressed."""

import dataclasses

from sqlalchemy import select

from campaign.campaigns.models import Campaign
from campaign.extensions import db
from campaign.mailing.models import Subscription, Suppression
from campaign.mailing.unsubscribe import email_key
from campaign.signatures.models import Supporter
from campaign.signatures.moderation import paginate

PER_PAGE = 50
MAX_QUERY_LENGTH = 320


@dataclasses.dataclass(frozen=True)
class SubscriberRecord:
    email: str
    supporter: Supporter | None      # None: a suppressed address no supporter has
    subscriptions: list              # [(Subscription, campaign title)], newest consent first
    suppression: Suppression | None  # also when it only counts soft bounces


def search_consent_records(query, page=1):
    """``(page, unmatched)``: a Page of :class:`SubscriberRecord` for the supporters whose
    address is ``query`` or starts with it (any case), ordered by address; and, for an
    exact address no supporter has, the record of its suppression (else None)."""
    key = email_key(query)[:MAX_QUERY_LENGTH]
    if not key:
        return None, None
    statement = (select(Supporter)
                 .where(Supporter.email_key.startswith(key, autoescape=True))
                 .order_by(Supporter.email_key))
    found = paginate(statement, page, per_page=PER_PAGE)
    supporters = found.items
    subscriptions = {supporter.id: [] for supporter in supporters}
    rows = db.session.execute(
        select(Subscription, Campaign.title).join(Campaign, Campaign.id == Subscription.campaign_id)
        .where(Subscription.supporter_id.in_(subscriptions))
        .order_by(Subscription.consent_at.desc(), Subscription.id.desc())) if supporters else []
    for subscription, title in rows:
        subscriptions[subscription.supporter_id].append((subscription, title))
    keys = [supporter.email_key for supporter in supporters]
    if key not in keys:
        keys.append(key)
    suppressions = {row.email_key: row for row in db.session.scalars(
        select(Suppression).where(Suppression.email_key.in_(keys)))}
    records = [SubscriberRecord(supporter.email, supporter, subscriptions[supporter.id],
                                suppressions.get(supporter.email_key))
               for supporter in supporters]
    unmatched = None
    if not any(supporter.email_key == key for supporter in supporters) and key in suppressions:
        unmatched = SubscriberRecord(key, None, [], suppressions[key])
    return dataclasses.replace(found, items=records), unmatched
