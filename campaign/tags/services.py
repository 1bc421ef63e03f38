"""Putting an organizer's tags on supporters."""

from sqlalchemy import select

from campaign.db import insert_ignoring_conflicts, utcnow
from campaign.extensions import db
from campaign.tags.models import Tag, Tagging


def find_or_create_tag(campaign, name):
    """The campaign's tag called ``name``, made if new (race-free). Flushes."""
    now = utcnow()
    insert_ignoring_conflicts(Tag, {"campaign_id": campaign.id, "name": name,
                                    "created_at": now, "updated_at": now})
    return db.session.scalars(
        select(Tag).where(Tag.campaign_id == campaign.id, Tag.name == name)).one()


def tag_supporter(tag, supporter_id):
    """Put ``tag`` on the supporter; doing it twice changes nothing. Returns the tagging."""
    now = utcnow()
    insert_ignoring_conflicts(Tagging, {"tag_id": tag.id, "supporter_id": supporter_id,
                                        "created_at": now, "updated_at": now})
    return db.session.scalars(
        select(Tagging).where(Tagging.tag_id == tag.id, Tagging.supporter_id == supporter_id)).one()


def apply_tags(campaign, supporter_id, names):
    for name in names:
        tag_supporter(find_or_create_tag(campaign, name), supporter_id)


def remove_tagging(tagging):
    db.session.delete(tagging)
    db.session.flush()
