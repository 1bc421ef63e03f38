"""Who may see what: the one place every private page, command, task and API call asks.

An administrator sees every campaign; an organizer sees the campaigns they
organize. Anything private that belongs to a campaign (petitions, signatures,
events, mailings) is found through :func:`visible_campaign_ids`, and a miss is
a 404 to the caller: a request for another organizer's object must not reveal
that it exists.
"""

from flask import abort
from sqlalchemy import select

from campaign.campaigns.models import Campaign, campaign_organizers
from campaign.events.models import Event, Rsvp
from campaign.extensions import db
from campaign.mailing.models import Mailing
from campaign.petitions.models import Petition
from campaign.signatures.models import Signature


def visible_campaign_ids(user):
    """A subquery of the ids of the campaigns ``user`` may manage (all of them for an admin)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return select(Campaign.id).where(False)
    if user.is_admin:
        return select(Campaign.id)
    return select(campaign_organizers.c.campaign_id).where(campaign_organizers.c.user_id == user.id)


def visible_campaigns(user):
    """A select of the campaigns ``user`` may manage, newest first."""
    return (select(Campaign).where(Campaign.id.in_(visible_campaign_ids(user)))
            .order_by(Campaign.created_at.desc(), Campaign.id.desc()))


def find_managed_campaign(user, campaign_id):
    return db.session.scalars(
        select(Campaign).where(Campaign.id == campaign_id,
                               Campaign.id.in_(visible_campaign_ids(user)))
    ).one_or_none()


def find_managed_petition(user, petition_id):
    return db.session.scalars(
        select(Petition).where(Petition.id == petition_id,
                               Petition.campaign_id.in_(visible_campaign_ids(user)))
    ).one_or_none()


def find_managed_signature(user, signature_id):
    """The signature if it belongs to a petition of a campaign ``user`` manages, else None."""
    return db.session.scalars(
        select(Signature).join(Petition, Signature.petition_id == Petition.id)
        .where(Signature.id == signature_id,
               Petition.campaign_id.in_(visible_campaign_ids(user)))
    ).one_or_none()


def find_managed_event(user, event_id):
    return db.session.scalars(
        select(Event).where(Event.id == event_id, Event.campaign_id.in_(visible_campaign_ids(user)))
    ).one_or_none()


def find_managed_rsvp(user, rsvp_id):
    """The RSVP if it answers an event of a campaign ``user`` manages, else None."""
    return db.session.scalars(
        select(Rsvp).join(Event, Rsvp.event_id == Event.id)
        .where(Rsvp.id == rsvp_id, Event.campaign_id.in_(visible_campaign_ids(user)))
    ).one_or_none()


def find_managed_mailing(user, mailing_id):
    return db.session.scalars(
        select(Mailing).where(Mailing.id == mailing_id,
                              Mailing.campaign_id.in_(visible_campaign_ids(user)))
    ).one_or_none()


def managed_campaign_or_404(user, campaign_id):
    campaign = find_managed_campaign(user, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def managed_petition_or_404(user, petition_id):
    petition = find_managed_petition(user, petition_id)
    if petition is None:
        abort(404)
    return petition


def managed_event_or_404(user, event_id):
    event = find_managed_event(user, event_id)
    if event is None:
        abort(404)
    return event


def managed_rsvp_or_404(user, rsvp_id):
    rsvp = find_managed_rsvp(user, rsvp_id)
    if rsvp is None:
        abort(404)
    return rsvp


def managed_mailing_or_404(user, mailing_id):
    mailing = find_managed_mailing(user, mailing_id)
    if mailing is None:
        abort(404)
    return mailing
