"""Organizers writing petitions: create, edit, and keep the wording each signer saw.

A signature records the petition's ``current_version``. When the title, target
or text of a petition that has signatures changes, the old wording is kept as
a PetitionVersion under that number first, so every signature still names the
text its signer read. Functions here flush and never commit.
"""

import dataclasses
from datetime import datetime

from sqlalchemy import exists, select

from campaign.campaigns.services import available_slug, change_slug, slugify
from campaign.db import utcnow
from campaign.extensions import db
from campaign.petitions.models import Petition, PetitionStatus, PetitionVersion, set_petition_status
from campaign.petitions.services import create_count_shards
from campaign.signatures.models import Signature

# Sign-form fields a petition may make compulsory (the others always are, or never).
REQUIRABLE_FIELDS = ("postal_code", "comment")


@dataclasses.dataclass(frozen=True)
class PetitionDetails:
    """What an organizer typed into the petition form, checked for shape.

    An empty ``slug`` means "make one from the title"; ``deadline_at`` is UTC."""

    title: str
    target: str
    slug: str = ""
    body: str = ""
    goal: int = 1000
    deadline_at: datetime | None = None
    required_fields: tuple[str, ...] = ("postal_code",)
    consent_wording: str = ""
    signers_choose_demands: bool = False
    status: PetitionStatus = PetitionStatus.OPEN


def _apply(petition, details):
    petition.title = details.title
    petition.target = details.target
    petition.body = details.body
    petition.goal = details.goal
    petition.deadline_at = details.deadline_at
    petition.required_fields = [name for name in REQUIRABLE_FIELDS if name in details.required_fields]
    petition.consent_wording = details.consent_wording
    petition.signers_choose_demands = details.signers_choose_demands
    set_petition_status(petition, details.status)


def create_petition(campaign, details):
    """A new petition in ``campaign`` (already access-checked), with its count rows. Flushes."""
    petition = Petition(campaign=campaign, current_version=1,
                        slug=available_slug("petition", details.slug or slugify(details.title, "petition")))
    _apply(petition, details)
    db.session.add(petition)
    db.session.flush()
    create_count_shards(petition)
    db.session.flush()
    return petition


def has_signatures(petition):
    """Whether anyone has signed (pending, confirmed or invalidated): they all saw a text."""
    return db.session.scalar(select(exists().where(Signature.petition_id == petition.id)))


def update_petition(petition, details):
    """Save an organizer's changes. Flushes; returns True if the wording got a new version.

    Only a change of title, target or text on a petition someone has signed
    starts a version; other settings (goal, deadline, fields) change in place.
    """
    wording_changed = ((details.title, details.target, details.body)
                       != (petition.title, petition.target, petition.body))
    new_version = wording_changed and has_signatures(petition)
    if new_version:
        now = utcnow()
        db.session.add(PetitionVersion(petition_id=petition.id, version=petition.current_version,
                                       title=petition.title, target=petition.target,
                                       body=petition.body, created_at=now))
        petition.current_version += 1
        petition.text_edited_at = now
    _apply(petition, details)
    change_slug("petition", petition, details.slug or slugify(details.title, "petition"))
    db.session.flush()
    return new_version


def list_versions(petition):
    """The petition's earlier wordings, latest first."""
    return db.session.scalars(
        select(PetitionVersion).where(PetitionVersion.petition_id == petition.id)
        .order_by(PetitionVersion.version.desc())
    ).all()
