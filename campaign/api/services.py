"""What the API's helpers do, through the same services as the web forms.

A signature recorded here is validated, deduplicated and counted by
``campaign.signatures.services`` exactly as one from the sign form; only its
``source`` says it came through the API. The token vouches for the person when
the request turns the autoresponse off (as an organizer does for paper
signatures): confirmed at once, no email. With it on, the person gets the
confirmation email and counts once they confirm.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from campaign.api.http import ApiError
from campaign.api.inputs import (
    TEXT_MAX,
    TITLE_MAX,
    PersonInput,
    autoresponse,
    comments,
    ends_after,
    event_kind,
    event_status,
    moment,
    tag_name,
    tags_to_add,
    target_name,
    text,
    timezone_name,
    whole_number,
)
from campaign.api.models import PersonProfile
from campaign.api.scope import uuid_from
from campaign.campaigns.models import Campaign
from campaign.db import utcnow
from campaign.events import rsvps
from campaign.events import services as events
from campaign.events.models import EventStatus, Rsvp
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.mailing.services import record_consent
from campaign.mailing.unsubscribe import unsubscribe
from campaign.petitions import authoring
from campaign.petitions.models import PetitionStatus
from campaign.signatures import services as signing
from campaign.signatures.models import Signature, Supporter
from campaign.signatures.services import find_or_create_supporter_id
from campaign.tags.services import apply_tags, find_or_create_tag, tag_supporter

SOURCE_MAX = 100
RSVP_NAME_MAX = 200  # Rsvp.name


def source_label(token):
    return f"api: {token.name}"[:SOURCE_MAX]


def vouched_consent_wording(token):
    return f"Vouched for by an organizer through the API (token “{token.name}”)"


def campaign_for(scope, body):
    """The campaign a new record goes into: ``placard:campaign`` (a list's identifier), or
    the token's only campaign."""
    identifier = body.get("placard:campaign")
    if identifier is None:
        if len(scope.campaign_ids) == 1:
            return db.session.get(Campaign, scope.campaign_ids[0])
        raise ApiError(400, _("This token covers several campaigns: say which one in "
                              "placard:campaign (the identifier of its list)."), "placard:campaign")
    if not isinstance(identifier, str) or uuid_from(identifier) is None:
        raise ApiError(400, _("placard:campaign must be a list's identifier, such as "
                              "placard:<uuid>."), "placard:campaign")
    return scope.campaign(identifier)


# --- People ---------------------------------------------------------------------------------

def person_signup(scope, body, *, now=None):
    """The person signup helper: find or add the person by email address, update what the
    body says of them, and put them on the campaign's list unless told they are
    unsubscribed. Someone who left the list themselves stays off it: a sync tool resending
    old data must not undo a supporter's own choice."""
    now = now or utcnow()
    person = PersonInput(body, names_required=False)
    names = tags_to_add(body)
    campaign = campaign_for(scope, body)
    supporter = db.session.get(Supporter, find_or_create_supporter_id(person.email,
                                                                      person.locale or "en"))
    _update_profile(_profile(campaign, supporter), person)
    subscription = _subscription(supporter, campaign)
    if person.email_status == "unsubscribed":
        if subscription is None:
            # Known to the campaign, and not on its list.
            db.session.add(Subscription(
                supporter_id=supporter.id, campaign_id=campaign.id,
                status=SubscriptionStatus.UNSUBSCRIBED, consent_wording="", consent_at=now,
                consent_source=source_label(scope.token), unsubscribed_at=now))
        else:
            unsubscribe(subscription, now=now)
    else:
        _subscribe_unless_they_left(scope, supporter, campaign, subscription, now)
    apply_tags(campaign, supporter.id, names)
    db.session.flush()
    return supporter


def _subscription(supporter, campaign):
    return db.session.scalars(
        select(Subscription).where(Subscription.supporter_id == supporter.id,
                                   Subscription.campaign_id == campaign.id)).one_or_none()


def _subscribe_unless_they_left(scope, supporter, campaign, subscription, now):
    """Put the person on the campaign's list on the token's word, unless they left it: a
    sync tool resending old data must not undo a supporter's own choice."""
    if subscription is None or subscription.status != SubscriptionStatus.UNSUBSCRIBED:
        record_consent(supporter, campaign, vouched_consent_wording(scope.token),
                       source_label(scope.token), now)


def _profile(campaign, supporter):
    profile = db.session.scalars(select(PersonProfile).where(
        PersonProfile.campaign_id == campaign.id,
        PersonProfile.supporter_id == supporter.id)).one_or_none()
    if profile is None:
        profile = PersonProfile(campaign_id=campaign.id, supporter_id=supporter.id)
        db.session.add(profile)
    return profile


def _update_profile(profile, person):
    """Write what the body says into the campaign's own profile of the person: the shared
    supporter record is the person's, and other campaigns', and stays as it is."""
    for field in ("given_name", "family_name", "postal_code", "country", "locale"):
        value = getattr(person, field)
        if value:
            setattr(profile, field, value)


def update_person(scope, supporter, body, *, now=None):
    """Change a person's names, postal address and language as the token's campaigns know
    them, and their email status on those campaigns' lists. Their address is theirs to
    change (it is how they are known)."""
    now = now or utcnow()
    if "email_addresses" in body:
        wrapped = PersonInput({"person": body}, names_required=False)
        if wrapped.email.lower() != supporter.email_key:
            raise ApiError(400, _("An email address cannot be changed through the API: "
                                  "add the new address as a new person."),
                           "email_addresses.address")
        status = wrapped.email_status
    else:
        wrapped = PersonInput({"person": {**body, "email_addresses": [
            {"address": supporter.email}]}}, names_required=False)
        status = None
    profiles = db.session.scalars(select(PersonProfile).where(
        PersonProfile.supporter_id == supporter.id,
        PersonProfile.campaign_id.in_(scope.campaign_ids))).all()
    for profile in profiles or [_profile(campaign_for(scope, body), supporter)]:
        _update_profile(profile, wrapped)
    if status == "unsubscribed":
        for subscription in db.session.scalars(select(Subscription).where(
                Subscription.supporter_id == supporter.id,
                Subscription.campaign_id.in_(scope.campaign_ids))):
            unsubscribe(subscription, now=now)
    elif status == "subscribed":
        campaign = campaign_for(scope, body)
        _subscribe_unless_they_left(scope, supporter, campaign, _subscription(supporter, campaign),
                                    now)
    db.session.flush()
    return supporter


# --- Signatures and attendances -----------------------------------------------------------------

def record_signature(scope, petition, body, *, now=None):
    """The record signature helper: the web form's signing service, called with the
    body's person. Returns the signature (pending if an email went out to confirm it)."""
    now = now or utcnow()
    person = PersonInput(body, names_required=True,
                         postal_code_required="postal_code" in (petition.required_fields or []))
    # No country is no refusal: tools written for Action Network send a postal code alone,
    # and the signature then counts under no country in the figures.
    comment = comments(body)
    if "comment" in (petition.required_fields or []) and not comment:
        raise ApiError(400, _("This petition asks signers for a comment."), "comments")
    names = tags_to_add(body)
    send_email = autoresponse(body)
    wants_updates = person.email_status == "subscribed"
    details = signing.SignerDetails(
        first_name=person.given_name, last_name=person.family_name, email=person.email,
        postal_code=person.postal_code, country=person.country, comment=comment,
        wants_updates=wants_updates,
        consent_wording=(vouched_consent_wording(scope.token) if not send_email
                         else petition.consent_wording or "") if wants_updates else "",
        source=source_label(scope.token), locale=person.locale or "en")
    try:
        outcome = signing.sign_petition(petition, details, now=now, vouched=not send_email)
    except signing.PetitionClosed:
        raise ApiError(409, _("This petition takes no more signatures.")) from None
    if outcome == signing.SignOutcome.NOT_COUNTED:
        raise ApiError(409, _("The organizers set this person's signature aside; it is not "
                              "counted and cannot be recorded again."))
    signature = db.session.scalars(
        select(Signature).join(Supporter, Signature.supporter_id == Supporter.id)
        .where(Signature.petition_id == petition.id, Supporter.email_key == person.email.lower())
    ).one()
    apply_tags(petition.campaign, signature.supporter_id, names)
    return signature


def record_attendance(scope, event, body, *, now=None):
    """The record attendance helper: the RSVP service, called with the body's person.
    Returns the RSVP (pending if an email went out to confirm it)."""
    now = now or utcnow()
    person = PersonInput(body, names_required=False)
    names = tags_to_add(body)
    send_email = autoresponse(body)
    name = " ".join(part for part in (person.given_name, person.family_name) if part)
    wants_updates = person.email_status == "subscribed"
    details = rsvps.RsvpDetails(
        name=(name or person.email.partition("@")[0])[:RSVP_NAME_MAX], email=person.email,
        guests=whole_number(body, "placard:guests", maximum=20, default=0) or 0,
        wants_updates=wants_updates,
        consent_wording=vouched_consent_wording(scope.token) if wants_updates else "",
        locale=person.locale or "en")
    try:
        rsvps.rsvp_to_event(event, details, now=now, vouched=not send_email)
    except rsvps.EventClosed:
        raise ApiError(409, _("This event takes no more RSVPs.")) from None
    rsvp = db.session.scalars(
        select(Rsvp).join(Supporter, Rsvp.supporter_id == Supporter.id)
        .where(Rsvp.event_id == event.id, Supporter.email_key == person.email.lower())).one()
    apply_tags(event.campaign, rsvp.supporter_id, names)
    return rsvp


# --- Petitions and events -----------------------------------------------------------------------

def _petition_details(body, petition=None):
    title = text(body, "title", "title", maximum=TITLE_MAX, required=petition is None) \
        if "title" in body or petition is None else petition.title
    target = target_name(body, default=petition.target if petition else "")
    if not target:
        raise ApiError(400, _("%(field)s is missing.", field="target"), "target")
    if "petition_text" in body:
        petition_text = text(body, "petition_text", "petition_text", maximum=TEXT_MAX,
                             paragraphs=True)
    elif "description" in body:
        petition_text = text(body, "description", "description", maximum=TEXT_MAX, paragraphs=True)
    else:
        petition_text = petition.body if petition else ""
    status = body.get("placard:status", str(petition.status) if petition else "open")
    if status not in ("open", "closed"):
        raise ApiError(400, _("placard:status is open or closed."), "placard:status")
    deadline = (moment(body, "placard:deadline", required=False) if "placard:deadline" in body
                else petition.deadline_at if petition else None)
    goal = whole_number(body, "placard:goal", minimum=1,
                        default=petition.goal if petition else 1000)
    return authoring.PetitionDetails(
        title=title or petition.title, target=target, slug=petition.slug if petition else "",
        body=petition_text, goal=goal, deadline_at=deadline,
        required_fields=tuple(petition.required_fields) if petition else ("postal_code",),
        consent_wording=petition.consent_wording if petition else "",
        signers_choose_demands=petition.signers_choose_demands if petition else False,
        status=PetitionStatus(status))


def create_petition(scope, body):
    campaign = campaign_for(scope, body)
    return authoring.create_petition(campaign, _petition_details(body))


def update_petition(scope, petition, body):
    authoring.update_petition(petition, _petition_details(body, petition))
    return petition


def _event_details(body, event=None):
    title = (text(body, "title", "title", maximum=TITLE_MAX, required=True)
             if "title" in body or event is None else event.title)
    starts_at = moment(body, "start_date", required=event is None) or event.starts_at
    ends_at = moment(body, "end_date", required=event is None) or event.ends_at
    ends_after(starts_at, ends_at)
    location = body.get("location", None)
    if location is not None and not isinstance(location, dict):
        raise ApiError(400, _("%(field)s must be a JSON object.", field="location"), "location")
    if location is None:
        venue, address, city = ((event.venue_name, event.address, event.city) if event
                                else ("", "", ""))
    else:
        lines = location.get("address_lines") or []
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise ApiError(400, _("%(field)s must be an array of strings.",
                                  field="location.address_lines"), "location.address_lines")
        venue = text(location, "venue", "location.venue", maximum=200)
        address = text({"lines": "\n".join(lines)}, "lines", "location.address_lines",
                       maximum=1000, paragraphs=True)
        city = text(location, "locality", "location.locality", maximum=100)
    description = (text(body, "description", "description", maximum=TEXT_MAX, paragraphs=True)
                   if "description" in body else event.description if event else "")
    capacity = (whole_number(body, "capacity", minimum=1, maximum=1_000_000) if "capacity" in body
                else event.capacity if event else None)
    return events.EventDetails(
        title=title, kind=event_kind(body, event.kind if event else "meeting"),
        timezone=timezone_name(body, event.timezone if event else "UTC"),
        starts_at=starts_at, ends_at=ends_at, slug=event.slug if event else "",
        description=description, venue_name=venue, address=address, city=city,
        online_url=event.online_url if event else "", capacity=capacity,
        accessibility=event.accessibility if event else "", contact=event.contact if event else "",
        status=event_status(body, event.status if event else EventStatus.DRAFT))


def create_event(scope, body):
    campaign = campaign_for(scope, body)
    return events.create_event(campaign, _event_details(body))


def update_event(scope, event, body, *, now=None):
    old_capacity = event.capacity
    try:
        events.update_event(event, _event_details(body, event), now=now)
    except events.EventNotEditable:
        raise ApiError(409, _("A cancelled event is not edited.")) from None
    if event.capacity != old_capacity:
        rsvps.capacity_changed(event, now=now)
    return event


# --- Tags ---------------------------------------------------------------------------------------

def create_tag(scope, body):
    return find_or_create_tag(campaign_for(scope, body), tag_name(body, "name"))


def add_tagging(scope, tag, body):
    """Tag the person the body links to (``_links.osdi:person.href``, or ``person`` with an
    identifier or email address, as clients write it). The person must be in the token's
    campaigns."""
    links = body.get("_links")
    link = links.get("osdi:person") if isinstance(links, dict) else None
    href = link.get("href") if isinstance(link, dict) else None
    identifier = href.rstrip("/").rsplit("/", 1)[-1] if isinstance(href, str) else None
    if identifier is None and isinstance(body.get("person"), dict):
        person = body["person"]
        identifiers = person.get("identifiers")
        identifiers = identifiers if isinstance(identifiers, list) else []
        identifier = next((value for value in identifiers
                           if isinstance(value, str) and value.startswith("placard:")), None)
        if identifier is None and person.get("email_addresses"):
            email = PersonInput(body, names_required=False).email
            supporter = db.session.scalars(scope.people().where(
                Supporter.email_key == email.lower())).one_or_none()
            identifier = supporter.uuid if supporter else None
    if identifier is None:
        raise ApiError(400, _("Say whom to tag: _links.osdi:person.href, the address of a person."),
                       "_links.osdi:person")
    supporter = scope.person(identifier)
    return tag_supporter(tag, supporter.id)
