"""Petitions: public lookups and the confirmed-signature count."""

import dataclasses
import secrets
import time
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from campaign.campaigns.models import VISIBLE_CAMPAIGN_STATUSES, Campaign
from campaign.db import insert_ignoring_conflicts
from campaign.extensions import db
from campaign.petitions.models import COUNT_SHARDS, Petition, PetitionCountShard, petition_is_open
from campaign.signatures.models import Signature, SignatureStatus

# Goals a petition rises to once it passes the one its organizers set.
_GOAL_STEPS = (1, 2, 2.5, 5)


def find_visible_petition(slug):
    """The petition at ``slug`` if its campaign is public, with the campaign loaded, or None."""
    return db.session.scalars(
        select(Petition).join(Petition.campaign)
        .where(Petition.slug == slug, Campaign.status.in_(VISIBLE_CAMPAIGN_STATUSES))
        .options(joinedload(Petition.campaign).selectinload(Campaign.demands))
    ).one_or_none()


@dataclasses.dataclass(frozen=True)
class CampaignSummary:
    title: str
    status: str


@dataclasses.dataclass(frozen=True)
class SignablePetition:
    """What signing needs to know of a petition: a plain snapshot, safe to keep between requests."""

    id: int
    slug: str
    title: str
    target: str
    status: str
    deadline_at: datetime | None
    campaign: CampaignSummary

    def is_open(self, now):
        return petition_is_open(self.status, self.deadline_at, self.campaign.status, now)


def find_signable_petition(slug):
    """The visible petition at ``slug`` as a :class:`SignablePetition`, or None.

    Kept per process for ``PAGE_CACHE_SECONDS``, like the public pages: under a
    surge every signature would otherwise start with the same lookup. A petition
    closed meanwhile takes signatures for at most that long, and confirming
    checks again.
    """
    app = current_app._get_current_object()
    seconds = app.config["PAGE_CACHE_SECONDS"]
    cache = app.extensions.setdefault("placard_signable_petitions", {})
    now = time.monotonic()
    cached = cache.get(slug)
    if cached is not None and cached[0] > now:
        return cached[1]
    row = db.session.execute(
        select(Petition.id, Petition.slug, Petition.title, Petition.target, Petition.status,
               Petition.deadline_at, Campaign.title, Campaign.status)
        .join(Petition.campaign)
        .where(Petition.slug == slug, Campaign.status.in_(VISIBLE_CAMPAIGN_STATUSES))
    ).one_or_none()
    snapshot = None
    if row is not None:
        *fields, campaign_title, campaign_status = row
        snapshot = SignablePetition(*fields, campaign=CampaignSummary(campaign_title, campaign_status))
    if seconds > 0:
        if len(cache) > 1000:
            cache.clear()
        cache[slug] = (now + seconds, snapshot)
    return snapshot


def confirmed_counts(petition_ids):
    """``{petition_id: confirmed signatures}`` from the count shards: a handful of
    indexed rows per petition, never a scan of the signatures."""
    petition_ids = list(petition_ids)
    if not petition_ids:
        return {}
    rows = db.session.execute(
        select(PetitionCountShard.petition_id, func.sum(PetitionCountShard.confirmed))
        .where(PetitionCountShard.petition_id.in_(petition_ids))
        .group_by(PetitionCountShard.petition_id)
    ).all()
    counts = dict.fromkeys(petition_ids, 0)
    counts.update({petition_id: int(total or 0) for petition_id, total in rows})
    return counts


def change_confirmed_count(petition_id, delta):
    """Add ``delta`` to a petition's count, in the caller's transaction.

    A random shard spreads concurrent confirmations over several rows, so they
    do not wait for each other; the count stays exact because each change
    commits or rolls back with the signature it counts.
    """
    shard = secrets.randbelow(COUNT_SHARDS) if COUNT_SHARDS > 1 else 0
    changed = db.session.execute(
        update(PetitionCountShard)
        .where(PetitionCountShard.petition_id == petition_id, PetitionCountShard.shard == shard)
        .values(confirmed=PetitionCountShard.confirmed + delta)
    ).rowcount
    if not changed:
        insert_ignoring_conflicts(PetitionCountShard,
                                  {"petition_id": petition_id, "shard": shard, "confirmed": 0})
        db.session.execute(
            update(PetitionCountShard)
            .where(PetitionCountShard.petition_id == petition_id,
                   PetitionCountShard.shard == shard)
            .values(confirmed=PetitionCountShard.confirmed + delta))


def recount_signatures(petition_id=None):
    """Set each petition's count to its confirmed signatures, counted afresh.

    A safety net, run periodically by the worker: the count is kept exact as
    signatures are confirmed, and this repairs it after anything that changed
    signatures behind the services' back. The count's rows are locked first, so
    a confirmation committing meanwhile is neither lost nor counted twice.
    Idempotent; the caller commits. Returns how many counts it corrected.
    """
    petition_ids = [petition_id] if petition_id else db.session.scalars(select(Petition.id)).all()
    corrected = 0
    for current_id in petition_ids:
        shards = db.session.scalars(
            select(PetitionCountShard).where(PetitionCountShard.petition_id == current_id)
            .order_by(PetitionCountShard.shard).with_for_update()
        ).all()
        actual = db.session.scalar(
            select(func.count()).select_from(Signature)
            .where(Signature.petition_id == current_id,
                   Signature.status == SignatureStatus.CONFIRMED))
        if sum(shard.confirmed for shard in shards) == actual and shards:
            continue
        corrected += 1
        if not shards:
            db.session.add(PetitionCountShard(petition_id=current_id, shard=0, confirmed=actual))
            continue
        for shard in shards:
            shard.confirmed = 0
        shards[0].confirmed = actual
    return corrected


def displayed_goal(count, goal):
    """The goal to show: the organizers' own, then the next round step above the count
    once it is passed (1,000 → 2,000 → 2,500 → 5,000 → 10,000 …)."""
    goal = max(goal or 1, 1)
    if count < goal:
        return goal
    magnitude = 1
    while True:
        for step in _GOAL_STEPS:
            candidate = int(step * magnitude)
            if candidate > count and candidate > goal:
                return candidate
        magnitude *= 10


def create_count_shards(petition):
    """Give a new petition its count rows (all at zero). The caller commits."""
    db.session.add_all(PetitionCountShard(petition_id=petition.id, shard=shard, confirmed=0)
                       for shard in range(COUNT_SHARDS))

