"""The API's contract with Action Network's v2 clients: field names, link relations and
request bodies as Action Network documents them, and what one token may never see.

Where each assertion comes from is written beside it. "AN docs" is Action Network's API
v2 documentation (actionnetwork.org/docs/v2/<page>); "OSDI" is the Open Supporter Data
Interface specification (opensupporter.github.io/osdi-docs), which AN v2 follows at
version 1.1.1. Each citation says whether the fact was read in a stored copy of the page
("read") or rests on the well-known content of a page whose relevant part was not in the
stored excerpt ("known"). Placard's own fields, which AN does not document, are prefixed
``placard:`` and are not part of this contract.
"""

import re
from urllib.parse import urlsplit

import pytest

from campaign.accounts.models import UserRole
from campaign.api.tokens import create_token
from campaign.extensions import db
from campaign.signatures.services import sign_petition
from tests.factories import make_campaign, make_petition, signer
from tests.factories_accounts import fast_password_hashing, make_user  # noqa: F401
from tests.factories_events import make_event

ROOT = "http://localhost/api/v2"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# AN docs, 'General principles' page, 'Field types and notation' (known): datetimes are
# ISO 8601 in UTC, e.g. 2014-03-25T14:52:46Z, in every example response.
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
COMMON = {"identifiers", "origin_system", "created_date", "modified_date"}


class World:
    """Two organizers. A's campaign holds a signature, an RSVP, a signup and a tagging,
    all made through the API with A's token; B's holds the same kinds of records, and
    one person, Shared, signed both campaigns' petitions under different names."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        with app.app_context():
            organizer_a = make_user(role=UserRole.ORGANIZER)
            organizer_b = make_user(role=UserRole.ORGANIZER)
            campaign_a = make_campaign(slug="alpha-campaign", title="Alphacampaign")
            campaign_a.organizers.append(organizer_a)
            campaign_b = make_campaign(slug="bravo-campaign", title="Bravocampaign")
            campaign_b.organizers.append(organizer_b)
            petition_a = make_petition(campaign_a, title="Alphapetition")
            petition_b = make_petition(campaign_b, title="Bravopetition")
            event_a = make_event(campaign_a, title="Alphaevent")
            event_b = make_event(campaign_b, title="Bravoevent")
            sign_petition(petition_b, signer(email="shared@example.org", first_name="Bea",
                                             last_name="Bravo"), vouched=True)
            db.session.flush()
            self.token_a = create_token(organizer_a, "Sync A")[1]
            self.token_b = create_token(organizer_b, "Sync B")[1]
            self.campaign_a, self.campaign_b = campaign_a.uuid, campaign_b.uuid
            self.petition_a, self.petition_b = petition_a.uuid, petition_b.uuid
            self.event_a, self.event_b = event_a.uuid, event_b.uuid
            db.session.commit()
        self.a = self._populate(self.token_a, "alpha", self.petition_a, self.event_a)
        self.b = self._populate(self.token_b, "bravo", self.petition_b, self.event_b)
        # The shared person, as A knows them: a name B must never read.
        self.shared = self.post("/people", {"person": {
            "given_name": "Zelda", "family_name": "Alphashared",
            "email_addresses": [{"address": "shared@example.org"}]}}).json

    def _populate(self, token, word, petition, event):
        records = {}
        records["signature"] = self.post(f"/petitions/{petition}/signatures", {
            "person": {"given_name": f"{word.title()}signer", "family_name": f"{word.title()}son",
                       "email_addresses": [{"address": f"{word}-signer@example.org"}],
                       "postal_addresses": [{"postal_code": "M5V 2T6", "country": "CA"}]},
            "comments": f"{word.title()}comment"}, token).json
        records["attendance"] = self.post(f"/events/{event}/attendances", {
            "person": {"given_name": f"{word.title()}guest",
                       "email_addresses": [{"address": f"{word}-guest@example.org"}]}}, token).json
        records["person"] = self.post("/people", {
            "person": {"given_name": f"{word.title()}member",
                       "email_addresses": [{"address": f"{word}-member@example.org"}]},
            "add_tags": [f"{word}tag"]}, token).json
        records["tag"] = self.get("/tags", token).json["_embedded"]["osdi:tags"][0]
        records["tagging"] = self.get(uuid_path(records["tag"]["_links"]["osdi:taggings"]["href"]),
                                      token).json["_embedded"]["osdi:taggings"][0]
        return records

    def call(self, method, path, token, **kwargs):
        headers = {"OSDI-API-Token": token} if token else {}
        return self.client.open("/api/v2" + path, method=method, headers=headers, **kwargs)

    def get(self, path, token=None):
        return self.call("GET", path, token or self.token_a)

    def post(self, path, body, token=None):
        response = self.call("POST", path, token or self.token_a, json=body)
        assert response.status_code == 200, (path, response.json)
        return response


def uuid_path(href):
    """The part of an absolute API href after /api/v2."""
    assert href.startswith(ROOT), href
    return href[len(ROOT):]


def uuid_of(resource):
    identifier = resource["identifiers"][0]
    assert re.fullmatch(f"placard:{UUID}", identifier), identifier
    return identifier.removeprefix("placard:")


@pytest.fixture
def world(app, client):
    # The walks below make a few hundred requests; the limit is read per request.
    app.config["API_RATE_LIMIT"] = "100000 per second"
    return World(app, client)


def assert_common_fields(resource):
    """AN docs, every resource page's field table (read on the Tags, Taggings, Items,
    Lists, Signatures, Attendances and People pages): identifiers ([system]:[id]),
    created_date, modified_date; origin_system on Petitions, Events and Lists (read on
    Lists; known on the others). Placard gives all four to every resource."""
    assert resource.keys() >= COMMON
    assert resource["origin_system"] == "Placard"
    for field in ("created_date", "modified_date"):
        assert ISO_UTC.match(resource[field]), (field, resource[field])


def assert_self_is_the_identifier(resource):
    """AN docs, every resource page, 'Endpoints and URL structures' (read): a record is
    addressed by its identifier without the system prefix. So Placard's self link ends
    with the uuid of ``placard:<uuid>``."""
    assert resource["_links"]["self"]["href"].endswith("/" + uuid_of(resource))


# --- The API entry point -----------------------------------------------------------------------

def test_the_entry_point_has_the_documented_fields_and_links(world):
    """AN docs, 'API Entry Point (AEP)' page (read): fields motd, vendor_name,
    product_name, osdi_version ("1.1.1"), namespace, and the page size limit; links self,
    osdi:people, osdi:events, osdi:petitions, osdi:tags, osdi:lists,
    osdi:person_signup_helper, docs (known: the example response of GET /api/v2/ for the
    last four and curies). The field table names the limit max_page_size but the example
    response writes max_pagesize, as OSDI's AEP does (OSDI 'aep' page, read): Placard
    follows the example, which is what clients parse."""
    response = world.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/hal+json"
    body = response.json
    assert {"motd", "vendor_name", "product_name", "osdi_version", "namespace",
            "max_pagesize"} <= body.keys()
    assert body["osdi_version"] == "1.1.1"
    assert body["max_pagesize"] == 25
    assert body["namespace"] == "placard"
    links = body["_links"]
    assert links["self"]["href"] == ROOT + "/"  # AN: https://actionnetwork.org/api/v2/
    for name in ("people", "events", "petitions", "tags", "lists"):
        assert links[f"osdi:{name}"]["href"] == f"{ROOT}/{name}"
    # AN docs, 'Person Signup Helper' page (read): POST to the people endpoint.
    assert links["osdi:person_signup_helper"]["href"] == f"{ROOT}/people"
    assert "docs" in links
    assert_curies(links)


def assert_curies(links):
    """AN docs, 'General principles' page, 'Curies and namespacing' (known): every
    response's _links carries curies, a list of {name, href, templated: true}, and the
    osdi one expands osdi:<rel> to documentation."""
    curies = {curie["name"]: curie for curie in links["curies"]}
    assert curies["osdi"]["templated"] is True
    assert "{rel}" in curies["osdi"]["href"]


# --- Collections in general ---------------------------------------------------------------------

COLLECTIONS = ["/people", "/petitions", "/events", "/tags", "/lists"]


def nested_collections(world):
    a = world.a
    person = uuid_of(a["person"])
    signer_path = uuid_path(a["signature"]["_links"]["osdi:person"]["href"])
    return [
        f"/petitions/{world.petition_a}/signatures", f"/events/{world.event_a}/attendances",
        f"{uuid_path(a['tag']['_links']['self']['href'])}/taggings",
        f"/lists/{world.campaign_a}/items", f"{signer_path}/signatures",
        f"/people/{person}/taggings", f"{uuid_path(a['attendance']['_links']['osdi:person']['href'])}"
        "/attendances"]


def test_every_collection_has_the_documented_envelope(world):
    """AN docs, 'General principles' page, 'Collections' and 'Paging and Navigation'
    (known), and every collection example, e.g. the GET /api/v2/petitions response in the
    'Blind POST & Autoresponses' tutorial (read): top-level total_pages, per_page, page,
    total_records; _links self, next (while more pages follow), osdi:<collection> (an
    array of {href}) and curies; _embedded holding exactly one key, osdi:<collection>."""
    for path in COLLECTIONS + nested_collections(world):
        response = world.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "application/hal+json"
        body = response.json
        name = path.rsplit("/", 1)[1]
        assert {"total_pages", "per_page", "page", "total_records", "_links",
                "_embedded"} <= body.keys(), path
        assert list(body["_embedded"]) == [f"osdi:{name}"], path
        embedded = body["_embedded"][f"osdi:{name}"]
        assert body["total_records"] == len(embedded) >= 1, path
        assert body["_links"]["self"]["href"].startswith(f"{ROOT}{path}")
        assert body["_links"][f"osdi:{name}"] == [item["_links"]["self"] for item in embedded]
        assert_curies(body["_links"])


def test_an_empty_collection_still_embeds_its_one_key(world):
    """AN docs, 'General principles' page, 'Collections' (known): an empty page is still a
    collection, its _embedded key present with an empty array; clients index it blindly."""
    for path in COLLECTIONS + nested_collections(world):
        body = world.get(path + "?page=99").json
        name = path.rsplit("/", 1)[1]
        assert body["_embedded"] == {f"osdi:{name}": []}, path
        assert body["_links"][f"osdi:{name}"] == []
        assert "next" not in body["_links"]
    empty = world.get(f"/petitions/{world.petition_a}/signatures?filter="
                      "modified_date lt '2000-01-01'").json
    assert empty["_embedded"] == {"osdi:signatures": []}
    assert (empty["total_records"], empty["total_pages"]) == (0, 0)


def test_next_and_previous_links_walk_the_pages(world):
    """AN docs, 'General principles' page, 'Paging and Navigation' (known): per_page and
    page as query parameters, at most 25 a page; a next link while pages follow and a
    previous link after the first. The example collections (read) give next and self."""
    for number in range(4):
        world.post(f"/petitions/{world.petition_a}/signatures", {"person": {
            "given_name": "Page", "family_name": f"Turner{number}",
            "email_addresses": [{"address": f"page{number}@example.org"}],
            "postal_addresses": [{"postal_code": "M5V", "country": "CA"}]}})
    path = f"/petitions/{world.petition_a}/signatures?per_page=2"
    first = world.get(path).json
    assert (first["per_page"], first["page"], first["total_records"],
            first["total_pages"]) == (2, 1, 5, 3)
    assert "previous" not in first["_links"]
    seen = [item["identifiers"][0] for item in first["_embedded"]["osdi:signatures"]]
    body = first
    while "next" in body["_links"]:
        body = world.get(uuid_path(body["_links"]["next"]["href"])).json
        assert "previous" in body["_links"]
        seen += [item["identifiers"][0] for item in body["_embedded"]["osdi:signatures"]]
    assert body["page"] == 3
    assert len(seen) == len(set(seen)) == 5
    back = world.get(uuid_path(body["_links"]["previous"]["href"])).json
    assert back["page"] == 2


# --- People -----------------------------------------------------------------------------------

def test_a_person_has_the_documented_fields_and_links(world):
    """AN docs, 'People' page (fields read in part, links known), example response of
    GET /api/v2/people/{id}: identifiers, created_date, modified_date, given_name,
    family_name, languages_spoken, email_addresses[] with primary, address, status
    ('subscribed' | 'unsubscribed' ...), postal_addresses[] with primary, postal_code,
    country; _links self, osdi:signatures, osdi:attendances, osdi:taggings (AN also
    links submissions, donations and outreaches, which Placard does not have)."""
    person = world.get(uuid_path(world.a["signature"]["_links"]["osdi:person"]["href"])).json
    assert_common_fields(person)
    assert_self_is_the_identifier(person)
    assert {"given_name", "family_name", "languages_spoken", "email_addresses",
            "postal_addresses"} <= person.keys()
    assert (person["given_name"], person["family_name"]) == ("Alphasigner", "Alphason")
    email = person["email_addresses"][0]
    assert {"primary", "address", "status"} <= email.keys()
    assert email["address"] == "alpha-signer@example.org" and email["primary"] is True
    assert email["status"] in ("subscribed", "unsubscribed")
    postal = person["postal_addresses"][0]
    assert {"primary", "postal_code", "country"} <= postal.keys()
    assert (postal["postal_code"], postal["country"]) == ("M5V 2T6", "CA")
    person_id = uuid_of(person)
    for rel in ("signatures", "attendances", "taggings"):
        assert person["_links"][f"osdi:{rel}"]["href"] == f"{ROOT}/people/{person_id}/{rel}"


def test_the_person_signup_helper_takes_the_documented_body(world):
    """AN docs, 'Person Signup Helper' page (read in part; example POST known): POST
    /api/v2/people with {person: {given_name, family_name, email_addresses: [{address,
    status}], postal_addresses: [{postal_code}]}, add_tags: [...]}; the answer is the
    person resource. An unknown member such as phone_numbers is ignored, not refused."""
    body = {"person": {"given_name": "John", "family_name": "Smith",
                       "email_addresses": [{"address": "jsmith@example.org",
                                            "status": "subscribed"}],
                       "postal_addresses": [{"postal_code": "20009"}],
                       "phone_numbers": [{"number": "12024444444"}]},
            "add_tags": ["volunteer", "member"]}
    person = world.post("/people", body).json
    assert_common_fields(person)
    assert (person["given_name"], person["family_name"]) == ("John", "Smith")
    assert person["email_addresses"][0] == {"primary": True, "address": "jsmith@example.org",
                                            "status": "subscribed"}
    assert person["postal_addresses"][0]["postal_code"] == "20009"
    taggings = world.get(uuid_path(person["_links"]["osdi:taggings"]["href"])).json
    assert taggings["total_records"] == 2


# --- Petitions and signatures -------------------------------------------------------------------

def test_a_petition_has_the_documented_fields_and_links(world):
    """AN docs, 'Petitions' page (fields read in part, example known), example response
    of GET /api/v2/petitions/{id}: identifiers, origin_system, created_date,
    modified_date, title, description, petition_text, browser_url, total_signatures,
    target[].name; _links self, osdi:signatures, osdi:record_signature_helper (the
    latter two the same URL, /petitions/{id}/signatures)."""
    petition = world.get(f"/petitions/{world.petition_a}").json
    assert_common_fields(petition)
    assert_self_is_the_identifier(petition)
    assert {"title", "description", "petition_text", "browser_url", "total_signatures",
            "target"} <= petition.keys()
    assert petition["title"] == "Alphapetition"
    assert petition["total_signatures"] == 1
    assert all(set(target) >= {"name"} for target in petition["target"])
    assert petition["browser_url"].startswith("http://localhost/")
    signatures = f"{ROOT}/petitions/{world.petition_a}/signatures"
    assert petition["_links"]["self"]["href"] == f"{ROOT}/petitions/{world.petition_a}"
    assert petition["_links"]["osdi:signatures"]["href"] == signatures
    assert petition["_links"]["osdi:record_signature_helper"]["href"] == signatures


def test_a_signature_has_the_documented_fields_and_links(world):
    """AN docs, 'Signatures' page (fields read in part; links and example known), example
    response of GET /api/v2/petitions/{id}/signatures/{id}: identifiers, created_date,
    modified_date, comments; _links self (under its petition), osdi:petition, osdi:person."""
    listed = world.get(f"/petitions/{world.petition_a}/signatures").json
    signature = listed["_embedded"]["osdi:signatures"][0]
    assert signature == world.get(uuid_path(signature["_links"]["self"]["href"])).json
    assert_common_fields(signature)
    assert_self_is_the_identifier(signature)
    assert signature["comments"] == "Alphacomment"
    links = signature["_links"]
    assert links["self"]["href"] == (f"{ROOT}/petitions/{world.petition_a}/signatures/"
                                     f"{uuid_of(signature)}")
    assert links["osdi:petition"]["href"] == f"{ROOT}/petitions/{world.petition_a}"
    assert re.fullmatch(f"{ROOT}/people/{UUID}", links["osdi:person"]["href"])


AN_SIGNATURE_BODY = {
    "person": {"family_name": "Smith", "given_name": "John",
               "postal_addresses": [{"postal_code": "20009"}],
               "email_addresses": [{"address": "jsmith@example.org"}]},
    "add_tags": ["volunteer", "member"],
}


def test_the_record_signature_helper_takes_the_documented_body(world, outbox):
    """AN docs, 'Record Signature Helper' page (read in part; example POST known): POST
    /api/v2/petitions/{id}/signatures with {person: {given_name, family_name,
    email_addresses: [{address}], postal_addresses: [{postal_code}]}, add_tags: [...],
    triggers: {autoresponse: {enabled: bool}}}; the answer is the signature resource.
    Placard also asks for postal_addresses[].country (see the next test)."""
    body = {**AN_SIGNATURE_BODY, "comments": "Stop this!",
            "person": {**AN_SIGNATURE_BODY["person"],
                       "postal_addresses": [{"postal_code": "20009", "country": "US"}]},
            "triggers": {"autoresponse": {"enabled": False}}}
    signature = world.post(f"/petitions/{world.petition_a}/signatures", body).json
    assert_common_fields(signature)
    assert signature["comments"] == "Stop this!"
    assert outbox.to("jsmith@example.org") == []
    person = world.get(uuid_path(signature["_links"]["osdi:person"]["href"])).json
    assert (person["given_name"], person["family_name"]) == ("John", "Smith")
    tags = {tag["name"] for tag in world.get("/tags").json["_embedded"]["osdi:tags"]}
    assert {"volunteer", "member"} <= tags
    assert world.get(f"/petitions/{world.petition_a}").json["total_signatures"] == 2
    with_email = {**body, "person": {**body["person"],
                                     "email_addresses": [{"address": "auto@example.org"}]},
                  "triggers": {"autoresponse": {"enabled": True}}}
    world.post(f"/petitions/{world.petition_a}/signatures", with_email)
    assert len(outbox.to("auto@example.org")) == 1


def test_the_record_signature_helper_takes_ans_example_body_without_a_country(world):
    """AN docs, 'Record Signature Helper' page, example POST body (known): a postal code and
    no country, which Placard takes (the signature counts under no country)."""
    response = world.call("POST", f"/petitions/{world.petition_a}/signatures", world.token_a,
                          json=AN_SIGNATURE_BODY)
    assert response.status_code == 200, response.json


# --- Events and attendances ---------------------------------------------------------------------

def test_an_event_has_the_documented_fields_and_links(world):
    """AN docs, 'Events' page (fields and example known), example response of GET
    /api/v2/events/{id}: identifiers, origin_system, created_date, modified_date, title,
    description, browser_url, start_date, end_date, capacity, total_accepted, status
    ('confirmed' | 'tentative' | 'cancelled'), location {venue, address_lines[], locality};
    _links self, osdi:attendances, osdi:record_attendance_helper (the same URL)."""
    event = world.get(f"/events/{world.event_a}").json
    assert_common_fields(event)
    assert_self_is_the_identifier(event)
    assert {"title", "description", "browser_url", "start_date", "end_date", "capacity",
            "total_accepted", "status", "location"} <= event.keys()
    assert event["status"] in ("confirmed", "tentative", "cancelled")
    assert event["total_accepted"] == 1
    for field in ("start_date", "end_date"):
        assert ISO_UTC.match(event[field])
    assert {"venue", "address_lines", "locality"} <= event["location"].keys()
    assert isinstance(event["location"]["address_lines"], list)
    attendances = f"{ROOT}/events/{world.event_a}/attendances"
    assert event["_links"]["osdi:attendances"]["href"] == attendances
    assert event["_links"]["osdi:record_attendance_helper"]["href"] == attendances


def test_an_attendance_has_the_documented_fields_and_links(world):
    """AN docs, 'Attendances' page (fields read; links known), example response of GET
    /api/v2/events/{id}/attendances/{id}: identifiers, created_date, modified_date, status
    (one of 'declined', 'tentative', 'accepted', 'needs action'); _links self,
    osdi:event, osdi:person."""
    attendance = world.get(uuid_path(world.a["attendance"]["_links"]["self"]["href"])).json
    assert attendance == world.a["attendance"]
    assert_common_fields(attendance)
    assert_self_is_the_identifier(attendance)
    assert attendance["status"] in ("declined", "tentative", "accepted", "needs action")
    assert attendance["_links"]["osdi:event"]["href"] == f"{ROOT}/events/{world.event_a}"
    assert re.fullmatch(f"{ROOT}/people/{UUID}", attendance["_links"]["osdi:person"]["href"])


def test_the_record_attendance_helper_takes_the_documented_body(world):
    """AN docs, 'Record Attendance Helper' page (read in part; example POST known): POST
    /api/v2/events/{id}/attendances with {person: {given_name, family_name,
    email_addresses: [{address}], postal_addresses: [{postal_code}]}, add_tags: [...]};
    the answer is the attendance resource, status 'accepted'."""
    attendance = world.post(f"/events/{world.event_a}/attendances", {
        "person": {"family_name": "Smith", "given_name": "John",
                   "postal_addresses": [{"postal_code": "20009"}],
                   "email_addresses": [{"address": "jsmith@example.org"}]},
        "add_tags": ["volunteer"]}).json
    assert_common_fields(attendance)
    assert attendance["status"] == "accepted"
    assert "volunteer" in {tag["name"] for tag in world.get("/tags").json["_embedded"]["osdi:tags"]}


# --- Tags and taggings ----------------------------------------------------------------------------

def test_a_tag_has_the_documented_fields_and_links(world):
    """AN docs, 'Tags' page (read), example response of GET /api/v2/tags/{id}:
    identifiers, created_date, modified_date, name; _links self, osdi:taggings."""
    tag = world.get(uuid_path(world.a["tag"]["_links"]["self"]["href"])).json
    assert_common_fields(tag)
    assert_self_is_the_identifier(tag)
    assert tag["name"] == "alphatag"
    assert tag["_links"]["osdi:taggings"]["href"] == f"{ROOT}/tags/{uuid_of(tag)}/taggings"
    created = world.post("/tags", {"name": "Volunteers"}).json  # AN: POST {name}
    assert created["name"] == "Volunteers"


def test_a_tagging_has_the_documented_fields_links_and_body(world):
    """AN docs, 'Taggings' page (read): fields identifiers, created_date, modified_date,
    item_type (always 'osdi:person'); _links self, osdi:person, osdi:tag. Its POST example
    (known) sends only {_links: {osdi:person: {href: <the person's URL>}}}."""
    tagging = world.get(uuid_path(world.a["tagging"]["_links"]["self"]["href"])).json
    assert_common_fields(tagging)
    assert_self_is_the_identifier(tagging)
    assert tagging["item_type"] == "osdi:person"
    tag_href = world.a["tag"]["_links"]["self"]["href"]
    assert tagging["_links"]["osdi:tag"]["href"] == tag_href
    assert tagging["_links"]["osdi:person"] == world.a["person"]["_links"]["self"]
    new_tag = world.post("/tags", {"name": "donor"}).json
    created = world.post(uuid_path(new_tag["_links"]["osdi:taggings"]["href"]), {
        "_links": {"osdi:person": {"href": world.a["person"]["_links"]["self"]["href"]}}}).json
    assert created["item_type"] == "osdi:person"
    assert created["_links"]["osdi:person"] == world.a["person"]["_links"]["self"]


# --- Lists and items ------------------------------------------------------------------------------

def test_a_list_has_the_documented_fields_and_links(world):
    """AN docs, 'Lists' page (fields read; links known), example response of GET
    /api/v2/lists/{id}: identifiers, origin_system, created_date, modified_date, name,
    title, description, browser_url; _links self, osdi:items. (A Placard list is a
    campaign's mailing list; total_items is Placard's.)"""
    entry = world.get(f"/lists/{world.campaign_a}").json
    assert_common_fields(entry)
    assert_self_is_the_identifier(entry)
    assert {"name", "title", "description", "browser_url"} <= entry.keys()
    assert entry["_links"]["osdi:items"]["href"] == f"{ROOT}/lists/{world.campaign_a}/items"


def test_an_item_has_the_documented_fields_and_links(world):
    """AN docs, 'Items' page (fields read; links known), example response of GET
    /api/v2/lists/{id}/items/{id}: identifiers, created_date, modified_date, item_type
    (always 'osdi:person'); _links self, osdi:list, osdi:person."""
    items = world.get(f"/lists/{world.campaign_a}/items").json["_embedded"]["osdi:items"]
    member = next(item for item in items
                  if item["_links"]["osdi:person"] == world.a["person"]["_links"]["self"])
    assert member == world.get(uuid_path(member["_links"]["self"]["href"])).json
    assert_common_fields(member)
    assert_self_is_the_identifier(member)
    assert member["item_type"] == "osdi:person"
    assert member["_links"]["osdi:list"]["href"] == f"{ROOT}/lists/{world.campaign_a}"


# --- Identifiers and dates everywhere -------------------------------------------------------------

def walk(world, token, start="/", extra=(), outside=None):
    """Every API URL reachable from ``start`` by following hrefs, with each answer; the
    hrefs that leave the API (its docs page) are added to ``outside``."""
    queue, seen, answers = [start, *extra], set(), {}
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = world.get(path, token)
        answers[path] = response
        for href in hrefs(response.json):
            if href.startswith(ROOT):
                queue.append(href[len(ROOT):] or "/")
            elif outside is not None:
                outside.add(href)
    return answers


def hrefs(value):
    if isinstance(value, dict):
        if isinstance(value.get("href"), str) and not value.get("templated"):
            yield value["href"]
        for inner in value.values():
            yield from hrefs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from hrefs(inner)


def resources_in(value):
    """Every dict that carries identifiers, wherever it sits in a body."""
    if isinstance(value, dict):
        if "identifiers" in value:
            yield value
        for inner in value.values():
            yield from resources_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from resources_in(inner)


def test_every_identifier_is_placard_uuid_and_every_date_iso_utc(world):
    """AN docs, 'General principles' page, 'Resources' (known), and every field table
    (read): identifiers are [system name]:[id], and the id without its prefix is the last
    part of the record's URL; datetimes are ISO 8601 UTC with a Z. Checked on every
    resource reachable from the entry point with A's token."""
    answers = walk(world, world.token_a)
    assert len(answers) > 20
    checked = 0
    for path, response in answers.items():
        assert response.status_code == 200, path
        for resource in resources_in(response.json):
            assert_self_is_the_identifier(resource)
            for key, value in resource.items():
                if key.endswith("_date") and value is not None:
                    assert ISO_UTC.match(value), (path, key, value)
            checked += 1
    assert checked > 20


# --- What a token may see -------------------------------------------------------------------------

def a_secrets(world):
    """Everything of A's that B must never read: uuids, addresses, names and titles."""
    a = world.a
    uuids = {world.campaign_a, world.petition_a, world.event_a}
    for record in a.values():
        uuids.add(uuid_of(record))
        for link in hrefs(record["_links"]):
            uuids.update(re.findall(UUID, link))
    # Shared signed B's petition too: their uuid is B's to see, not A's name for them.
    uuids.discard(uuid_of(world.shared))
    words = {"alpha-signer@example.org", "alpha-guest@example.org", "alpha-member@example.org",
             "Alphasigner", "Alphason", "Alphacomment", "Alphaguest", "Alphamember", "alphatag",
             "Alphapetition", "Alphaevent", "Alphacampaign", "alpha-campaign", "Zelda",
             "Alphashared", "Sync A"}
    return uuids, words


def assert_nothing_of_a(path, response, uuids, words):
    text = response.get_data(as_text=True)
    for secret in uuids | words:
        assert secret not in text, (path, secret)


def test_bs_token_reaches_nothing_of_as_through_any_link(world):
    """B walks every href its answers give, from the entry point and from each
    collection with a filter and a small page size (so next/previous links are followed
    too): each answers 200 and none holds A's uuids, addresses or names. Then B asks for
    each of A's URLs directly: every one is a 404 that says nothing more."""
    uuids, words = a_secrets(world)
    assert len(uuids) >= 8
    filtered = [f"{path}?filter=modified_date gt '2000-01-01'" for path in COLLECTIONS]
    small_pages = [f"{path}?per_page=1" for path in COLLECTIONS]
    outside = set()
    answers = walk(world, world.token_b, extra=filtered + small_pages, outside=outside)
    assert len(answers) > 25
    for path, response in answers.items():
        assert response.status_code == 200, path
        assert_nothing_of_a(path, response, uuids, words)
    assert outside == {"http://localhost/api/docs"}
    for href in outside:
        response = world.client.get(urlsplit(href).path)
        assert response.status_code == 200, href
        assert_nothing_of_a(href, response, uuids, words)
    # B sees its own records through the same walk, so the walk reached them.
    seen_by_b = " ".join(response.get_data(as_text=True) for response in answers.values())
    for record in world.b.values():
        assert uuid_of(record) in seen_by_b
    assert "Bea" in seen_by_b and uuid_of(world.shared) in seen_by_b
    # B's filters over everything B may see still show only B's, nested collections too.
    for path in filtered:
        assert answers[path].json["total_records"] >= 1, path
    nested = [path for path, response in answers.items()
              if "total_records" in response.json and "filter=" not in path]
    assert len(nested) > len(COLLECTIONS)
    for path in nested:
        joined = f"{path}{'&' if '?' in path else '?'}filter=modified_date gt '2000-01-01'"
        response = world.get(joined, world.token_b)
        assert response.status_code == 200, joined
        assert_nothing_of_a(joined, response, uuids, words)

    a_paths = set(walk(world, world.token_a))
    own = {path for path in a_paths if not any(uuid in path for uuid in uuids)}
    for path in sorted(a_paths - own):
        response = world.get(path, world.token_b)
        assert response.status_code == 404, path
        assert_nothing_of_a(path, response, uuids, words)
    assert len(a_paths - own) >= 10


def test_bs_token_cannot_write_to_as_records(world):
    """Writes through A's URLs with B's token are 404s and change nothing A sees."""
    tag = uuid_path(world.a["tag"]["_links"]["self"]["href"])
    tagging = uuid_path(world.a["tagging"]["_links"]["self"]["href"])
    person = uuid_path(world.a["person"]["_links"]["self"]["href"])
    attempts = [
        ("POST", f"/petitions/{world.petition_a}/signatures",
         {"person": {"given_name": "X", "family_name": "Y",
                     "email_addresses": [{"address": "x@example.org"}],
                     "postal_addresses": [{"postal_code": "M5V", "country": "CA"}]}}),
        ("POST", f"/events/{world.event_a}/attendances",
         {"person": {"email_addresses": [{"address": "x@example.org"}]}}),
        ("POST", f"{tag}/taggings", {"_links": {"osdi:person": {"href": ROOT + person}}}),
        ("PUT", person, {"given_name": "Hijacked"}),
        ("PUT", f"/petitions/{world.petition_a}", {"title": "Hijacked"}),
        ("PUT", f"/events/{world.event_a}", {"title": "Hijacked"}),
        ("DELETE", tagging, None),
    ]
    for method, path, body in attempts:
        kwargs = {"json": body} if body is not None else {}
        assert world.call(method, path, world.token_b, **kwargs).status_code == 404, path
    # B tagging A's person with B's own tag: A's person is not B's to tag.
    b_tag = uuid_path(world.b["tag"]["_links"]["self"]["href"])
    response = world.call("POST", f"{b_tag}/taggings", world.token_b,
                          json={"_links": {"osdi:person": {"href": ROOT + person}}})
    assert response.status_code == 404
    assert "Hijacked" not in str(walk(world, world.token_a)[person].json)
    assert world.get(tagging).status_code == 200
