"""``/api/v2/``: Action Network's v2 API (OSDI), so organizers' existing tools work with Placard.

Thin views: the token's :class:`~campaign.api.scope.Scope` finds records, the
services in :mod:`campaign.api.services` act, :mod:`campaign.api.resources`
shapes the answers. One transaction per request: a refused body changes nothing.
"""

import hashlib

from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from campaign.api import resources, services
from campaign.api.http import (
    MAX_PER_PAGE,
    ApiError,
    collection,
    error_response,
    hal,
    json_body,
    rate_limit,
    retry_after_seconds,
)
from campaign.api.scope import Scope
from campaign.api.tokens import authenticate, note_token_use
from campaign.campaigns.models import Campaign
from campaign.events.models import Event, Rsvp
from campaign.events.rsvps import confirmed_headcount
from campaign.extensions import csrf, db, limiter
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.petitions.models import Petition
from campaign.petitions.services import confirmed_counts
from campaign.signatures.models import Signature, Supporter
from campaign.tags.models import Tag, Tagging
from campaign.tags.services import remove_tagging

TOKEN_HEADER = "OSDI-API-Token"  # noqa: S105 - a header name
OSDI_VERSION = "1.1.1"

bp = Blueprint("api", __name__, url_prefix="/api/v2")
# Tokens, not cookies, authenticate these requests: there is no session for a forged
# cross-site request to ride on.
csrf.exempt(bp)


def _rate_limit_key():
    # Per token (hashed, so the limiter's storage never holds one); per address without.
    secret = request.headers.get(TOKEN_HEADER, "")
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
    return "api-ip:" + (request.remote_addr or "")


limiter.limit(rate_limit, key_func=_rate_limit_key)(bp)


@bp.before_request
def _authenticate():
    token = authenticate(request.headers.get(TOKEN_HEADER, ""))
    if token is None:
        # HTTP asks a 401 to name the way to authenticate; the scheme is the header's name.
        return error_response(401, _("A valid API token is needed, in the %(header)s header.",
                                     header=TOKEN_HEADER),
                              headers={"WWW-Authenticate": f'{TOKEN_HEADER} realm="Placard API"'})
    note_token_use(token)
    g.api_scope = Scope(token)
    return None


@bp.after_request
def _commit(response):
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def _refused(error):
    db.session.rollback()
    return error_response(error.status, error.message, error.field)


def api_http_error(error):
    """HTTP errors under /api/v2 as JSON (a client reads no HTML error page)."""
    db.session.rollback()
    if error.code == 429:
        return error_response(429, _("Too many requests for this token: wait a moment, "
                                     "then try again."),
                              headers={"Retry-After": str(retry_after_seconds(limiter))})
    messages = {
        404: _("No such record: it does not exist, or this token may not see it."),
        405: _("This method is not allowed here."),
        413: _("The body is too large."),
    }
    return error_response(error.code or 500, messages.get(error.code, error.description))


bp.register_error_handler(HTTPException, api_http_error)


def scope():
    return g.api_scope


# --- Entry point ---------------------------------------------------------------------------------

COLLECTION_TITLES = {
    "people": "The people in this token's campaigns",
    "petitions": "The petitions of this token's campaigns",
    "events": "The events of this token's campaigns",
    "tags": "The tags of this token's campaigns",
    "lists": "The mailing lists of this token's campaigns",
}


@bp.get("/")
def entry_point():
    links = {"self": resources.api_href(""), "curies": resources.curies()}
    for name, title in COLLECTION_TITLES.items():
        links[f"osdi:{name}"] = {**resources.api_href(name), "title": title}
    links["osdi:person_signup_helper"] = {**resources.api_href("people"),
                                          "title": "The person signup helper"}
    links["docs"] = {"href": current_app.config["PUBLIC_URL"].rstrip("/") + "/api/docs"}
    return hal({
        "motd": "Placard's API: Action Network v2 and OSDI conventions.",
        "vendor_name": "Placard",
        "product_name": "Placard",
        "osdi_version": OSDI_VERSION,
        # Action Network's AEP names the prefix of its own fields; Placard's is "placard".
        "namespace": resources.ID_PREFIX.rstrip(":"),
        "max_pagesize": MAX_PER_PAGE,
        "_links": links,
    })


# --- People -----------------------------------------------------------------------------------

def _people(supporters):
    ids = [supporter.id for supporter in supporters]
    subscribed = scope().subscribed_ids(ids)
    details = scope().person_details(ids)
    dates = scope().person_dates_of(ids)
    return [resources.person_resource(supporter, subscribed=supporter.id in subscribed,
                                      details=details[supporter.id], dates=dates[supporter.id])
            for supporter in supporters]


def _person(supporter):
    return hal(_people([supporter])[0])


@bp.get("/people")
def people():
    return collection("people", scope().people(), Supporter.id, _people, path="people",
                      dated_by=scope().people_dated)


@bp.post("/people")
def person_signup():
    return _person(services.person_signup(scope(), json_body()))


@bp.get("/people/<person_id>")
def person(person_id):
    return _person(scope().person(person_id))


@bp.put("/people/<person_id>")
def update_person(person_id):
    body = json_body()
    return _person(services.update_person(scope(), scope().person(person_id), body))


@bp.get("/people/<person_id>/signatures")
def person_signatures(person_id):
    supporter = scope().person(person_id)
    statement = _signatures_query().where(Signature.supporter_id == supporter.id)
    return collection("signatures", statement, Signature.id, _signatures,
                      path=f"people/{supporter.uuid}/signatures")


@bp.get("/people/<person_id>/attendances")
def person_attendances(person_id):
    supporter = scope().person(person_id)
    statement = _attendances_query().where(Rsvp.supporter_id == supporter.id)
    return collection("attendances", statement, Rsvp.id, _attendances,
                      path=f"people/{supporter.uuid}/attendances")


@bp.get("/people/<person_id>/taggings")
def person_taggings(person_id):
    supporter = scope().person(person_id)
    statement = _taggings_query().where(Tagging.supporter_id == supporter.id)
    return collection("taggings", statement, Tagging.id, _taggings,
                      path=f"people/{supporter.uuid}/taggings")


# --- Petitions and signatures -----------------------------------------------------------------

def _petitions(petitions):
    counts = confirmed_counts([petition.id for petition in petitions])
    return [resources.petition_resource(petition, total_signatures=counts.get(petition.id, 0))
            for petition in petitions]


def _petitions_query():
    return scope().petitions().options(selectinload(Petition.campaign))


@bp.get("/petitions")
def petitions():
    return collection("petitions", _petitions_query(), Petition.id, _petitions, path="petitions")


@bp.post("/petitions")
def create_petition():
    petition = services.create_petition(scope(), json_body())
    return hal(_petitions([petition])[0])


@bp.get("/petitions/<petition_id>")
def petition(petition_id):
    return hal(_petitions([scope().petition(petition_id)])[0])


@bp.put("/petitions/<petition_id>")
def update_petition(petition_id):
    body = json_body()
    petition = services.update_petition(scope(), scope().petition(petition_id), body)
    return hal(_petitions([petition])[0])


def _signatures_query():
    return scope().signatures().options(selectinload(Signature.petition),
                                        selectinload(Signature.supporter))


def _signatures(signatures):
    return [resources.signature_resource(signature) for signature in signatures]


@bp.get("/petitions/<petition_id>/signatures")
def signatures(petition_id):
    petition = scope().petition(petition_id)
    statement = _signatures_query().where(Signature.petition_id == petition.id)
    return collection("signatures", statement, Signature.id, _signatures,
                      path=f"petitions/{petition.uuid}/signatures")


@bp.post("/petitions/<petition_id>/signatures")
def record_signature(petition_id):
    petition = scope().petition(petition_id)
    signature = services.record_signature(scope(), petition, json_body())
    return hal(resources.signature_resource(signature))


@bp.get("/petitions/<petition_id>/signatures/<signature_id>")
def signature(petition_id, signature_id):
    petition = scope().petition(petition_id)
    found = scope().one(_signatures_query().where(Signature.petition_id == petition.id),
                        Signature, signature_id)
    return hal(resources.signature_resource(found))


# --- Events and attendances ---------------------------------------------------------------------

def _events(events):
    return [resources.event_resource(event, total_accepted=confirmed_headcount(event.id))
            for event in events]


@bp.get("/events")
def events():
    statement = scope().events().options(selectinload(Event.campaign))
    return collection("events", statement, Event.id, _events, path="events")


@bp.post("/events")
def create_event():
    return hal(_events([services.create_event(scope(), json_body())])[0])


@bp.get("/events/<event_id>")
def event(event_id):
    return hal(_events([scope().event(event_id)])[0])


@bp.put("/events/<event_id>")
def update_event(event_id):
    body = json_body()
    return hal(_events([services.update_event(scope(), scope().event(event_id), body)])[0])


def _attendances_query():
    return scope().attendances().options(selectinload(Rsvp.event), selectinload(Rsvp.supporter))


def _attendances(rsvps):
    return [resources.attendance_resource(rsvp) for rsvp in rsvps]


@bp.get("/events/<event_id>/attendances")
def attendances(event_id):
    event = scope().event(event_id)
    statement = _attendances_query().where(Rsvp.event_id == event.id)
    return collection("attendances", statement, Rsvp.id, _attendances,
                      path=f"events/{event.uuid}/attendances")


@bp.post("/events/<event_id>/attendances")
def record_attendance(event_id):
    event = scope().event(event_id)
    return hal(resources.attendance_resource(services.record_attendance(scope(), event,
                                                                        json_body())))


@bp.get("/events/<event_id>/attendances/<attendance_id>")
def attendance(event_id, attendance_id):
    event = scope().event(event_id)
    found = scope().one(_attendances_query().where(Rsvp.event_id == event.id), Rsvp,
                        attendance_id)
    return hal(resources.attendance_resource(found))


# --- Tags and taggings ----------------------------------------------------------------------------

def _tags(tags):
    return [resources.tag_resource(tag) for tag in tags]


@bp.get("/tags")
def tags():
    statement = scope().tags().options(selectinload(Tag.campaign))
    return collection("tags", statement, Tag.id, _tags, path="tags")


@bp.post("/tags")
def create_tag():
    return hal(resources.tag_resource(services.create_tag(scope(), json_body())))


@bp.get("/tags/<tag_id>")
def tag(tag_id):
    return hal(resources.tag_resource(scope().tag(tag_id)))


def _taggings_query():
    return scope().taggings().options(selectinload(Tagging.tag), selectinload(Tagging.supporter))


def _taggings(taggings):
    return [resources.tagging_resource(tagging) for tagging in taggings]


@bp.get("/tags/<tag_id>/taggings")
def taggings(tag_id):
    tag = scope().tag(tag_id)
    statement = _taggings_query().where(Tagging.tag_id == tag.id)
    return collection("taggings", statement, Tagging.id, _taggings,
                      path=f"tags/{tag.uuid}/taggings")


@bp.post("/tags/<tag_id>/taggings")
def add_tagging(tag_id):
    tag = scope().tag(tag_id)
    return hal(resources.tagging_resource(services.add_tagging(scope(), tag, json_body())))


def _tagging(tag_id, tagging_id):
    tag = scope().tag(tag_id)
    return scope().one(_taggings_query().where(Tagging.tag_id == tag.id), Tagging, tagging_id)


@bp.get("/tags/<tag_id>/taggings/<tagging_id>")
def tagging(tag_id, tagging_id):
    return hal(resources.tagging_resource(_tagging(tag_id, tagging_id)))


@bp.delete("/tags/<tag_id>/taggings/<tagging_id>")
def delete_tagging(tag_id, tagging_id):
    remove_tagging(_tagging(tag_id, tagging_id))
    return hal({"notice": "This tagging was deleted."})


# --- Lists (read only) ----------------------------------------------------------------------------

def _subscribers(campaign_id):
    return (db.select(Subscription).where(Subscription.campaign_id == campaign_id,
                                          Subscription.status == SubscriptionStatus.SUBSCRIBED))


def _lists(campaigns):
    return [resources.list_resource(campaign, total_items=_count(_subscribers(campaign.id)))
            for campaign in campaigns]


def _count(statement):
    return db.session.scalar(db.select(db.func.count()).select_from(statement.subquery()))


@bp.get("/lists")
def lists():
    return collection("lists", scope().campaigns(), Campaign.id, _lists, path="lists")


@bp.get("/lists/<list_id>")
def list_(list_id):
    return hal(_lists([scope().campaign(list_id)])[0])


def _items_query(campaign):
    return (_subscribers(campaign.id).join(Supporter, Subscription.supporter_id == Supporter.id)
            .options(selectinload(Subscription.supporter)))


@bp.get("/lists/<list_id>/items")
def items(list_id):
    campaign = scope().campaign(list_id)

    def build(subscriptions):
        return [resources.item_resource(campaign, subscription, subscription.supporter)
                for subscription in subscriptions]

    return collection("items", _items_query(campaign), Subscription.id, build,
                      path=f"lists/{campaign.uuid}/items")


@bp.get("/lists/<list_id>/items/<item_id>")
def item(list_id, item_id):
    campaign = scope().campaign(list_id)
    subscription = scope().one(_items_query(campaign), Supporter, item_id)
    return hal(resources.item_resource(campaign, subscription, subscription.supporter))

