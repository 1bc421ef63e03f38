"""Webhooks: each new confirmed signature and attendance, POSTed to the organizers' endpoints.

The notice is written in the transaction that confirms (:func:`queue_webhooks`):
one delivery row per active endpoint of the campaign, dispatched after commit
(an imported sheet of paper signatures writes its rows in bulk and leaves them to
the periodic sweep: :func:`queue_webhooks_in_bulk`).
Each attempt claims its row with one conditional UPDATE (pending, due, and not
held by another worker: the claim pushes ``next_attempt_at`` past the time an
attempt may take), so a delivery is never sent twice at once, whichever of the
direct dispatch, the periodic sweep or a redelivered task gets there first. The
body is built at send time from the live record: an erased supporter is never
sent. Retries come from the sweep alone, in both modes; Celery's own retries are
off for these jobs (worker/tasks.py).

Endpoints are https only and must resolve to public addresses; the address is
checked again at send time and the connection is made to the address checked,
so a DNS answer that changes in between (rebinding) cannot reach the inside.
"""

import dataclasses
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import secrets
import socket
import ssl
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, insert, or_, select, update

from campaign.accounts import audit
from campaign.api.models import (
    WEBHOOK_URL_MAX,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from campaign.db import utcnow
from campaign.errors import DomainError
from campaign.extensions import db
from campaign.jobs import dispatch_after_commit

log = logging.getLogger(__name__)

KINDS = ("signature", "attendance")
TEST_KIND = "test"
USER_AGENT = "Placard-Webhooks/1"
RETRY_CAP_SECONDS = 3600
# What an attempt may take beyond the timeout before another worker may claim its row again.
CLAIM_MARGIN_SECONDS = 60
# Of the endpoint's answer, only this much is kept (as the last error).
ANSWER_KEPT_BYTES = 500


class WebhookUrlRefused(DomainError):
    """The address is not one Placard will send to (see :func:`check_url`). ``reason`` is
    one of: length, invalid, scheme, credentials, host, fragment, unresolved, private."""

    status_code = 422

    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# --- Endpoints ----------------------------------------------------------------------------------

def _allow_private():
    return bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"])


def check_url(url, *, resolve=True):
    """Raise :class:`WebhookUrlRefused` unless ``url`` is an https URL without credentials,
    short enough, whose host resolves to public addresses only. With
    ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` (tests, a closed network) http and any address
    are accepted. Returns the URL stripped of surrounding spaces."""
    url = (url or "").strip()
    if not url or len(url) > WEBHOOK_URL_MAX:
        raise WebhookUrlRefused("length")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise WebhookUrlRefused("invalid") from error
    schemes = ("https", "http") if _allow_private() else ("https",)
    if parts.scheme not in schemes:
        raise WebhookUrlRefused("scheme")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("credentials")
    if not parts.hostname:
        raise WebhookUrlRefused("host")
    if parts.fragment:
        raise WebhookUrlRefused("fragment")
    if resolve:
        resolve_address(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    return url


def _is_public(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private
                                 or ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def resolve_address(host, port):
    """The address to connect to for ``host``. Every address the name resolves to must be
    public (one private answer among public ones is refused too), unless private addresses
    are allowed. Raises :class:`WebhookUrlRefused`."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as error:
        raise WebhookUrlRefused("unresolved", host) from error
    addresses = [answer[4][0] for answer in answers]
    if not addresses:
        raise WebhookUrlRefused("unresolved", host)
    if not _allow_private() and not all(_is_public(address) for address in addresses):
        raise WebhookUrlRefused("private", host)
    return addresses[0]


def new_secret():
    return secrets.token_urlsafe(32)


def register_endpoint(campaign, url, *, actor):
    """Add an endpoint to ``campaign``, owned by ``actor``. Returns ``(endpoint, secret)``:
    the secret to show the organizer (once). Raises :class:`WebhookUrlRefused`. Flushes."""
    url = check_url(url)
    secret = new_secret()
    endpoint = WebhookEndpoint(campaign_id=campaign.id, user_id=getattr(actor, "id", None),
                               url=url, secret=secret, is_active=True, consecutive_failures=0,
                               last_status="")
    db.session.add(endpoint)
    db.session.flush()
    audit.record(actor, "webhook.created", "webhook_endpoint", endpoint.id, campaign_id=campaign.id,
           reason=url)
    return endpoint, secret


def delete_endpoint(endpoint, *, actor):
    """Delete the endpoint and its deliveries. Flushes."""
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    audit.record(actor, "webhook.deleted", "webhook_endpoint", endpoint.id,
           campaign_id=endpoint.campaign_id, reason=endpoint.url)
    db.session.delete(endpoint)
    db.session.flush()


def enable_endpoint(endpoint, *, actor):
    """Turn a disabled endpoint back on, its count of failures back to zero. Deliveries
    failed while it was off stay failed. Idempotent. Flushes."""
    endpoint.is_active = True
    endpoint.consecutive_failures = 0
    endpoint.disabled_at = None
    audit.record(actor, "webhook.enabled", "webhook_endpoint", endpoint.id,
           campaign_id=endpoint.campaign_id)
    db.session.flush()


def rotate_secret(endpoint, *, actor):
    """Give the endpoint a new secret (the old one stops at once). Returns it. Flushes."""
    endpoint.secret = new_secret()
    audit.record(actor, "webhook.secret_rotated", "webhook_endpoint", endpoint.id,
           campaign_id=endpoint.campaign_id)
    db.session.flush()
    return endpoint.secret


def send_test_delivery(endpoint, *, now=None):
    """Queue a test notice to the endpoint (even a disabled one): tried once, not retried,
    and it changes nothing of the endpoint's count of failures. Flushes; sent after commit."""
    return _insert_delivery(endpoint.id, TEST_KIND, 0, now or utcnow())


def find_managed_endpoint(user, endpoint_id):
    """The endpoint if it belongs to a campaign ``user`` manages, else None."""
    from campaign.accounts.access import visible_campaign_ids

    return db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                      WebhookEndpoint.campaign_id.in_(visible_campaign_ids(user)))
    ).one_or_none()


def list_campaign_endpoints(campaign):
    return db.session.scalars(select(WebhookEndpoint)
                              .where(WebhookEndpoint.campaign_id == campaign.id)
                              .order_by(WebhookEndpoint.id)).all()


def list_recent_deliveries(endpoint, limit=50):
    return db.session.scalars(select(WebhookDelivery)
                              .where(WebhookDelivery.endpoint_id == endpoint.id)
                              .order_by(WebhookDelivery.id.desc()).limit(limit)).all()


# --- Queuing ------------------------------------------------------------------------------------

def _campaign_id(kind, record):
    if kind == "signature":
        return record.petition.campaign_id
    return record.event.campaign_id


def queue_webhooks(kind, record, *, now=None):
    """Write one delivery per active endpoint of the record's campaign, in the caller's
    transaction (the one that confirms), and dispatch each after commit. ``kind`` is
    "signature" (a Signature) or "attendance" (an Rsvp). Flushes. Returns the ids."""
    if kind not in KINDS:
        raise ValueError(f"unknown webhook kind {kind!r}")
    now = now or utcnow()
    return [_insert_delivery(endpoint_id, kind, record.id, now)
            for endpoint_id in _active_endpoint_ids(_campaign_id(kind, record))]


def queue_webhooks_in_bulk(kind, campaign_id, record_ids, *, now=None):
    """Write the deliveries of records made many at once (an imported sheet of paper
    signatures), in the caller's transaction, without a job each: the periodic sweep
    sends them within WEBHOOK_SWEEP_SECONDS, so an import of thousands neither
    publishes thousands of jobs nor, in the embedded mode, holds the upload's request
    while they are sent. Returns how many deliveries were written."""
    if kind not in KINDS:
        raise ValueError(f"unknown webhook kind {kind!r}")
    now = now or utcnow()
    rows = [_new_delivery(endpoint_id, kind, record_id, now)
            for endpoint_id in _active_endpoint_ids(campaign_id) for record_id in record_ids]
    if rows:
        db.session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def _active_endpoint_ids(campaign_id):
    return db.session.scalars(
        select(WebhookEndpoint.id).where(WebhookEndpoint.campaign_id == campaign_id,
                                         WebhookEndpoint.is_active.is_(True))).all()


def _new_delivery(endpoint_id, kind, record_id, now):
    """The columns of a delivery waiting for its first attempt, due at once."""
    return {"endpoint_id": endpoint_id, "kind": kind, "record_id": record_id,
            "status": WebhookDeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now,
            "last_error": "", "created_at": now}


def _insert_delivery(endpoint_id, kind, record_id, now):
    delivery = WebhookDelivery(**_new_delivery(endpoint_id, kind, record_id, now))
    db.session.add(delivery)
    db.session.flush()
    dispatch_after_commit("placard.webhooks.deliver", delivery.id)
    return delivery.id


def sweep_webhooks(*, now=None, limit=500):
    """Dispatch every pending delivery that is due: retries, and deliveries whose dispatch was
    lost (broker down) or whose worker died mid-attempt (its claim has run out). Safe to run
    as often as wanted: an attempt claims its row first. The caller commits."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)).all()
    for delivery_id in ids:
        dispatch_after_commit("placard.webhooks.deliver", delivery_id)
    return len(ids)


# --- Sending ------------------------------------------------------------------------------------

def sign(secret, timestamp, body):
    """The ``X-Placard-Signature`` value of ``body`` (bytes or str) sent at ``timestamp``."""
    if isinstance(body, bytes):
        body = body.decode()
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret, timestamp, body, signature, *, tolerance=300, now=None):
    """What a receiver does: the signature matches and the timestamp is recent (replays of
    an old notice are refused). Constant-time comparison."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def retry_delay(attempts, base=None):
    """Seconds before attempt ``attempts + 1``: the base doubled per attempt made, at most an
    hour, less up to a quarter at random so that failed deliveries do not all come back at
    once."""
    base = current_app.config["WEBHOOK_RETRY_SECONDS"] if base is None else base
    delay = min(RETRY_CAP_SECONDS, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.75, 1.0)


class DeliveryOutcome:
    SUCCEEDED = "succeeded"
    RETRY_LATER = "retry_later"  # the sweep tries again when it is due, not the task queue
    FAILED = "failed"
    DISCARDED = "discarded"
    NOT_MINE = "not_mine"  # done already, not due, or another worker holds it


@dataclasses.dataclass
class _Answer:
    status_code: int | None
    error: str


def _claim(delivery_id, now):
    """Take the delivery for one attempt, or return False. One UPDATE decides between rivals:
    it counts the attempt and moves ``next_attempt_at`` past the longest an attempt takes."""
    held_until = now + timedelta(
        seconds=current_app.config["WEBHOOK_TIMEOUT_SECONDS"] * 2 + CLAIM_MARGIN_SECONDS)
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now))
        .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=held_until)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return claimed.rowcount == 1


def deliver_webhook(delivery_id, *, now=None):
    """Make one attempt at a delivery, if it is pending, due and not held by another worker.

    Commits the claim before sending, and holds no transaction or lock while the endpoint
    answers. 2xx: succeeded. Anything else: recorded, and tried again after a backoff
    until ``WEBHOOK_MAX_ATTEMPTS`` (then failed); the endpoint is turned off after
    ``WEBHOOK_DISABLE_AFTER_FAILURES`` failed attempts in a row. A record gone or
    anonymised since: discarded. Never raises for the endpoint's faults, so no task
    retry doubles the sweep's. Returns a :class:`DeliveryOutcome`; the caller commits.
    """
    now = now or utcnow()
    if not _claim(delivery_id, now):
        return DeliveryOutcome.NOT_MINE
    delivery = db.session.get(WebhookDelivery, delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.kind != TEST_KIND:
        _finish(delivery, WebhookDeliveryStatus.FAILED, error="the endpoint is turned off")
        return DeliveryOutcome.FAILED
    if delivery.attempts > current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        # Earlier attempts ended without an answer recorded (a worker killed, a crash):
        # they count too, so such a delivery cannot come back for ever.
        _finish(delivery, WebhookDeliveryStatus.FAILED, error=delivery.last_error or
                "no answer recorded from the last attempts")
        return DeliveryOutcome.FAILED
    body = build_body(delivery)
    if body is None:
        _finish(delivery, WebhookDeliveryStatus.DISCARDED,
                error="the record is gone or no longer confirmed")
        return DeliveryOutcome.DISCARDED
    url, secret, endpoint_id, attempts, kind = (endpoint.url, endpoint.secret, endpoint.id,
                                                delivery.attempts, delivery.kind)
    # No transaction stays open while the endpoint takes its time.
    db.session.commit()
    answer = post(url, secret, delivery_id, body)
    return _record_answer(delivery_id, endpoint_id, kind, attempts, answer)


def _finish(delivery, status, *, error=""):
    delivery.status = status
    delivery.next_attempt_at = None
    delivery.last_error = error


def build_body(delivery):
    """The JSON text sent for ``delivery``, from the record as it is now; None when what it
    told of is gone: deleted, its supporter erased or anonymised, or no longer confirmed."""
    if delivery.kind == TEST_KIND:
        return _dumps([{"placard:test": _test_resource(delivery)}])
    from campaign.api.resources import attendance_resource, signature_resource
    from campaign.api.scope import person_dates_of
    from campaign.events.models import Rsvp, RsvpStatus
    from campaign.signatures.models import Signature, SignatureStatus

    if delivery.kind == "signature":
        signature = db.session.get(Signature, delivery.record_id)
        if (signature is None or signature.status != SignatureStatus.CONFIRMED
                or signature.supporter_id is None or signature.supporter is None):
            return None
        campaign_id = signature.petition.campaign_id
        resource = signature_resource(
            signature, with_person=True, subscribed=_is_subscribed(signature.supporter_id, campaign_id),
            person_dates=person_dates_of([campaign_id], [signature.supporter_id])[signature.supporter_id])
        return _dumps([{"osdi:signature": resource}])
    rsvp = db.session.get(Rsvp, delivery.record_id)
    if rsvp is None or rsvp.status != RsvpStatus.CONFIRMED or rsvp.supporter is None:
        return None
    campaign_id = rsvp.event.campaign_id
    resource = attendance_resource(
        rsvp, with_person=True, subscribed=_is_subscribed(rsvp.supporter_id, campaign_id),
        person_dates=person_dates_of([campaign_id], [rsvp.supporter_id])[rsvp.supporter_id])
    return _dumps([{"osdi:attendance": resource}])


def _is_subscribed(supporter_id, campaign_id):
    from campaign.mailing.models import Subscription, SubscriptionStatus

    return db.session.scalar(
        select(Subscription.id).where(Subscription.supporter_id == supporter_id,
                                      Subscription.campaign_id == campaign_id,
                                      Subscription.status == SubscriptionStatus.SUBSCRIBED)
    ) is not None


def _test_resource(delivery):
    from campaign.api.resources import iso

    endpoint = delivery.endpoint
    return {"message": "A test notice from Placard: this endpoint is reached and signed for.",
            "campaign": endpoint.campaign.title, "endpoint": endpoint.url,
            "created_date": iso(delivery.created_at)}


def _dumps(payload):
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address checked, not to whatever the name resolves to next."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self):
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.pinned_address = address

    def connect(self):
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        # The certificate is checked against the host name, as without pinning.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, secret, delivery_id, body):
    """POST ``body`` to ``url``, signed; follows no redirect. Returns an :class:`_Answer`
    (never raises for the endpoint's faults)."""
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    try:
        url = check_url(url, resolve=False)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve_address(parts.hostname, port)
    except WebhookUrlRefused as error:
        return _Answer(None, f"refused: {error}")
    timestamp = str(int(time.time()))
    data = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Placard-Delivery": str(delivery_id),
        "X-Placard-Timestamp": timestamp,
        "X-Placard-Signature": sign(secret, timestamp, body),
    }
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=data, headers=headers)
        response = connection.getresponse()
        answer = response.read(ANSWER_KEPT_BYTES).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as error:
        return _Answer(None, f"{type(error).__name__}: {error}"[:ANSWER_KEPT_BYTES])
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return _Answer(response.status, "")
    if 300 <= response.status < 400:
        location = response.getheader("Location", "")
        return _Answer(response.status, f"redirect to {location!r} not followed"[:ANSWER_KEPT_BYTES])
    return _Answer(response.status, answer)


def _status_text(answer):
    if answer.status_code is not None:
        return f"HTTP {answer.status_code}"
    return answer.error[:200]


def _record_answer(delivery_id, endpoint_id, kind, attempts, answer):
    """Write down what the endpoint answered, if the delivery is still this attempt's."""
    now = utcnow()
    config = current_app.config
    succeeded = answer.status_code is not None and 200 <= answer.status_code < 300
    delivery = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    ).one_or_none()
    if (delivery is None or delivery.status != WebhookDeliveryStatus.PENDING
            or delivery.attempts != attempts):
        # Deleted, or the endpoint was turned off meanwhile: nothing of ours to record.
        return DeliveryOutcome.NOT_MINE
    delivery.last_status_code = answer.status_code
    endpoint_values = {"last_attempt_at": now, "last_status": _status_text(answer)}
    if succeeded:
        delivery.status = WebhookDeliveryStatus.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
        outcome = DeliveryOutcome.SUCCEEDED
        if kind != TEST_KIND:
            endpoint_values["consecutive_failures"] = 0
    else:
        delivery.last_error = answer.error or f"HTTP {answer.status_code}"
        if kind == TEST_KIND or attempts >= config["WEBHOOK_MAX_ATTEMPTS"]:
            _finish(delivery, WebhookDeliveryStatus.FAILED, error=delivery.last_error)
            outcome = DeliveryOutcome.FAILED
        else:
            delivery.next_attempt_at = now + timedelta(seconds=retry_delay(attempts))
            outcome = DeliveryOutcome.RETRY_LATER
        if kind != TEST_KIND:
            # In one statement, so concurrent attempts to the same endpoint all count.
            endpoint_values["consecutive_failures"] = WebhookEndpoint.consecutive_failures + 1
    db.session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
                       .values(**endpoint_values).execution_options(synchronize_session=False))
    if not succeeded and kind != TEST_KIND:
        _disable_if_failing(endpoint_id, now)
    log.info("webhook delivery %s attempt %s: %s", delivery_id, attempts, outcome)
    return outcome


def _disable_if_failing(endpoint_id, now):
    limit = current_app.config["WEBHOOK_DISABLE_AFTER_FAILURES"]
    # Only the attempt whose UPDATE turns it off tells the organizer: once.
    disabled = db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.is_active.is_(True),
               WebhookEndpoint.consecutive_failures >= limit)
        .values(is_active=False, disabled_at=now)
        .execution_options(synchronize_session=False))
    if disabled.rowcount != 1:
        return False
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id,
               WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
               WebhookDelivery.kind != TEST_KIND)
        .values(status=WebhookDeliveryStatus.FAILED, next_attempt_at=None,
                last_error="the endpoint was turned off after too many failures")
        .execution_options(synchronize_session=False))
    endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    _tell_organizers(endpoint, limit)
    log.warning("webhook endpoint %s turned off after %s failures in a row", endpoint_id, limit)
    return True


def _tell_organizers(endpoint, failures):
    from campaign.links import public_url
    from campaign.mail.services import queue_email

    owner = endpoint.user
    recipients = ([owner] if owner is not None and owner.is_active
                  else [user for user in endpoint.campaign.organizers if user.is_active])
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    for user in recipients:
        queue_email("webhook_disabled", user.email, "webhook_disabled", locale,
                    campaign_title=endpoint.campaign.title, url=endpoint.url,
                    failures=failures, last_status=endpoint.last_status,
                    manage_url=public_url("webhooks_manage.show_webhook",
                                          endpoint_id=endpoint.id))
