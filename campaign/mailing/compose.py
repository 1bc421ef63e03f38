"""Organizers writing a mailing: draft, test, schedule or send, pause and resume.

Functions here flush and never commit; the view that calls them commits once.
Lookups that take an id from a request go through campaign.accounts.access first.
"""

import dataclasses

from sqlalchemy import select

from campaign.db import utcnow
from campaign.extensions import db
from campaign.mail.services import queue_email
from campaign.mailing.audience import Audience, count_audience
from campaign.mailing.models import Mailing, MailingStatus
from campaign.mailing.render import Recipient, preview
from campaign.mailing.sending import MailingStateError, start_mailing

# Statuses in which a mailing may still be edited: nothing has been sent.
EDITABLE_STATUSES = (MailingStatus.DRAFT, MailingStatus.SCHEDULED)


@dataclasses.dataclass(frozen=True)
class MailingDetails:
    """What an organizer typed into the compose form, checked for shape."""

    subject: str
    body: str
    audience: Audience = dataclasses.field(default_factory=Audience)
    reply_to: str = ""
    sender_name: str = ""


def _apply(mailing, details):
    mailing.subject = details.subject
    mailing.body = details.body
    mailing.audience = details.audience.to_dict()
    mailing.reply_to = details.reply_to
    mailing.sender_name = details.sender_name


def create_mailing(campaign, details, *, author):
    """A new draft to ``campaign``'s list (already access-checked). Flushes."""
    mailing = Mailing(campaign=campaign, author=author, status=MailingStatus.DRAFT)
    _apply(mailing, details)
    db.session.add(mailing)
    db.session.flush()
    return mailing


def update_mailing(mailing, details):
    if mailing.status not in EDITABLE_STATUSES:
        raise MailingStateError(f"mailing is {mailing.status}")
    _apply(mailing, details)
    db.session.flush()
    return mailing


def audience_size(mailing_or_campaign_id, audience=None):
    """How many people the audience holds right now (what sending would freeze)."""
    if isinstance(mailing_or_campaign_id, Mailing):
        mailing = mailing_or_campaign_id
        return count_audience(mailing.campaign_id, Audience.from_dict(mailing.audience))
    return count_audience(mailing_or_campaign_id, audience or Audience())


def schedule_mailing(mailing, send_at, timezone_name, *, now=None):
    """Send at ``send_at`` (aware; shown back in ``timezone_name``). Must be in the future."""
    now = now or utcnow()
    if mailing.status not in EDITABLE_STATUSES:
        raise MailingStateError(f"mailing is {mailing.status}")
    if send_at <= now:
        raise MailingStateError("the time to send has passed")
    mailing.status = MailingStatus.SCHEDULED
    mailing.scheduled_at = send_at
    mailing.scheduled_timezone = timezone_name
    db.session.flush()


def unschedule_mailing(mailing):
    """Back to a draft."""
    if mailing.status != MailingStatus.SCHEDULED:
        raise MailingStateError(f"mailing is {mailing.status}")
    mailing.status = MailingStatus.DRAFT
    mailing.scheduled_at = None
    db.session.flush()


def send_mailing_now(mailing, *, now=None):
    """Freeze the audience and start sending; returns the number of recipients."""
    return start_mailing(mailing, now=now)


def cancel_mailing(mailing):
    """Drop a draft or scheduled mailing (it stays listed, marked cancelled)."""
    if mailing.status not in EDITABLE_STATUSES:
        raise MailingStateError(f"mailing is {mailing.status}")
    mailing.status = MailingStatus.CANCELLED
    db.session.flush()


def send_test(mailing, *, to_address, first_name, last_name="", locale="en"):
    """Send the mailing as it stands to one address (the organizer's own), marked as a test,
    through the outbox like any transactional email. Its unsubscribe link is inert."""
    recipient = Recipient(delivery_id=0, subscription_id=0, email=to_address,
                          first_name=first_name, last_name=last_name, locale=locale)
    subject, text, html = preview(mailing, locale, recipient)
    return queue_email("mailing_test", to_address, "mailing_test", locale,
                       subject=subject, text=text, html=str(html))


def list_campaign_mailings(campaign):
    """A campaign's mailings, newest first."""
    return db.session.scalars(
        select(Mailing).where(Mailing.campaign_id == campaign.id)
        .order_by(Mailing.created_at.desc(), Mailing.id.desc())).all()


def scheduled_local_time(mailing):
    """When a scheduled mailing goes, in the zone its organizer chose."""
    from zoneinfo import ZoneInfo

    if mailing.scheduled_at is None:
        return None
    return mailing.scheduled_at.astimezone(ZoneInfo(mailing.scheduled_timezone or "UTC"))


__all__ = ["EDITABLE_STATUSES", "MailingDetails", "MailingStateError", "audience_size",
           "cancel_mailing", "create_mailing", "list_campaign_mailings", "schedule_mailing",
           "scheduled_local_time", "send_mailing_now", "send_test", "unschedule_mailing",
           "update_mailing"]
