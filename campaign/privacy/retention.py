"""Keeping personal data no longer than it is needed.

Signatures carry a keyed hash of the signer's IP address so that a flood of
signatures from one place can be spotted while a petition runs; after
``IP_HASH_DAYS`` nobody needs it, so it goes.

A closed petition's signatures are needed as names only while it is delivered.
``CLOSED_PETITION_DAYS`` after it closes (an organizer closed it, or its deadline
passed), each signature keeps what the petition's figures are made of — status,
country, postal-code area, dates, where it came from — and loses who made it;
supporters left with nothing else are deleted.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, literal_column, or_, select, update

from campaign.db import utcnow
from campaign.extensions import db
from campaign.petitions.models import Petition, PetitionStatus
from campaign.signatures.models import Signature, SignatureStatus
from campaign.signatures.services import delete_supporters_without_records


def discard_old_ip_hashes(*, now=None):
    """Forget the IP hash of every signature older than ``IP_HASH_DAYS``. Idempotent; the
    caller commits. Returns how many signatures lost theirs."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["IP_HASH_DAYS"])
    return db.session.execute(
        update(Signature).where(Signature.ip_hash.is_not(None), Signature.created_at < cutoff)
        .values(ip_hash=None).execution_options(synchronize_session=False)).rowcount


def petitions_due_for_anonymising(now=None):
    """A select of the ids of petitions closed more than ``CLOSED_PETITION_DAYS`` ago."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["CLOSED_PETITION_DAYS"])
    return select(Petition.id).where(or_(
        (Petition.status == PetitionStatus.CLOSED) & (Petition.closed_at <= cutoff),
        Petition.deadline_at <= cutoff))


def anonymise_closed_petitions(*, now=None):
    """Anonymise the signatures of petitions closed long enough ago; delete their pending
    ones. Idempotent; the caller commits. Returns how many signatures were anonymised."""
    now = now or utcnow()
    due = petitions_due_for_anonymising(now).scalar_subquery()
    named = (Signature.petition_id.in_(due)) & Signature.supporter_id.is_not(None)
    supporter_ids = db.session.scalars(select(Signature.supporter_id).where(named)).all()
    db.session.execute(
        delete(Signature).where(named, Signature.status == SignatureStatus.PENDING)
        .execution_options(synchronize_session=False))
    # The same area the petition's figures group by (petitions.stats.top_postal_areas).
    area = func.upper(func.rtrim(func.substr(Signature.postal_code, literal_column("1"),
                                             literal_column("3"))))
    anonymised = db.session.execute(
        update(Signature).where(named)
        .values(supporter_id=None, first_name="", last_name="", comment="", postal_code=area,
                consent_wording="", ip_hash=None, confirm_token_hash=None, anonymised_at=now)
        .execution_options(synchronize_session=False)).rowcount
    delete_supporters_without_records(supporter_ids)
    return anonymised
