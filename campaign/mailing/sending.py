"""Sending a mailing: freeze its audience, then batches send each delivery exactly once.

Starting a mailing inserts one delivery per recipient (unique per mailing and
supporter) in one statement. Batch jobs claim queued deliveries with
``FOR UPDATE SKIP LOCKED`` (so batches running side by side never take the same
row), send them over one connection, and mark each sent at the point of no
return (see :mod:`campaign.mailing.transport`). The mark is a single UPDATE
that also checks the mailing is still sending and the recipient still
subscribed and not suppressed: an unsubscribe or a pause takes effect between
two messages. A batch killed mid-way leaves its claimed rows to expire
(``MAILING_CLAIM_SECONDS``); the periodic dispatch puts them back in the queue
and asks for new batches, so a lost job or a Redis restart costs nothing.
"""

import dataclasses
import functools
import logging
import math
import secrets
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, func, insert, literal, select, update

from campaign.db import commit_alongside, prepared, utcnow
from campaign.errors import DomainError
from campaign.extensions import db
from campaign.jobs import dispatch_after_commit
from campaign.mailing.audience import Audience, audience_query
from campaign.mailing.models import (
    Delivery,
    DeliveryStatus,
    Mailing,
    MailingStatus,
    Subscription,
    SubscriptionStatus,
)
from campaign.mailing.render import MailingSnapshot, MessageWriter, Recipient
from campaign.mailing.transport import (
    Abandoned,
    ConnectionFailed,
    PermanentMailError,
    TransientMailError,
    batch_transport_for,
)
from campaign.mailing.unsubscribe import suppressed_email_keys
from campaign.signatures.models import Supporter

log = logging.getLogger(__name__)

# Temporary refusals (4xx) are retried this many times, waiting longer each time.
MAX_ATTEMPTS = 6
RETRY_BASE_SECONDS = 60


class MailingStateError(DomainError):
    """The mailing is not in a state that allows this (e.g. sending one already sent)."""

    status_code = 409


def start_mailing(mailing, *, now=None):
    """Freeze the audience into deliveries and start sending. Flushes; the batch jobs are
    dispatched after the caller commits. Returns how many deliveries were made."""
    now = now or utcnow()
    # One statement decides who starts it: of two concurrent starts (two clicks, the
    # scheduler and an organizer), the second finds it sending and stops here.
    started = db.session.execute(
        update(Mailing).where(Mailing.id == mailing.id,
                              Mailing.status.in_((MailingStatus.DRAFT, MailingStatus.SCHEDULED)))
        .values(status=MailingStatus.SENDING, started_at=now, dispatched_at=now)
        .execution_options(synchronize_session=False))
    if started.rowcount != 1:
        db.session.refresh(mailing)
        raise MailingStateError(f"mailing is {mailing.status}")
    audience = audience_query(mailing.campaign_id, Audience.from_dict(mailing.audience)).subquery()
    db.session.execute(
        insert(Delivery).from_select(
            ["mailing_id", "supporter_id", "status", "claim", "attempts", "last_error"],
            select(literal(mailing.id), audience.c.supporter_id, literal(DeliveryStatus.QUEUED.value),
                   literal(""), literal(0), literal(""))))
    mailing.recipient_count = db.session.scalar(
        select(func.count()).where(Delivery.mailing_id == mailing.id))
    db.session.flush()
    db.session.refresh(mailing)
    _ask_for_batches(mailing.id)
    return mailing.recipient_count


def _ask_for_batches(mailing_id):
    for _ in range(max(1, current_app.config["MAILING_PARALLEL_BATCHES"])):
        dispatch_after_commit("placard.mailing.send_batch", mailing_id)


def pause_mailing(mailing):
    """Stop sending after the messages in flight; resumable. Flushes."""
    if mailing.status != MailingStatus.SENDING:
        raise MailingStateError(f"mailing is {mailing.status}")
    mailing.status = MailingStatus.PAUSED
    db.session.flush()


def resume_mailing(mailing, *, now=None):
    if mailing.status != MailingStatus.PAUSED:
        raise MailingStateError(f"mailing is {mailing.status}")
    mailing.status = MailingStatus.SENDING
    mailing.dispatched_at = now or utcnow()
    db.session.flush()
    _ask_for_batches(mailing.id)


# --- Batches ------------------------------------------------------------------------------------

def _claim(mailing_id, claim, size, now):
    """Take up to ``size`` due deliveries for this batch; other batches skip them."""
    due = (select(Delivery.id)
           .where(Delivery.mailing_id == mailing_id, Delivery.status == DeliveryStatus.QUEUED,
                  (Delivery.retry_at.is_(None)) | (Delivery.retry_at <= now))
           .order_by(Delivery.id).limit(size).with_for_update(skip_locked=True))
    claim_until = now + timedelta(seconds=current_app.config["MAILING_CLAIM_SECONDS"])
    ids = db.session.scalars(
        update(Delivery).where(Delivery.id.in_(due.scalar_subquery()))
        .values(status=DeliveryStatus.SENDING, claim=claim, claimed_until=claim_until)
        .returning(Delivery.id).execution_options(synchronize_session=False)).all()
    if not ids:
        return []
    rows = db.session.execute(
        select(Delivery.id, Subscription.id, Supporter.email, Supporter.first_name,
               Supporter.last_name, Supporter.locale)
        .join(Supporter, Supporter.id == Delivery.supporter_id)
        .join(Mailing, Mailing.id == Delivery.mailing_id)
        .join(Subscription, and_(Subscription.supporter_id == Delivery.supporter_id,
                                 Subscription.campaign_id == Mailing.campaign_id))
        .where(Delivery.id.in_(ids)).order_by(Delivery.id)).all()
    return [Recipient(*row) for row in rows]


def _mark_sent_statement():
    """The UPDATE that marks one delivery sent, if it still may be: the mailing is
    sending, the batch still holds it, and its recipient is subscribed and not
    suppressed. Built once; run with fresh parameters for every message."""
    subscribed = (select(Subscription.id)
                  .join(Mailing, Mailing.campaign_id == Subscription.campaign_id)
                  .join(Supporter, Supporter.id == Subscription.supporter_id)
                  .where(Mailing.id == Delivery.mailing_id, Mailing.status == MailingStatus.SENDING,
                         Subscription.supporter_id == Delivery.supporter_id,
                         Subscription.status == SubscriptionStatus.SUBSCRIBED,
                         Supporter.email_key.not_in(suppressed_email_keys())).exists())
    return (update(Delivery.__table__)
            .where(Delivery.id == bindparam("delivery_id"), Delivery.status == DeliveryStatus.SENDING,
                   Delivery.claim == bindparam("held_by"), subscribed)
            .values(status=DeliveryStatus.SENT, sent_at=bindparam("now"),
                    attempts=Delivery.attempts + 1, claim="", claimed_until=None, last_error=""))


def _hand_over(delivery_id, claim, write_end):
    """Mark a delivery sent and, as that commits, write the end of its message; False
    (and nothing written) if the delivery may no longer be sent."""
    statement = prepared("mailing-mark-sent", _mark_sent_statement)
    result = db.session.connection().execute(
        statement, {"delivery_id": delivery_id, "held_by": claim, "now": utcnow()})
    if result.rowcount != 1:
        db.session.rollback()
        return False
    commit_alongside(write_end)
    return True


def _settle(delivery_id, held_by, **values):
    """Update a delivery this batch holds (``held_by`` is its claim, or "" once marked sent)."""
    db.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.claim == held_by)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()


def _settle_abandoned(delivery_id, claim):
    """Why a delivery was not ours to send any more, recorded: skipped if its recipient left
    the list, back in the queue if the mailing was paused, nothing if another batch has it."""
    row = db.session.execute(
        select(Delivery.status, Delivery.claim, Mailing.status)
        .join(Mailing, Mailing.id == Delivery.mailing_id).where(Delivery.id == delivery_id)).one()
    if row[0] != DeliveryStatus.SENDING or row[1] != claim:
        return
    if row[2] != MailingStatus.SENDING:
        _settle(delivery_id, claim, status=DeliveryStatus.QUEUED, claim="", claimed_until=None)
    else:
        _settle(delivery_id, claim, status=DeliveryStatus.SKIPPED, claim="", claimed_until=None)


def _release(claim):
    """Put back in the queue what this batch claimed but did not send."""
    db.session.execute(update(Delivery)
                       .where(Delivery.claim == claim, Delivery.status == DeliveryStatus.SENDING)
                       .values(status=DeliveryStatus.QUEUED, claim="", claimed_until=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()


@dataclasses.dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0


def send_batch(mailing_id):
    """Send queued deliveries of one mailing until none is due, the mailing is paused, or
    ``MAILING_BATCH_SECONDS`` have passed. Commits as it goes (one transaction per
    message, so that each is marked sent the moment it is handed over). Safe to run
    any number of times, side by side. Returns a :class:`BatchResult`."""
    config = current_app.config
    result = BatchResult()
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or mailing.status != MailingStatus.SENDING:
        return result
    writer = MessageWriter(MailingSnapshot.of(mailing))
    deadline = time.monotonic() + config["MAILING_BATCH_SECONDS"]
    pace = Pace(config["MAILING_RATE_PER_WORKER"])
    with batch_transport_for(config) as transport:
        while time.monotonic() < deadline:
            claim = secrets.token_hex(8)
            recipients = _claim(mailing_id, claim, config["MAILING_BATCH_SIZE"], utcnow())
            db.session.commit()
            if not recipients:
                break
            try:
                stopped = _send_claimed(mailing_id, recipients, claim, transport, writer, pace,
                                        deadline, result)
            finally:
                _release(claim)
            if stopped:
                break
    out_of_time = time.monotonic() >= deadline
    if not finish_if_done(mailing_id) and out_of_time and not config["TASKS_EAGER"]:
        # A batch ends after its time so that a worker is never held by one mailing, but
        # the work goes on at once in a successor; waiting for the periodic dispatch
        # would leave the mailing idle for up to a batch's time. (In-process, the
        # embedded scheduler's dispatch does this instead of a nested call.)
        mailing.dispatched_at = utcnow()
        dispatch_after_commit("placard.mailing.send_batch", mailing_id)
    db.session.commit()
    return result


class Pace:
    """At most ``per_second`` messages a second (0: no limit), evenly spaced."""

    def __init__(self, per_second):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self):
        if not self.interval:
            return
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next_at = max(self.next_at + self.interval, time.monotonic())


def _send_claimed(mailing_id, recipients, claim, transport, writer, pace, deadline, result):
    """Send one claimed batch; returns True when the batch should stop (paused, out of time,
    server unreachable)."""
    for recipient in recipients:
        if time.monotonic() >= deadline:
            return True
        pace.wait()
        payload = writer.write(recipient)
        try:
            transport.send(payload, writer.sender, recipient.email,
                           functools.partial(_hand_over, recipient.delivery_id, claim),
                           name=f"mailing-{mailing_id}-{recipient.delivery_id}")
            result.sent += 1
        except Abandoned:
            _settle_abandoned(recipient.delivery_id, claim)
            if db.session.scalar(select(Mailing.status).where(Mailing.id == mailing_id)) \
                    != MailingStatus.SENDING:
                return True
            result.skipped += 1
        except ConnectionFailed:
            log.warning("mailing %s: SMTP server unreachable; the periodic dispatch tries again",
                        mailing_id)
            return True
        except PermanentMailError as error:
            _settle(recipient.delivery_id, "" if _was_marked_sent(recipient.delivery_id) else claim,
                    status=DeliveryStatus.FAILED, claim="", claimed_until=None,
                    last_error=str(error)[:2000])
            result.failed += 1
        except TransientMailError as error:
            _retry_later(recipient.delivery_id, claim, error)
            result.retried += 1
    return False


def _was_marked_sent(delivery_id):
    return db.session.scalar(select(Delivery.status).where(Delivery.id == delivery_id)) \
        == DeliveryStatus.SENT


def _retry_later(delivery_id, claim, error):
    """A temporary refusal (or a lost connection before the point of no return): queue it
    again with a growing wait, or give up after MAX_ATTEMPTS. A message refused after it
    was marked sent is put back the same way: the server said it did not take it."""
    attempts = db.session.scalar(select(Delivery.attempts).where(Delivery.id == delivery_id)) or 0
    if _was_marked_sent(delivery_id):
        claim = ""
        attempts -= 1  # the mark counted an attempt that the server refused
    attempts += 1
    values = {"claim": "", "claimed_until": None, "attempts": attempts, "sent_at": None,
              "last_error": str(error)[:2000]}
    if attempts >= MAX_ATTEMPTS:
        values["status"] = DeliveryStatus.FAILED
    else:
        values["status"] = DeliveryStatus.QUEUED
        values["retry_at"] = utcnow() + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    _settle(delivery_id, claim, **values)


def finish_if_done(mailing_id, *, now=None):
    """Mark a sending mailing sent once no delivery is queued or in flight. Flushes."""
    left = db.session.scalar(select(func.count()).where(
        Delivery.mailing_id == mailing_id,
        Delivery.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING))))
    if left:
        return False
    result = db.session.execute(
        update(Mailing).where(Mailing.id == mailing_id, Mailing.status == MailingStatus.SENDING)
        .values(status=MailingStatus.SENT, finished_at=now or utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


# --- The periodic dispatch ----------------------------------------------------------------------

def dispatch_mailings(now=None):
    """What celery beat runs every MAILING_DISPATCH_SECONDS: start scheduled mailings that
    are due, put back in the queue the deliveries of batches that died, ask for batches
    where deliveries wait and no batch has been asked for within a batch's time, and
    mark finished mailings sent. Idempotent. The caller commits."""
    now = now or utcnow()
    config = current_app.config
    for mailing in db.session.scalars(select(Mailing).where(
            Mailing.status == MailingStatus.SCHEDULED, Mailing.scheduled_at <= now)).all():
        start_mailing(mailing, now=now)
    db.session.execute(
        update(Delivery).where(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_until < now)
        .values(status=DeliveryStatus.QUEUED, claim="", claimed_until=None)
        .execution_options(synchronize_session=False))
    stale = now - timedelta(seconds=config["MAILING_BATCH_SECONDS"])
    for mailing in db.session.scalars(select(Mailing).where(Mailing.status == MailingStatus.SENDING)).all():
        if finish_if_done(mailing.id, now=now):
            continue
        due = db.session.scalar(select(func.count()).where(
            Delivery.mailing_id == mailing.id, Delivery.status == DeliveryStatus.QUEUED,
            (Delivery.retry_at.is_(None)) | (Delivery.retry_at <= now)))
        if due and (mailing.dispatched_at is None or mailing.dispatched_at <= stale):
            mailing.dispatched_at = now
            _ask_for_batches(mailing.id)
    db.session.flush()


# --- Progress -----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Progress:
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    skipped: int
    per_minute: float          # sent in the last minute
    seconds_left: int | None   # at the current pace; None when unknown

    @property
    def done(self):
        return self.sent + self.failed + self.skipped

    @property
    def percent(self):
        return 100 if not self.total else math.floor(100 * self.done / self.total)


def mailing_progress(mailing, *, now=None):
    now = now or utcnow()
    counts = dict(db.session.execute(
        select(Delivery.status, func.count()).where(Delivery.mailing_id == mailing.id)
        .group_by(Delivery.status)).all())
    recent = db.session.scalar(select(func.count()).where(
        Delivery.mailing_id == mailing.id, Delivery.status == DeliveryStatus.SENT,
        Delivery.sent_at > now - timedelta(minutes=1)))
    left = counts.get(DeliveryStatus.QUEUED, 0) + counts.get(DeliveryStatus.SENDING, 0)
    seconds_left = None
    if left == 0:
        seconds_left = 0
    elif recent and mailing.status == MailingStatus.SENDING:
        seconds_left = math.ceil(left / (recent / 60))
    return Progress(
        total=sum(counts.values()), queued=counts.get(DeliveryStatus.QUEUED, 0),
        sending=counts.get(DeliveryStatus.SENDING, 0), sent=counts.get(DeliveryStatus.SENT, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0), skipped=counts.get(DeliveryStatus.SKIPPED, 0),
        per_minute=float(recent), seconds_left=seconds_left)
