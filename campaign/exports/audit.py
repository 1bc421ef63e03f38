"""The record of every export, and the notice to a campaign's other organizers.

Each export makes exactly one :class:`ExportRecord`. A streamed export writes
its row (``streaming``) and commits before the first byte goes out, then
:func:`finish_export` marks it ``complete`` or ``interrupted`` with the rows
sent; a file made in one go (a delivery pack) calls :func:`record_export`.
"""

from flask import current_app, url_for
from flask_babel import get_locale
from sqlalchemy import select

from campaign.accounts.models import User
from campaign.campaigns.models import Campaign, campaign_organizers
from campaign.db import utcnow
from campaign.exports.models import ExportRecord, ExportStatus
from campaign.extensions import db
from campaign.mail.services import queue_email


def _actor_id(actor):
    return actor.id if actor is not None and getattr(actor, "is_authenticated", False) else None


def start_export(actor, *, kind, fmt, campaign_id, petition_id, filters, columns):
    """Record an export that is about to stream, and commit: the record exists whatever happens."""
    record = ExportRecord(at=utcnow(), actor_id=_actor_id(actor), campaign_id=campaign_id,
                          petition_id=petition_id, kind=kind, format=fmt, filters=dict(filters),
                          columns=",".join(columns), status=ExportStatus.STREAMING)
    db.session.add(record)
    db.session.commit()
    return record


def finish_export(record_id, rows, *, complete=True):
    """Mark a streamed export finished with ``rows`` rows sent, tell other organizers, commit."""
    # Whatever the stream left open (its read transaction) ends here.
    db.session.rollback()
    record = db.session.get(ExportRecord, record_id)
    if record is None:
        return
    record.row_count = rows
    record.status = ExportStatus.COMPLETE if complete else ExportStatus.INTERRUPTED
    record.finished_at = utcnow()
    if complete:
        notify_large_export(record)
    db.session.commit()


def record_export(actor, *, kind, fmt, campaign_id, petition_id, filters, rows, columns=()):
    """Record an export made in one go. Adds to the caller's transaction; the caller commits."""
    now = utcnow()
    record = ExportRecord(at=now, actor_id=_actor_id(actor), campaign_id=campaign_id,
                          petition_id=petition_id, kind=kind, format=fmt, filters=dict(filters),
                          columns=",".join(columns), row_count=rows,
                          status=ExportStatus.COMPLETE, finished_at=now)
    db.session.add(record)
    db.session.flush()
    notify_large_export(record)
    return record


def notify_large_export(record):
    """Email the campaign's other active organizers when ``record`` sent many rows.

    A large download of supporters' data is worth a second pair of eyes: if an
    account is misused, its co-organizers hear of it. Flushes, never commits.
    """
    threshold = current_app.config["EXPORT_NOTICE_ROWS"]
    if record.campaign_id is None or record.row_count is None or record.row_count < threshold:
        return
    campaign = db.session.get(Campaign, record.campaign_id)
    actor = db.session.get(User, record.actor_id) if record.actor_id else None
    recipients = db.session.scalars(
        select(User).join(campaign_organizers, campaign_organizers.c.user_id == User.id)
        .where(campaign_organizers.c.campaign_id == campaign.id,
               User.is_active_account.is_(True), User.id != (record.actor_id or 0))
        .order_by(User.id)).all()
    log_url = current_app.config["PUBLIC_URL"].rstrip("/") + url_for(
        "exports_manage.campaign_log", campaign_id=campaign.id)
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    for user in recipients:
        queue_email("export_notice", user.email, "export_notice", locale,
                    exporter=(actor.name or actor.email) if actor else "",
                    rows=record.row_count, campaign_title=campaign.title, export_kind=record.kind,
                    format=record.format, log_url=log_url)
