"""A supporter's own page, without a password or an account: a single-use link emailed on
request opens it for a while; from there they withdraw a signature, cancel an RSVP,
leave a list, get a copy of their data, or ask to be erased (confirmed by another link)."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from campaign.campaigns.models import Campaign
from campaign.db import utcnow
from campaign.errors import DomainError
from campaign.events.models import Event, Rsvp, RsvpStatus
from campaign.events.rsvps import cancel_rsvp, link_token
from campaign.extensions import db
from campaign.links import public_url
from campaign.mail.services import queue_email
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.mailing.unsubscribe import email_key, unsubscribe
from campaign.petitions.models import Petition
from campaign.petitions.services import change_confirmed_count, change_demand_counts
from campaign.privacy.erasure import erase_supporter
from campaign.privacy.models import LinkPurpose, SupporterLink
from campaign.security import hash_token, new_token
from campaign.signatures.models import Signature, SignatureDemand, SignatureStatus, Supporter


class LinkInvalid(DomainError):
    """The link is unknown, used already, or expired."""

    status_code = 404


def _issue_link(supporter, purpose, now):
    token, token_hash = new_token()
    minutes = current_app.config["SUPPORTER_LINK_MINUTES"]
    db.session.add(SupporterLink(supporter_id=supporter.id, purpose=purpose, token_hash=token_hash,
                                 expires_at=now + timedelta(minutes=minutes)))
    db.session.flush()
    return token


def send_sign_in_link(email, *, locale, now=None):
    """Email a link to the supporter's own page, if the address is known. Says nothing
    either way (the page must not reveal who has signed). Flushes; the caller commits."""
    now = now or utcnow()
    supporter = db.session.scalars(
        select(Supporter).where(Supporter.email_key == email_key(email))).one_or_none()
    if supporter is None or not supporter.email:
        return False
    token = _issue_link(supporter, LinkPurpose.SIGN_IN, now)
    queue_email("supporter_link", supporter.email, "supporter_link", supporter.locale or locale,
                link=public_url("privacy_me.open_link", token=token),
                minutes=current_app.config["SUPPORTER_LINK_MINUTES"],
                campaign={"title": current_app.config["ORGANISATION_NAME"]})
    return True


def find_link(token, purpose, *, now=None):
    """The live link behind ``token``, or raise :class:`LinkInvalid`."""
    now = now or utcnow()
    link = db.session.scalars(
        select(SupporterLink).where(SupporterLink.token_hash == hash_token(token or ""),
                                    SupporterLink.purpose == purpose)).one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise LinkInvalid("unknown, used or expired link")
    return link


def use_link(token, purpose, *, now=None):
    """Spend the single-use link behind ``token``; returns its supporter's id. One UPDATE
    decides, so two clicks at once cannot both use it. Flushes."""
    now = now or utcnow()
    link = find_link(token, purpose, now=now)
    spent = db.session.execute(
        update(SupporterLink).where(SupporterLink.id == link.id, SupporterLink.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if spent != 1:
        raise LinkInvalid("link used already")
    return link.supporter_id


def supporter_overview(supporter):
    """What the supporter's page lists: their signatures, RSVPs and subscriptions."""
    signatures = db.session.execute(
        select(Signature, Petition.title, Petition.slug)
        .join(Petition, Petition.id == Signature.petition_id)
        .where(Signature.supporter_id == supporter.id).order_by(Signature.id.desc())).all()
    rsvps = db.session.execute(
        select(Rsvp, Event.title, Event.slug, Event.starts_at).join(Event, Event.id == Rsvp.event_id)
        .where(Rsvp.supporter_id == supporter.id).order_by(Event.starts_at.desc())).all()
    subscriptions = db.session.execute(
        select(Subscription, Campaign.title).join(Campaign, Campaign.id == Subscription.campaign_id)
        .where(Subscription.supporter_id == supporter.id).order_by(Subscription.id)).all()
    return signatures, rsvps, subscriptions


def withdraw_signature(supporter, signature_id):
    """Delete one of the supporter's signatures; a confirmed one stops counting. Raises
    :class:`LinkInvalid` for a signature not theirs. Flushes."""
    signature = db.session.scalars(
        select(Signature).where(Signature.id == signature_id,
                                Signature.supporter_id == supporter.id).with_for_update()
    ).one_or_none()
    if signature is None:
        raise LinkInvalid("not this supporter's signature")
    if signature.status == SignatureStatus.CONFIRMED:
        change_confirmed_count(signature.petition_id, -1)
        demand_ids = db.session.scalars(select(SignatureDemand.demand_id).where(
            SignatureDemand.signature_id == signature.id)).all()
        if demand_ids:
            change_demand_counts(demand_ids, -1)
    db.session.delete(signature)
    db.session.flush()
    return signature


def cancel_own_rsvp(supporter, rsvp_id, *, now=None):
    rsvp = db.session.scalars(select(Rsvp).where(Rsvp.id == rsvp_id,
                                                 Rsvp.supporter_id == supporter.id)).one_or_none()
    if rsvp is None:
        raise LinkInvalid("not this supporter's RSVP")
    if rsvp.status != RsvpStatus.CANCELLED:
        cancel_rsvp(link_token(rsvp), now=now)
    return rsvp


def leave_list(supporter, subscription_id, *, now=None):
    subscription = db.session.scalars(
        select(Subscription).where(Subscription.id == subscription_id,
                                   Subscription.supporter_id == supporter.id)).one_or_none()
    if subscription is None:
        raise LinkInvalid("not this supporter's subscription")
    if subscription.status == SubscriptionStatus.SUBSCRIBED:
        unsubscribe(subscription, now=now)
    return subscription


def ask_for_erasure(supporter, *, now=None):
    """Email a link that confirms the erasure: a stolen page session alone cannot erase
    anyone. Flushes; the caller commits."""
    token = _issue_link(supporter, LinkPurpose.ERASE, now or utcnow())
    queue_email("erase_confirmation", supporter.email, "erase_confirmation", supporter.locale,
                link=public_url("privacy_me.confirm_erasure", token=token),
                minutes=current_app.config["SUPPORTER_LINK_MINUTES"],
                campaign={"title": current_app.config["ORGANISATION_NAME"]})


def erase_by_link(token, *, now=None):
    """Spend an erasure link and erase its supporter. Raises :class:`LinkInvalid`.
    Flushes; the caller commits."""
    supporter = db.session.get(Supporter, use_link(token, LinkPurpose.ERASE, now=now))
    return erase_supporter(supporter, now=now)
