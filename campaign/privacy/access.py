"""A supporter's right of access: everything Placard holds on them, as data and as text."""

import json

from flask import current_app
from sqlalchemy import func, select

from campaign.api.models import PersonProfile
from campaign.campaigns.models import Campaign
from campaign.events.models import Event, Rsvp
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from campaign.mail.services import Attachment, queue_email
from campaign.mailing.models import Delivery, Mailing, Subscription, Suppression
from campaign.petitions.models import Petition
from campaign.signatures.models import Signature
from campaign.tags.models import Tag, Tagging


def _when(value):
    return value.isoformat() if value is not None else None


def supporter_data(supporter):
    """A JSON-serialisable dict of every record that names ``supporter``."""
    signatures = db.session.execute(
        select(Signature, Petition.title).join(Petition, Petition.id == Signature.petition_id)
        .where(Signature.supporter_id == supporter.id).order_by(Signature.id)).all()
    rsvps = db.session.execute(
        select(Rsvp, Event.title).join(Event, Event.id == Rsvp.event_id)
        .where(Rsvp.supporter_id == supporter.id).order_by(Rsvp.id)).all()
    subscriptions = db.session.execute(
        select(Subscription, Campaign.title).join(Campaign, Campaign.id == Subscription.campaign_id)
        .where(Subscription.supporter_id == supporter.id).order_by(Subscription.id)).all()
    deliveries = db.session.execute(
        select(Delivery, Mailing.subject).join(Mailing, Mailing.id == Delivery.mailing_id)
        .where(Delivery.supporter_id == supporter.id).order_by(Delivery.id)).all()
    emails = db.session.scalars(
        select(OutboundEmail).where(func.lower(OutboundEmail.to_address) == supporter.email_key)
        .order_by(OutboundEmail.id)).all()
    suppression = db.session.scalars(
        select(Suppression).where(Suppression.email_key == supporter.email_key)).one_or_none()
    profiles = db.session.execute(
        select(PersonProfile, Campaign.title).join(Campaign, Campaign.id == PersonProfile.campaign_id)
        .where(PersonProfile.supporter_id == supporter.id).order_by(PersonProfile.id)).all()
    tags = db.session.execute(
        select(Tag.name, Campaign.title, Tagging.created_at).join(Tag, Tag.id == Tagging.tag_id)
        .join(Campaign, Campaign.id == Tag.campaign_id)
        .where(Tagging.supporter_id == supporter.id).order_by(Tagging.id)).all()
    return {
        "person": {
            "email": supporter.email, "first_name": supporter.first_name,
            "last_name": supporter.last_name, "postal_code": supporter.postal_code,
            "country": supporter.country, "language": supporter.locale,
            "first_seen": _when(supporter.created_at),
        },
        "signatures": [{
            "petition": title, "status": str(signature.status),
            "signed_at": _when(signature.created_at), "confirmed_at": _when(signature.confirmed_at),
            "first_name": signature.first_name, "last_name": signature.last_name,
            "postal_code": signature.postal_code, "country": signature.country,
            "comment": signature.comment, "wants_updates": signature.wants_updates,
            "consent_wording": signature.consent_wording, "source": signature.source,
            "came_from": {"utm_source": signature.utm_source, "utm_medium": signature.utm_medium,
                          "utm_campaign": signature.utm_campaign,
                          "referrer_host": signature.referrer_host},
            "ip_address_hash_kept": signature.ip_hash is not None,
        } for signature, title in signatures],
        "rsvps": [{
            "event": title, "status": str(rsvp.status), "name": rsvp.name, "guests": rsvp.guests,
            "answered_at": _when(rsvp.created_at), "confirmed_at": _when(rsvp.confirmed_at),
            "cancelled_at": _when(rsvp.cancelled_at), "checked_in_at": _when(rsvp.checked_in_at),
            "consent_wording": rsvp.consent_wording,
        } for rsvp, title in rsvps],
        "mailing_lists": [{
            "campaign": title, "status": str(subscription.status),
            "consent_wording": subscription.consent_wording,
            "consent_at": _when(subscription.consent_at),
            "consent_source": subscription.consent_source,
            "unsubscribed_at": _when(subscription.unsubscribed_at),
        } for subscription, title in subscriptions],
        "mailings_received": [{
            "subject": subject, "status": str(delivery.status), "sent_at": _when(delivery.sent_at),
        } for delivery, subject in deliveries],
        "emails": [{
            "kind": email.kind, "subject": email.subject, "status": str(email.status),
            "queued_at": _when(email.created_at), "sent_at": _when(email.sent_at),
        } for email in emails],
        "campaign_profiles": [{
            "campaign": title, "given_name": profile.given_name,
            "family_name": profile.family_name, "postal_code": profile.postal_code,
            "country": profile.country, "language": profile.locale,
            "updated_at": _when(profile.updated_at),
        } for profile, title in profiles],
        "tags": [{"campaign": title, "tag": name, "since": _when(since)}
                 for name, title, since in tags],
        "suppression": None if suppression is None or suppression.reason is None else {
            "reason": str(suppression.reason), "since": _when(suppression.suppressed_at),
        },
    }


def send_data_copy(supporter):
    """Email ``supporter`` everything held on them: readable in the message, and complete
    as a JSON attachment. Flushes; the caller commits."""
    data = supporter_data(supporter)
    attachment = Attachment("placard-data.json", "application/json",
                            json.dumps(data, ensure_ascii=False, indent=2))
    return queue_email("data_copy", supporter.email, "data_copy", supporter.locale,
                       attachments=[attachment], data=data,
                       campaign={"title": current_app.config["ORGANISATION_NAME"]})
