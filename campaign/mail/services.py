"""The outbox: emails are written with the action that needs them and sent after commit."""

import dataclasses
import logging
import secrets
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import insert, select

from campaign.db import prepared, utcnow
from campaign.extensions import db
from campaign.jobs import dispatch_after_commit
from campaign.mail.models import EmailStatus, OutboundEmail
from campaign.mail.render import render_email
from campaign.mail.transport import PermanentMailError, TransientMailError, transport_for

log = logging.getLogger(__name__)

# After this many transient failures a message is marked failed, not retried again.
MAX_SEND_ATTEMPTS = 8


@dataclasses.dataclass(frozen=True)
class Attachment:
    """A text file sent with an email, such as an event's calendar entry."""

    filename: str
    content_type: str
    content: str


class SendOutcome:
    SENT = "sent"
    ALREADY_DONE = "already_done"
    FAILED = "failed"
    RETRY = "retry"


def queue_email(kind, to_address, template, locale, *, attachments=(), **context):
    """Put an email in the outbox, dispatch its sending after commit, and return its id.

    ``context`` must be JSON-serialisable (plain values and dicts): the email is
    rendered from it when it is sent. ``attachments`` are :class:`Attachment`
    values. Flushes, never commits: the caller's transaction decides whether the
    email exists.
    """
    now = utcnow()
    table = OutboundEmail.__table__
    statement = prepared("queue-email", lambda: insert(table).returning(table.c.id))
    email_id = db.session.execute(statement, {
        "kind": kind, "to_address": to_address, "template": template, "locale": locale,
        "context": context, "message_id": _new_message_id(), "status": EmailStatus.PENDING,
        "attempts": 0, "last_error": "", "subject": "", "body_text": "", "body_html": "",
        "attachments": [dataclasses.asdict(attachment) for attachment in attachments],
        "created_at": now, "updated_at": now,
    }).scalar_one()
    dispatch_after_commit("placard.mail.send", email_id)
    return email_id


def _new_message_id():
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "placard.localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


def build_message(email, config):
    message = EmailMessage()
    name, address = parseaddr(config["MAIL_FROM"])
    message["From"] = Address(display_name=name, addr_spec=address)
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    # Fixed when the row is written, so a message sent twice is recognisably the same one.
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Placard-Outbox-Id"] = str(email.id)
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    for attachment in email.attachments or ():
        # Text only (see OutboundEmail.attachments): sent as UTF-8 text of its subtype.
        subtype = attachment["content_type"].partition("/")[2]
        message.add_attachment(attachment["content"], subtype=subtype,
                               filename=attachment["filename"])
    return message


def send_outbound_email(email_id):
    """Send one outbox message, once.

    Idempotent: the row is locked while it is sent and a message already sent
    or failed is left alone, so a redelivered job sends nothing twice. Returns a
    :class:`SendOutcome`; ``RETRY`` asks the caller to try again later. The
    caller commits.
    """
    email = db.session.execute(
        select(OutboundEmail).where(OutboundEmail.id == email_id).with_for_update()
    ).scalar_one_or_none()
    if email is None or email.status != EmailStatus.PENDING:
        return SendOutcome.ALREADY_DONE
    config = current_app.config
    email.attempts += 1
    if not email.body_text:
        email.subject, email.body_text, email.body_html = render_email(
            email.template, email.locale, **email.context)
    try:
        transport_for(config).send(build_message(email, config))
    except PermanentMailError as error:
        email.status = EmailStatus.FAILED
        email.last_error = str(error)[:2000]
        log.warning("email %s refused for good: %s", email_id, error)
        return SendOutcome.FAILED
    except TransientMailError as error:
        email.last_error = str(error)[:2000]
        if email.attempts >= MAX_SEND_ATTEMPTS:
            email.status = EmailStatus.FAILED
            return SendOutcome.FAILED
        log.info("email %s not sent yet (attempt %s): %s", email_id, email.attempts, error)
        return SendOutcome.RETRY
    email.status = EmailStatus.SENT
    email.sent_at = utcnow()
    email.last_error = ""
    return SendOutcome.SENT


def sweep_outbox(limit=500):
    """Dispatch again every pending message that has waited too long.

    This is what makes a broker outage harmless: the signature and its email
    were committed together, and the email leaves as soon as a worker runs this.
    Safe to run as often as wanted: sending is idempotent. The caller commits.
    """
    cutoff = utcnow() - timedelta(seconds=current_app.config["OUTBOX_SWEEP_MIN_AGE_SECONDS"])
    ids = db.session.scalars(
        select(OutboundEmail.id)
        .where(OutboundEmail.status == EmailStatus.PENDING, OutboundEmail.updated_at <= cutoff)
        .order_by(OutboundEmail.id).limit(limit)
    ).all()
    for email_id in ids:
        dispatch_after_commit("placard.mail.send", email_id)
    return len(ids)
