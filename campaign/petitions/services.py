"""Petitions: public lookups and the confirmed-signature count."""

import dataclasses
import secrets
import time
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload

from campaign.campaigns.models import VISIBLE_CAMPAIGN_STATUSES, Campaign, Demand
from campaign.db import as_date, insert_ignoring_conflicts, prepared, utc_day
from campaign.extensions import db
from campaign.petitions.models import COUNT_SHARDS, Petition, PetitionCountShard, petition_is_open
from campaign.signatures.models import (
    DemandCountShard,
    Signature,
    SignatureDemand,
    SignatureStatus,
)

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
class DemandSummary:
    id: int
    text: str


@dataclasses.dataclass(frozen=True)
class CampaignSummary:
    title: str
    status: str
    # Only loaded when the petition lets signers choose: nothing else on the sign path needs them.
    demands: tuple[DemandSummary, ...] = ()


@dataclasses.dataclass(frozen=True)
class SignablePetition:
    """What signing needs to know of a petition: a plain snapshot, safe to keep between requests.

    Reads like a :class:`Petition` where signing looks (``campaign.title``,
    ``campaign.demands``…), so the sign form and service take either.
    """

    id: int
    slug: str
    title: str
    target: str
    status: str
    deadline_at: datetime | None
    required_fields: frozenset[str]
    consent_wording: str
    signers_choose_demands: bool
    current_version: int
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
               Petition.deadline_at, Petition.required_fields, Petition.consent_wording,
               Petition.signers_choose_demands, Petition.current_version,
               Campaign.id, Campaign.title, Campaign.status)
        .join(Petition.campaign)
        .where(Petition.slug == slug, Campaign.status.in_(VISIBLE_CAMPAIGN_STATUSES))
    ).one_or_none()
    snapshot = None
    if row is not None:
        (petition_id, petition_slug, title, target, status, deadline_at, required_fields,
         consent_wording, signers_choose_demands, current_version,
         campaign_id, campaign_title, campaign_status) = row
        demands = ()
        if signers_choose_demands:
            demands = tuple(DemandSummary(*demand) for demand in db.session.execute(
                select(Demand.id, Demand.text).where(Demand.campaign_id == campaign_id)
                .order_by(Demand.position)))
        snapshot = SignablePetition(
            id=petition_id, slug=petition_slug, title=title, target=target, status=status,
            deadline_at=deadline_at,
            required_fields=frozenset(("postal_code",) if required_fields is None
                                      else required_fields),
            consent_wording=consent_wording or "",
            signers_choose_demands=bool(signers_choose_demands),
            current_version=current_version or 1,
            campaign=CampaignSummary(campaign_title, campaign_status, demands))
    if seconds > 0:
        if len(cache) > 1000:
            cache.clear()
        cache[slug] = (now + seconds, snapshot)
    return snapshot


def _sum_shards(key_column, confirmed_column, ids):
    """``{id: total}`` over count shards: a handful of indexed rows per id."""
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(key_column, func.sum(confirmed_column)).where(key_column.in_(ids))
        .group_by(key_column)
    ).all()
    counts = dict.fromkeys(ids, 0)
    counts.update({key: int(total or 0) for key, total in rows})
    return counts


def confirmed_counts(petition_ids):
    """``{petition_id: confirmed signatures}`` from the count shards, never a scan of the
    signatures."""
    return _sum_shards(PetitionCountShard.petition_id, PetitionCountShard.confirmed, petition_ids)


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


def _build_demand_count_update():
    table = DemandCountShard.__table__
    return (update(table)
            .where(table.c.demand_id == bindparam("count_demand_id"),
                   table.c.shard == bindparam("count_shard"))
            .values(confirmed=table.c.confirmed + bindparam("count_delta")))


def change_demand_counts(demand_ids, delta):
    """Add ``delta`` to the backers of each of ``demand_ids``, in the caller's transaction.

    The same random-shard scheme as :func:`change_confirmed_count`. Demands are
    taken in id order, so two confirmations backing the same demands lock their
    rows in the same order and never deadlock. A demand's count rows are created
    on first use (demands can be added to a campaign at any time).
    """
    statement = prepared("change-demand-count", _build_demand_count_update)
    for demand_id in sorted(set(demand_ids)):
        shard = secrets.randbelow(COUNT_SHARDS) if COUNT_SHARDS > 1 else 0
        values = {"count_demand_id": demand_id, "count_shard": shard, "count_delta": delta}
        if not db.session.execute(statement, values).rowcount:
            insert_ignoring_conflicts(DemandCountShard,
                                      {"demand_id": demand_id, "shard": shard, "confirmed": 0})
            db.session.execute(statement, values)


def demand_counts(demand_ids):
    """``{demand_id: confirmed signatures backing it}`` from the demands' count rows."""
    return _sum_shards(DemandCountShard.demand_id, DemandCountShard.confirmed, demand_ids)


def campaign_demand_counts(campaign):
    """The backers of each of ``campaign``'s demands when any of its petitions lets signers
    choose demands (``{demand_id: count}``), else None: then the page shows no counts."""
    if not any(petition.signers_choose_demands for petition in campaign.petitions):
        return None
    return demand_counts(demand.id for demand in campaign.demands)


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
    campaign_id = None
    if petition_id:
        campaign_id = db.session.scalar(select(Petition.campaign_id).where(Petition.id == petition_id))
    return corrected + _recount_demands(campaign_id)


def _recount_demands(campaign_id=None):
    """Set each demand's backers (of ``campaign_id``'s demands, or of every demand) to
    the confirmed signatures that chose it, after locking its count rows as
    :func:`recount_signatures` does. Returns how many counts it corrected."""
    shards_query = select(DemandCountShard).order_by(DemandCountShard.demand_id,
                                                     DemandCountShard.shard)
    actual_query = (select(SignatureDemand.demand_id, func.count())
                    .join(Signature, Signature.id == SignatureDemand.signature_id)
                    .where(Signature.status == SignatureStatus.CONFIRMED)
                    .group_by(SignatureDemand.demand_id))
    demands_query = select(Demand.id)
    if campaign_id is not None:
        shards_query = shards_query.join(Demand, Demand.id == DemandCountShard.demand_id) \
            .where(Demand.campaign_id == campaign_id)
        actual_query = actual_query.join(Demand, Demand.id == SignatureDemand.demand_id) \
            .where(Demand.campaign_id == campaign_id)
        demands_query = demands_query.where(Demand.campaign_id == campaign_id)
    shards_by_demand = {}
    for shard in db.session.scalars(shards_query.with_for_update(of=DemandCountShard)):
        shards_by_demand.setdefault(shard.demand_id, []).append(shard)
    actual = {demand_id: count for demand_id, count in db.session.execute(actual_query)}
    corrected = 0
    for demand_id in db.session.scalars(demands_query.order_by(Demand.id)):
        shards = shards_by_demand.get(demand_id, [])
        count = actual.get(demand_id, 0)
        if sum(shard.confirmed for shard in shards) == count:
            continue
        corrected += 1
        if not shards:
            db.session.add(DemandCountShard(demand_id=demand_id, shard=0, confirmed=count))
            continue
        for shard in shards:
            shard.confirmed = 0
        shards[0].confirmed = count
    return corrected


@dataclasses.dataclass(frozen=True)
class DayTotal:
    """One UTC day of a petition's confirmations, for its open data."""

    day: date
    confirmed: int
    cumulative: int
    demands: dict  # {demand_id: confirmed signatures backing it that day}


def list_daily_confirmations(petition):
    """The confirmed signatures of ``petition`` (a :class:`Petition` or
    :class:`SignablePetition`) per UTC day of confirmation, from the first such
    day to the last, quiet days included; per demand too when signers choose.

    Counts signatures still confirmed (invalidated ones drop out of the day they
    were confirmed). Runs GROUP BY queries over the petition's signatures: meant
    for cached open-data files, never for page views.
    """
    day = utc_day(Signature.confirmed_at)
    confirmed_here = (Signature.petition_id == petition.id,
                      Signature.status == SignatureStatus.CONFIRMED,
                      Signature.confirmed_at.is_not(None))
    per_day = {as_date(value): count for value, count in db.session.execute(
        select(day, func.count()).where(*confirmed_here).group_by(day))}
    per_demand = {}
    if petition.signers_choose_demands:
        rows = db.session.execute(
            select(day, SignatureDemand.demand_id, func.count()).select_from(Signature)
            .join(SignatureDemand, SignatureDemand.signature_id == Signature.id)
            .where(*confirmed_here).group_by(day, SignatureDemand.demand_id))
        for value, demand_id, count in rows:
            per_demand.setdefault(as_date(value), {})[demand_id] = count
    if not per_day:
        return []
    first, last = min(per_day), max(per_day)
    demand_ids = [demand.id for demand in petition.campaign.demands] \
        if petition.signers_choose_demands else []
    totals, cumulative = [], 0
    for offset in range((last - first).days + 1):
        current = first + timedelta(days=offset)
        cumulative += per_day.get(current, 0)
        backers = per_demand.get(current, {})
        totals.append(DayTotal(current, per_day.get(current, 0), cumulative,
                               {demand_id: backers.get(demand_id, 0) for demand_id in demand_ids}))
    return totals


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

