"""Moderation: organizers hide comments and invalidate signatures, administrators
unpublish campaigns, and every such decision is written to the audit log.

Each action takes the acting user, changes the object and its counts in the
caller's transaction, and records who did it and why; the view commits. A
repeated action (a double click, two organizers at once) changes nothing and
records nothing.
"""

import dataclasses
import math

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from campaign.accounts.audit import record
from campaign.accounts.models import AuditEntry
from campaign.campaigns.models import VISIBLE_CAMPAIGN_STATUSES, Campaign, CampaignStatus
from campaign.errors import DomainError
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus, Supporter
from campaign.signatures.services import change_signature_counts
from campaign.text import clean_paragraphs

REASON_MAX_LENGTH = 1000
PER_PAGE = 50

# How the audit pages name the actions recorded here; others show their code.
AUDIT_ACTION_LABELS = {
    "signature.hide_comment": _l("Comment hidden"),
    "signature.show_comment": _l("Comment shown"),
    "signature.invalidate": _l("Signature invalidated"),
    "signature.restore": _l("Signature restored"),
    "campaign.unpublish": _l("Campaign unpublished"),
    "event.cancel": _l("Event cancelled"),
    "event.attendees_export": _l("Attendee list downloaded"),
    "mailing.test": _l("Mailing test sent"),
    "mailing.send": _l("Mailing sending started"),
    "mailing.schedule": _l("Mailing scheduled"),
    "mailing.unschedule": _l("Mailing unscheduled"),
    "mailing.pause": _l("Mailing paused"),
    "mailing.resume": _l("Mailing resumed"),
    "mailing.cancel": _l("Mailing cancelled"),
    "suppression.lift": _l("Suppression lifted"),
    "signatures.paper_import": _l("Paper signatures imported"),
    "supporter.erased": _l("Supporter erased"),
    "supporter.data_sent": _l("Supporter's data sent to them"),
}


class ReasonRequired(DomainError):
    status_code = 422


class ReasonTooLong(DomainError):
    status_code = 422


def _reason(reason, *, required):
    reason = clean_paragraphs(reason)
    if required and not reason:
        raise ReasonRequired("a reason is required")
    if len(reason) > REASON_MAX_LENGTH:
        raise ReasonTooLong("reason too long")
    return reason


def _lock(obj):
    # Re-read the row under a lock (FOR UPDATE on PostgreSQL; SQLite's write
    # transaction already excludes other writers), so that two organizers
    # acting at once are applied one after the other and counted once. Not
    # session.refresh: it would repeat the eager joins the object was loaded
    # with, and PostgreSQL refuses FOR UPDATE on an outer join's nullable side.
    model = type(obj)
    db.session.execute(select(model).where(model.id == obj.id).with_for_update()
                       .execution_options(populate_existing=True))


def _audit(actor, action, signature, reason):
    record(actor, action, "signature", signature.id,
           campaign_id=signature.petition.campaign_id, reason=reason)


def hide_comment(actor, signature, reason=""):
    """Hide the signature's comment from public pages. Returns True if it changed.

    Idempotent; raises :class:`ReasonTooLong`. Flushes; the caller commits.
    """
    reason = _reason(reason, required=False)
    _lock(signature)
    if signature.is_comment_hidden:
        return False
    signature.is_comment_hidden = True
    _audit(actor, "signature.hide_comment", signature, reason)
    db.session.flush()
    return True


def show_comment(actor, signature, reason=""):
    """Show a hidden comment again. Returns True if it changed.

    Idempotent; raises :class:`ReasonTooLong`. Flushes; the caller commits.
    """
    reason = _reason(reason, required=False)
    _lock(signature)
    if not signature.is_comment_hidden:
        return False
    signature.is_comment_hidden = False
    _audit(actor, "signature.show_comment", signature, reason)
    db.session.flush()
    return True


def invalidate_signature(actor, signature, reason):
    """Stop counting a signature (a fake, a duplicate person, a bot). Returns True if it changed.

    A confirmed signature leaves the petition's count in the same transaction; a
    pending one can no longer be confirmed. Idempotent. Raises
    :class:`ReasonRequired` without a reason. Flushes; the caller commits.
    """
    reason = _reason(reason, required=True)
    _lock(signature)
    if signature.status == SignatureStatus.INVALIDATED:
        return False
    if signature.status == SignatureStatus.CONFIRMED:
        change_signature_counts(signature, -1)
    signature.status = SignatureStatus.INVALIDATED
    signature.invalidated_reason = reason
    _audit(actor, "signature.invalidate", signature, reason)
    db.session.flush()
    return True


def restore_signature(actor, signature, reason=""):
    """Undo an invalidation. Returns True if it changed.

    A signature that had been confirmed (``confirmed_at`` is set) is counted
    again; one that never was goes back to pending, to be confirmed by its
    signer as before. Idempotent; raises :class:`ReasonTooLong`. Flushes; the
    caller commits.
    """
    reason = _reason(reason, required=False)
    _lock(signature)
    if signature.status != SignatureStatus.INVALIDATED:
        return False
    if signature.confirmed_at is not None:
        signature.status = SignatureStatus.CONFIRMED
        change_signature_counts(signature, +1)
    else:
        signature.status = SignatureStatus.PENDING
    signature.invalidated_reason = ""
    _audit(actor, "signature.restore", signature, reason)
    db.session.flush()
    return True


# Signature statuses an organizer may filter the list by.
STATUS_FILTERS = tuple(status.value for status in SignatureStatus)


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of a longer list."""

    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_next(self):
        return self.number < self.pages


def paginate(statement, page, per_page=PER_PAGE):
    """Page ``page`` (from 1) of ``statement``'s rows, and how many there are in all."""
    number = max(1, page or 1)
    total = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.execute(statement.limit(per_page).offset((number - 1) * per_page))
    items = rows.scalars().all() if len(statement.column_descriptions) == 1 else rows.all()
    return Page(items=items, number=number, per_page=per_page, total=total)


def escape_like(text):
    """``text`` as a literal inside a LIKE pattern (with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_signatures(petition, *, query="", status="", page=1):
    """A :class:`Page` of the petition's signatures, newest first, with their supporters.

    ``query`` matches names and email addresses (any part, any case); ``status``
    is one of :data:`STATUS_FILTERS`, anything else means every status.
    """
    statement = (select(Signature).join(Signature.supporter)
                 .where(Signature.petition_id == petition.id)
                 .options(joinedload(Signature.supporter))
                 .order_by(Signature.created_at.desc(), Signature.id.desc()))
    if status in STATUS_FILTERS:
        statement = statement.where(Signature.status == SignatureStatus(status))
    query = " ".join((query or "").split())
    if query:
        pattern = f"%{escape_like(query.lower())}%"
        full_name = Signature.first_name + " " + Signature.last_name
        statement = statement.where(or_(
            full_name.ilike(pattern, escape="\\"),
            Supporter.email_key.like(pattern, escape="\\"),
        ))
    return paginate(statement, page)


def unpublish_campaign(actor, campaign, reason):
    """Take a public campaign down (an administrator's decision): it goes back to draft,
    with the reason kept on the campaign for its organizers and in the audit log.

    Returns True if it changed; a draft stays as it is. Raises
    :class:`ReasonRequired`. Flushes; the caller commits. Public pages may be
    served from the page cache for ``PAGE_CACHE_SECONDS`` more.
    """
    reason = _reason(reason, required=True)
    _lock(campaign)
    if campaign.status not in VISIBLE_CAMPAIGN_STATUSES:
        return False
    campaign.status = CampaignStatus.DRAFT
    campaign.unpublished_reason = reason
    record(actor, "campaign.unpublish", "campaign", campaign.id, campaign_id=campaign.id,
           reason=reason)
    db.session.flush()
    return True


def list_audit_entries(*, campaign_id=None, page=1):
    """A :class:`Page` of ``(AuditEntry, campaign title or None)``, newest first; only
    ``campaign_id``'s entries when given. The caller has checked who may read them."""
    statement = (select(AuditEntry, Campaign.title)
                 .outerjoin(Campaign, AuditEntry.campaign_id == Campaign.id)
                 .options(joinedload(AuditEntry.actor))
                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))
    if campaign_id is not None:
        statement = statement.where(AuditEntry.campaign_id == campaign_id)
    return paginate(statement, page)
