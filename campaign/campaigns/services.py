"""Campaigns: reading them for the public pages, and organizers' authoring."""

import dataclasses
import itertools
import re
import unicodedata

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from campaign.accounts.access import visible_campaigns
from campaign.accounts.audit import record
from campaign.accounts.services import find_user_by_email
from campaign.campaigns.models import (
    VISIBLE_CAMPAIGN_STATUSES,
    Campaign,
    CampaignStatus,
    Demand,
    SlugRedirect,
)
from campaign.db import utcnow
from campaign.errors import DomainError
from campaign.extensions import db
from campaign.petitions.models import Petition, PetitionStatus, set_petition_status


def list_published_campaigns():
    return db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.PUBLISHED)
        .options(selectinload(Campaign.demands), selectinload(Campaign.petitions))
        .order_by(Campaign.published_at.desc(), Campaign.id.desc())
    ).all()


def find_visible_campaign(slug):
    """The campaign the public may read at ``slug``, with demands and petitions loaded, or None."""
    return db.session.scalars(
        select(Campaign).where(Campaign.slug == slug,
                               Campaign.status.in_(VISIBLE_CAMPAIGN_STATUSES))
        .options(selectinload(Campaign.demands), selectinload(Campaign.petitions))
    ).one_or_none()


# --- Authoring: what organizers do to their campaigns ------------------------------------------
#
# These functions flush and never commit: the view that calls them commits once.
# Lookups that take an id from a request go through campaign.accounts.access first.

SLUG_MAX = 80
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Letters NFKD does not split into a base letter and an accent.
_TRANSLITERATIONS = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                                   "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L",
                                   "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i"})
_APOSTROPHES = re.compile(r"['’ʼ]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")

# Campaigns may go back to draft, from where they can be published again; an
# archived campaign is not republished directly, so its closed petitions are
# looked at on the way.
STATUS_TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.PUBLISHED},
    CampaignStatus.PUBLISHED: {CampaignStatus.ARCHIVED, CampaignStatus.DRAFT},
    CampaignStatus.ARCHIVED: {CampaignStatus.DRAFT},
}
_STATUS_ACTIONS = {CampaignStatus.PUBLISHED: "campaign.publish",
                   CampaignStatus.ARCHIVED: "campaign.archive",
                   CampaignStatus.DRAFT: "campaign.return_to_draft"}


class AuthoringError(DomainError):
    """An organizer's change the rules refuse; ``message`` tells them why."""

    message = _l("This change could not be made.")


class StatusChangeNotAllowed(AuthoringError):
    status_code = 409
    message = _l("This campaign cannot go to that status from the one it has now.")


class CampaignTakenDown(AuthoringError):
    status_code = 403
    message = _l("An administrator took this campaign down. Only an administrator can publish it again.")


class OrganizerNotFound(AuthoringError):
    status_code = 404
    message = _l("No active account has this email address. Ask an administrator to invite them first.")


class AlreadyOrganizer(AuthoringError):
    status_code = 409
    message = _l("This person already organizes this campaign.")


class NotAnOrganizer(AuthoringError):
    status_code = 404
    message = _l("This person does not organize this campaign.")


class LastOrganizer(AuthoringError):
    status_code = 409
    message = _l("A campaign needs at least one organizer: add another before removing this one.")


@dataclasses.dataclass(frozen=True)
class CampaignDetails:
    """What an organizer typed into the campaign form, cleaned and checked for shape.

    An empty ``slug`` means "make one from the title"."""

    title: str
    slug: str = ""
    summary: str = ""
    body: str = ""


def slugify(text, fallback):
    """ASCII, lower-case words joined by hyphens, accents folded: "Éloïse's café" → "eloises-cafe"."""
    folded = unicodedata.normalize("NFKD", (text or "").translate(_TRANSLITERATIONS))
    ascii_text = _APOSTROPHES.sub("", folded).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    # Room for a "-NN" suffix, cut at a hyphen-free end.
    slug = slug[:SLUG_MAX - 6].rstrip("-")
    return slug or fallback


def _slugged_model(kind):
    from campaign.events.models import Event

    return {"campaign": Campaign, "petition": Petition, "event": Event}[kind]


# Slugs that would collide with fixed addresses under the same prefix.
_RESERVED_SLUGS = {"event": {"rsvp"}}


def _slug_taken(kind, slug, own_id):
    if slug in _RESERVED_SLUGS.get(kind, ()):
        return True
    model = _slugged_model(kind)
    live = db.session.scalar(select(model.id).where(model.slug == slug))
    if live is not None and live != own_id:
        return True
    # Another object's old address keeps answering for it: taking it over would
    # send that object's old links (already shared, printed) somewhere else.
    redirected = db.session.scalar(
        select(SlugRedirect.target_id).where(SlugRedirect.kind == kind, SlugRedirect.old_slug == slug))
    return redirected is not None and redirected != own_id


def available_slug(kind, wanted, own_id=None):
    """``wanted`` if no other campaign (or petition or event, by ``kind``) has or had it, else
    ``wanted-2``, ``wanted-3``… — the first free one."""
    if not _slug_taken(kind, wanted, own_id):
        return wanted
    for number in itertools.count(2):
        suffix = f"-{number}"
        candidate = wanted[:SLUG_MAX - len(suffix)].rstrip("-") + suffix
        if not _slug_taken(kind, candidate, own_id):
            return candidate
    raise AssertionError("unreachable")


def change_slug(kind, target, wanted):
    """Give ``target`` (a flushed campaign or petition) the slug ``wanted`` (made unique);
    its old one answers 301 to the new one from then on. Returns the slug given."""
    new_slug = available_slug(kind, wanted, own_id=target.id)
    old_slug = target.slug
    if new_slug == old_slug:
        return new_slug
    # Taking back one of its own old slugs: that redirect would now point at itself.
    db.session.execute(delete(SlugRedirect).where(
        SlugRedirect.kind == kind, SlugRedirect.old_slug == new_slug,
        SlugRedirect.target_id == target.id))
    if old_slug:
        db.session.add(SlugRedirect(kind=kind, old_slug=old_slug, target_id=target.id))
    target.slug = new_slug
    db.session.flush()
    return new_slug


def find_redirected_slug(kind, old_slug):
    """The current slug of the public campaign or petition that used to be at ``old_slug``,
    or None (never renamed, or no longer public)."""
    model = _slugged_model(kind)
    query = (select(model.slug)
             .join(SlugRedirect, SlugRedirect.target_id == model.id)
             .where(SlugRedirect.kind == kind, SlugRedirect.old_slug == old_slug))
    if model is not Campaign:
        query = query.join(model.campaign)
    if kind == "event":
        from campaign.events.models import VISIBLE_EVENT_STATUSES

        query = query.where(model.status.in_(VISIBLE_EVENT_STATUSES))
    return db.session.scalar(query.where(Campaign.status.in_(VISIBLE_CAMPAIGN_STATUSES)))


def list_managed_campaigns(user):
    """The campaigns ``user`` may manage (all of them for an admin), newest first,
    with their petitions loaded."""
    return db.session.scalars(
        visible_campaigns(user).options(selectinload(Campaign.petitions))
    ).all()


def create_campaign(details, *, creator):
    """A new draft campaign organized by ``creator``. Flushes; the caller commits."""
    campaign = Campaign(title=details.title, summary=details.summary, body=details.body,
                        status=CampaignStatus.DRAFT,
                        slug=available_slug("campaign", details.slug or slugify(details.title, "campaign")))
    campaign.organizers.append(creator)
    db.session.add(campaign)
    db.session.flush()
    record(creator, "campaign.create", "campaign", campaign.id, campaign_id=campaign.id)
    return campaign


def update_campaign(campaign, details):
    """Save the campaign's text; a new slug keeps the old address working. Flushes."""
    campaign.title = details.title
    campaign.summary = details.summary
    campaign.body = details.body
    change_slug("campaign", campaign, details.slug or slugify(details.title, "campaign"))
    db.session.flush()
    return campaign


def set_share_image(campaign, name):
    """Point the campaign at a stored image (or none with ``""``); returns the name it
    had, for the caller to delete once the change is committed."""
    previous = campaign.share_image
    campaign.share_image = name
    db.session.flush()
    return previous


def change_campaign_status(campaign, status, *, actor):
    """Publish, archive or return to draft, as ``STATUS_TRANSITIONS`` allows.

    Archiving closes every petition of the campaign (returning to draft reopens
    none). Asking for the status it already has changes nothing and returns
    False. Raises StatusChangeNotAllowed or CampaignTakenDown. Flushes.
    """
    try:
        status = CampaignStatus(status)
    except ValueError:
        raise StatusChangeNotAllowed() from None
    if status == campaign.status:
        return False
    if status not in STATUS_TRANSITIONS[campaign.status]:
        raise StatusChangeNotAllowed()
    if status == CampaignStatus.PUBLISHED:
        if campaign.unpublished_reason:
            if not actor.is_admin:
                raise CampaignTakenDown()
            campaign.unpublished_reason = ""
        if campaign.published_at is None:
            campaign.published_at = utcnow()
    if status == CampaignStatus.ARCHIVED:
        for petition in campaign.petitions:
            set_petition_status(petition, PetitionStatus.CLOSED)
    campaign.status = status
    record(actor, _STATUS_ACTIONS[status], "campaign", campaign.id, campaign_id=campaign.id)
    db.session.flush()
    return True


# --- Demands: an ordered list, positions 0..n-1 ------------------------------------------------

def find_demand(campaign, demand_id):
    """The demand ``demand_id`` of ``campaign`` (already access-checked), or None."""
    return next((demand for demand in campaign.demands if demand.id == demand_id), None)


def _renumber(campaign, demands):
    """Store ``demands`` in this order as positions 0..n-1.

    (campaign_id, position) is unique and checked row by row, so swapping two
    positions in place would collide half-way: every row first moves above the
    highest position in use, then down to its final place.
    """
    offset = max([len(demands), *(demand.position + 1 for demand in demands)])
    for index, demand in enumerate(demands):
        demand.position = offset + index
    db.session.flush()
    for index, demand in enumerate(demands):
        demand.position = index
    db.session.flush()
    # The relationship was loaded in the old order.
    db.session.expire(campaign, ["demands"])


def add_demand(campaign, text):
    """Append a demand at the end of the list. Flushes."""
    demand = Demand(campaign=campaign, text=text,
                    position=max((d.position for d in campaign.demands), default=-1) + 1)
    db.session.add(demand)
    db.session.flush()
    return demand


def edit_demand(demand, text):
    demand.text = text
    db.session.flush()
    return demand


def move_demand(demand, step):
    """Move a demand ``step`` places (-1 up, +1 down); False at either end. Flushes."""
    campaign = demand.campaign
    demands = list(campaign.demands)
    index = demands.index(demand)
    target = index + step
    if not 0 <= target < len(demands):
        return False
    demands[index], demands[target] = demands[target], demands[index]
    _renumber(campaign, demands)
    return True


def remove_demand(demand):
    """Delete a demand (with the backing signers gave it) and close the gap. Flushes."""
    campaign = demand.campaign
    remaining = [d for d in campaign.demands if d is not demand]
    db.session.delete(demand)
    # The deletion must reach the database before the others take its position.
    db.session.flush()
    _renumber(campaign, remaining)


# --- Co-organizers ------------------------------------------------------------------------------

def add_organizer(campaign, email, *, actor):
    """Make the active account with this email address an organizer of ``campaign``.

    Raises OrganizerNotFound (no such active account) or AlreadyOrganizer. Flushes.
    """
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        raise OrganizerNotFound()
    if user in campaign.organizers:
        raise AlreadyOrganizer()
    campaign.organizers.append(user)
    record(actor, "campaign.add_organizer", "user", user.id, campaign_id=campaign.id)
    db.session.flush()
    return user


def remove_organizer(campaign, user_id, *, actor):
    """Remove an organizer; never the last one. Raises NotAnOrganizer or LastOrganizer."""
    user = next((user for user in campaign.organizers if user.id == user_id), None)
    if user is None:
        raise NotAnOrganizer()
    if len(campaign.organizers) == 1:
        raise LastOrganizer()
    campaign.organizers.remove(user)
    record(actor, "campaign.remove_organizer", "user", user.id, campaign_id=campaign.id)
    db.session.flush()
    return user
