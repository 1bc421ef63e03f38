"""What one API token may see: the records of its campaigns, and the people in them.

Every query the API runs starts here. A person belongs to a token's view when
they signed one of its petitions, answered one of its events, are (or were) on
one of its lists, or carry one of its tags; anything else is a 404, whether it
exists or not.
"""

from uuid import UUID

from sqlalchemy import func, literal, select, union, union_all

from campaign.api.http import not_found
from campaign.api.models import PersonProfile
from campaign.api.resources import PersonDetails
from campaign.api.tokens import token_campaign_ids
from campaign.campaigns.models import Campaign
from campaign.events.models import Event, Rsvp
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.petitions.models import Petition
from campaign.signatures.models import Signature, SignatureStatus, Supporter
from campaign.tags.models import Tag, Tagging

# Signatures the API shows: those waiting for their email link and those counted.
# Set-aside (invalidated) ones are the organizers' business on their own pages.
SHOWN_SIGNATURE_STATUSES = (SignatureStatus.PENDING, SignatureStatus.CONFIRMED)


def uuid_from(identifier):
    """The uuid in a URL or an OSDI identifier (``placard:<uuid>``), or None."""
    text = (identifier or "").strip()
    text = text.removeprefix("placard:")
    try:
        return str(UUID(text))
    except ValueError:
        return None


def person_dates(campaign_ids, supporter_ids=None):
    """A subquery of (supporter_id, created_at, updated_at): when these campaigns first
    heard of each person and when anything they hold of the person last changed (a
    signature, an RSVP, the list, a tag, the API's profile). Never the shared supporter
    record's dates, which move when the person acts in another campaign. Limited to
    ``supporter_ids`` when given (a page of people), else every person of the campaigns."""
    def dated(model, *where, join=None):
        # A profile alone does not make someone one of the campaigns' people (see the
        # module's docstring); the four other kinds of record do.
        statement = select(model.supporter_id.label("supporter_id"),
                           model.created_at.label("created_at"),
                           model.updated_at.label("updated_at"),
                           literal(0 if model is PersonProfile else 1).label("member"))
        if join is not None:
            statement = statement.join(*join)
        if supporter_ids is not None:
            statement = statement.where(model.supporter_id.in_(supporter_ids))
        return statement.where(*where)

    rows = union_all(
        dated(Signature, Petition.campaign_id.in_(campaign_ids),
              Signature.status.in_(SHOWN_SIGNATURE_STATUSES), Signature.supporter_id.is_not(None),
              join=(Petition, Signature.petition_id == Petition.id)),
        dated(Rsvp, Event.campaign_id.in_(campaign_ids), join=(Event, Rsvp.event_id == Event.id)),
        dated(Subscription, Subscription.campaign_id.in_(campaign_ids)),
        dated(Tagging, Tag.campaign_id.in_(campaign_ids), join=(Tag, Tagging.tag_id == Tag.id)),
        dated(PersonProfile, PersonProfile.campaign_id.in_(campaign_ids)),
    ).subquery()
    return (select(rows.c.supporter_id, func.min(rows.c.created_at).label("created_at"),
                   func.max(rows.c.updated_at).label("updated_at"),
                   func.max(rows.c.member).label("member"))
            .group_by(rows.c.supporter_id).subquery("person_dates"))


def person_dates_of(campaign_ids, supporter_ids):
    """``{supporter_id: (created_at, updated_at)}`` for these people (see :func:`person_dates`)."""
    if not supporter_ids:
        return {}
    dates = person_dates(campaign_ids, supporter_ids)
    return {row.supporter_id: (row.created_at, row.updated_at)
            for row in db.session.execute(select(dates))}


class Scope:
    def __init__(self, token):
        self.token = token
        self.campaign_ids = db.session.scalars(token_campaign_ids(token)).all()

    # --- Campaigns and their records ---------------------------------------------------------

    def campaigns(self):
        return select(Campaign).where(Campaign.id.in_(self.campaign_ids))

    def petitions(self):
        return select(Petition).where(Petition.campaign_id.in_(self.campaign_ids))

    def events(self):
        return select(Event).where(Event.campaign_id.in_(self.campaign_ids))

    def tags(self):
        return select(Tag).where(Tag.campaign_id.in_(self.campaign_ids))

    def one(self, statement, model, identifier):
        """The record of ``statement`` with this uuid, else a 404."""
        uuid = uuid_from(identifier)
        if uuid is None:
            raise not_found()
        statement = statement.where(model.uuid == uuid)
        record = db.session.scalars(statement).unique().one_or_none()
        if record is None:
            raise not_found()
        return record

    def campaign(self, identifier):
        return self.one(self.campaigns(), Campaign, identifier)

    def petition(self, identifier):
        return self.one(self.petitions(), Petition, identifier)

    def event(self, identifier):
        return self.one(self.events(), Event, identifier)

    def tag(self, identifier):
        return self.one(self.tags(), Tag, identifier)

    # --- People ------------------------------------------------------------------------------

    def supporter_ids(self):
        """Ids of the people in the token's campaigns (see the module's docstring)."""
        campaign_ids = self.campaign_ids
        return union(
            select(Signature.supporter_id).join(Petition, Signature.petition_id == Petition.id)
            .where(Petition.campaign_id.in_(campaign_ids),
                   Signature.status.in_(SHOWN_SIGNATURE_STATUSES),
                   Signature.supporter_id.is_not(None)),
            select(Rsvp.supporter_id).join(Event, Rsvp.event_id == Event.id)
            .where(Event.campaign_id.in_(campaign_ids)),
            select(Subscription.supporter_id).where(Subscription.campaign_id.in_(campaign_ids)),
            select(Tagging.supporter_id).join(Tag, Tagging.tag_id == Tag.id)
            .where(Tag.campaign_id.in_(campaign_ids)),
        )

    def people(self):
        return select(Supporter).where(Supporter.id.in_(self.supporter_ids()))

    def people_dated(self, conditions):
        """The token's people whose dates (those its campaigns give each person) meet
        ``conditions(created_at, updated_at)``. The dates are drawn from the same records
        as :meth:`people`, so they alone choose the same people, without a second pass."""
        dates = person_dates(self.campaign_ids)
        chosen = select(dates.c.supporter_id).where(
            dates.c.member == 1, *conditions(dates.c.created_at, dates.c.updated_at))
        return select(Supporter).where(Supporter.id.in_(chosen))

    def person_dates_of(self, supporter_ids):
        return person_dates_of(self.campaign_ids, supporter_ids)

    def person(self, identifier):
        return self.one(self.people(), Supporter, identifier)

    def subscribed_ids(self, supporter_ids):
        """Which of ``supporter_ids`` are on the list of one of the token's campaigns."""
        if not supporter_ids:
            return set()
        return set(db.session.scalars(
            select(Subscription.supporter_id).where(
                Subscription.supporter_id.in_(supporter_ids),
                Subscription.campaign_id.in_(self.campaign_ids),
                Subscription.status == SubscriptionStatus.SUBSCRIBED)))

    def person_details(self, supporter_ids):
        """``{supporter_id: PersonDetails}``: what the token's campaigns know of each person.
        Their API clients' profile of the person first, else what the person gave the
        newest of the token's signatures, else their newest RSVP."""
        found = {}
        profiles = db.session.scalars(
            select(PersonProfile).where(PersonProfile.supporter_id.in_(supporter_ids),
                                        PersonProfile.campaign_id.in_(self.campaign_ids))
            .order_by(PersonProfile.updated_at.desc(), PersonProfile.id.desc()))
        for profile in profiles:
            found.setdefault(profile.supporter_id, PersonDetails(
                profile.given_name, profile.family_name, profile.postal_code, profile.country,
                profile.locale))
        missing = [number for number in supporter_ids if number not in found]
        if missing:
            for signature in db.session.scalars(
                    self.signatures().where(Signature.supporter_id.in_(missing))
                    .order_by(Signature.id.desc())):
                found.setdefault(signature.supporter_id, PersonDetails.of_signature(signature))
        missing = [number for number in supporter_ids if number not in found]
        if missing:
            for rsvp in db.session.scalars(
                    self.attendances().where(Rsvp.supporter_id.in_(missing))
                    .order_by(Rsvp.id.desc())):
                found.setdefault(rsvp.supporter_id, PersonDetails.of_rsvp(rsvp))
        return {number: found.get(number, PersonDetails()) for number in supporter_ids}

    # --- Actions -----------------------------------------------------------------------------

    def signatures(self):
        return (select(Signature).join(Petition, Signature.petition_id == Petition.id)
                .where(Petition.campaign_id.in_(self.campaign_ids),
                       Signature.status.in_(SHOWN_SIGNATURE_STATUSES),
                       Signature.supporter_id.is_not(None)))

    def attendances(self):
        return (select(Rsvp).join(Event, Rsvp.event_id == Event.id)
                .where(Event.campaign_id.in_(self.campaign_ids)))

    def taggings(self):
        return (select(Tagging).join(Tag, Tagging.tag_id == Tag.id)
                .where(Tag.campaign_id.in_(self.campaign_ids)))
