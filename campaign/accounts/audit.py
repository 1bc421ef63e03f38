"""The audit log: every moderation, account and campaign decision, with who and why."""

from campaign.accounts.models import AuditEntry
from campaign.db import utcnow
from campaign.extensions import db


def record(actor, action, subject_type, subject_id, *, campaign_id=None, reason=""):
    """Add an entry in the caller's transaction (it commits or rolls back with the action)."""
    entry = AuditEntry(at=utcnow(), actor_id=getattr(actor, "id", None), action=action,
                       subject_type=subject_type, subject_id=subject_id,
                       campaign_id=campaign_id, reason=reason or "")
    db.session.add(entry)
    return entry
