"""Leaving a mailing list, and the addresses no mailing goes to again.

Every mailing message carries a link to its subscription's unsubscribe page. The
token names the subscription and carries a keyed hash of it, so it needs no
storage, works for as long as the subscription exists, and cannot be guessed
for another one.

Unsubscribing withdraws consent for one campaign (or all of them). Suppression
is about the address, not consent: it bounced for good, kept bouncing, or its
owner reported a mailing as spam. Every function here flushes; the caller commits.
"""

import hmac
import re
from email.utils import parseaddr
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select

from campaign.accounts.audit import record
from campaign.db import insert_ignoring_conflicts, utcnow
from campaign.extensions import db
from campaign.links import public_url
from campaign.mailing.models import (
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from campaign.security import keyed_hash
from campaign.signatures.models import Supporter

_MAC_LENGTH = 32
# Soft bounces (a full mailbox, a server down) suppress an address from this one on.
SOFT_BOUNCE_LIMIT = 3
# A stronger reason replaces a weaker one; a weaker one never hides a stronger.
_REASON_RANK = {SuppressionReason.SOFT_BOUNCES: 1, SuppressionReason.HARD_BOUNCE: 2,
                SuppressionReason.COMPLAINT: 3}
_SUBJECT_TOKEN = re.compile(r"unsubscribe-(\d{1,18}-[0-9a-f]{32})", re.IGNORECASE | re.ASCII)


def unsubscribe_token(subscription_id):
    return f"{subscription_id}-{keyed_hash(str(subscription_id), 'unsubscribe')[:_MAC_LENGTH]}"


def unsubscribe_url(subscription_id):
    return public_url("mailing.unsubscribe", token=unsubscribe_token(subscription_id))


def unsubscribe_mailto(subscription_id):
    """The ``mailto:`` half of List-Unsubscribe, or None when ``UNSUBSCRIBE_MAILTO`` is unset.

    Mail sent there is handed to ``flask mailing unsubscribe-mail``, which reads
    the token back from the subject.
    """
    address = parseaddr(current_app.config.get("UNSUBSCRIBE_MAILTO") or "")[1]
    if not address:
        return None
    return f"mailto:{quote(address, safe='@+')}?subject=unsubscribe-{unsubscribe_token(subscription_id)}"


def find_subscription_by_token(token):
    """The subscription an unsubscribe link names, or None for a forged or mangled one."""
    token = token or ""
    # ASCII first: compare_digest refuses other strings, and int() reads other
    # scripts' digits, so "١-…" would otherwise be an error rather than a miss.
    if not token.isascii():
        return None
    number, _, mac = token.partition("-")
    if not number.isdigit() or len(number) > 18 or len(mac) != _MAC_LENGTH:
        return None
    if not hmac.compare_digest(unsubscribe_token(int(number)), token):
        return None
    return db.session.get(Subscription, int(number))


def unsubscribe(subscription, *, now=None):
    """Take the supporter off this campaign's list, at once. Idempotent. Flushes."""
    if subscription.status != SubscriptionStatus.UNSUBSCRIBED:
        subscription.status = SubscriptionStatus.UNSUBSCRIBED
        subscription.unsubscribed_at = now or utcnow()
        db.session.flush()
    return subscription


def unsubscribe_everywhere(supporter, now=None):
    """Take the supporter off every campaign's list. Returns how many lists they left
    (0 when they were on none). Idempotent. Flushes."""
    now = now or utcnow()
    subscriptions = db.session.scalars(
        select(Subscription).where(Subscription.supporter_id == supporter.id,
                                   Subscription.status == SubscriptionStatus.SUBSCRIBED)).all()
    for subscription in subscriptions:
        unsubscribe(subscription, now=now)
    return len(subscriptions)


def process_unsubscribe_subject(subject):
    """Unsubscribe the subscription named in a mailto unsubscribe's subject.

    Mail clients may prefix the subject ("Re: ", "Fwd: "), so the token is looked
    for anywhere in it. Returns the subscription, or None when the subject holds no
    working token. Idempotent. Flushes.
    """
    match = _SUBJECT_TOKEN.search((subject or "")[:1000])
    subscription = find_subscription_by_token(match.group(1).lower()) if match else None
    if subscription is not None:
        unsubscribe(subscription)
    return subscription


def email_key(email):
    """The lower-cased address that supporters and suppressions are matched by."""
    return (email or "").strip().lower()


def suppressed_email_keys():
    """A select of the lower-cased addresses no mailing may go to."""
    return select(Suppression.email_key).where(Suppression.reason.is_not(None))


def find_suppression(email):
    """The address's suppression record (suppressed or counting soft bounces), or None."""
    return db.session.scalars(
        select(Suppression).where(Suppression.email_key == email_key(email))).one_or_none()


def is_suppressed(email):
    return db.session.scalar(
        select(suppressed_email_keys().where(Suppression.email_key == email_key(email)).exists())
    )


def _locked_suppression(key):
    # Created if missing without a race (two notices for one address at once), then
    # re-read under a lock (FOR UPDATE on PostgreSQL; SQLite's write transaction
    # already excludes other writers), so concurrent soft bounces are each counted.
    insert_ignoring_conflicts(Suppression, {"email_key": key})
    return db.session.scalars(
        select(Suppression).where(Suppression.email_key == key).with_for_update()
        .execution_options(populate_existing=True)).one()


def _suppress(suppression, reason, detail, now):
    current = suppression.reason
    if current is None or _REASON_RANK[reason] > _REASON_RANK[current]:
        suppression.reason = reason
        suppression.detail = detail or ""
        if current is None:
            suppression.suppressed_at = now


def record_bounce(email, *, hard, detail="", now=None):
    """Note that mail to ``email`` bounced. A hard bounce suppresses the address at once;
    soft bounces are counted and suppress it at the :data:`SOFT_BOUNCE_LIMIT`-th.

    Returns the address's :class:`Suppression`. Safe to call concurrently. Flushes.
    """
    now = now or utcnow()
    suppression = _locked_suppression(email_key(email))
    if hard:
        _suppress(suppression, SuppressionReason.HARD_BOUNCE, detail, now)
    else:
        suppression.soft_bounces += 1
        if suppression.reason is None:
            suppression.detail = detail or ""
        if suppression.soft_bounces >= SOFT_BOUNCE_LIMIT:
            _suppress(suppression, SuppressionReason.SOFT_BOUNCES, detail, now)
    db.session.flush()
    return suppression


def record_complaint(email, detail="", now=None):
    """The owner of ``email`` reported a mailing as spam: suppress the address at once
    and take its supporter (if any) off every campaign's list.

    Returns the address's :class:`Suppression`. Idempotent. Flushes.
    """
    now = now or utcnow()
    key = email_key(email)
    suppression = _locked_suppression(key)
    _suppress(suppression, SuppressionReason.COMPLAINT, detail, now)
    supporter = db.session.scalars(select(Supporter).where(Supporter.email_key == key)).one_or_none()
    if supporter is not None:
        unsubscribe_everywhere(supporter, now)
    db.session.flush()
    return suppression


def lift_suppression(email, *, actor=None, reason=""):
    """Let mailings reach a suppressed ``email`` again (an administrator's decision, e.g.
    the mailbox works again): the soft bounce count starts again from zero, and the
    decision goes to the audit log (``actor`` None is the system). Consent is untouched:
    a complaint's unsubscriptions stay. Returns True if the address was suppressed.
    Idempotent. Flushes.
    """
    suppression = find_suppression(email)
    if suppression is None or suppression.reason is None:
        return False
    suppression.reason = None
    suppression.soft_bounces = 0
    suppression.detail = ""
    suppression.suppressed_at = None
    # The audit log holds ids, never addresses: it outlives an erasure.
    record(actor, "suppression.lift", "suppression", suppression.id, reason=reason)
    db.session.flush()
    return True
