"""The JSON API at /api/v2: what a client can do with a token, and what it is refused."""

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import UserRole
from campaign.api.tokens import create_token
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.petitions.services import confirmed_counts
from campaign.signatures.models import Signature, SignatureStatus
from campaign.signatures.services import sign_petition
from tests.factories import make_campaign, make_petition, signer
from tests.factories_accounts import fast_password_hashing, make_user  # noqa: F401
from tests.factories_events import make_event

API = "/api/v2"


class Api:
    """Two organizers' campaigns, each with a petition, an event and a token."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        with app.app_context():
            organizer_a = make_user(role=UserRole.ORGANIZER)
            organizer_b = make_user(role=UserRole.ORGANIZER)
            admin = make_user(role=UserRole.ADMIN)
            campaign_a = make_campaign(slug="campaign-a")
            campaign_a.organizers.append(organizer_a)
            campaign_b = make_campaign(slug="campaign-b")
            campaign_b.organizers.append(organizer_b)
            petition_a = make_petition(campaign_a)
            petition_b = make_petition(campaign_b)
            event_a = make_event(campaign_a)
            event_b = make_event(campaign_b)
            sign_petition(petition_b, signer(email="b-signer@example.org"))
            db.session.flush()
            self.token_a = create_token(organizer_a, "Sync A")[1]
            self.token_b = create_token(organizer_b, "Sync B")[1]
            self.token_admin = create_token(admin, "Admin")[1]
            self.campaign_a, self.campaign_b = campaign_a.uuid, campaign_b.uuid
            self.petition_a, self.petition_b = petition_a.uuid, petition_b.uuid
            self.event_a, self.event_b = event_a.uuid, event_b.uuid
            self.petition_a_id = petition_a.id
            db.session.commit()

    def call(self, method, path, token=None, **kwargs):
        headers = {"OSDI-API-Token": token} if token else {}
        return self.client.open(API + path, method=method, headers=headers, **kwargs)

    def get(self, path, token=None, **kwargs):
        return self.call("GET", path, token or self.token_a, **kwargs)

    def post(self, path, body, token=None):
        return self.call("POST", path, token or self.token_a, json=body)

    def put(self, path, body, token=None):
        return self.call("PUT", path, token or self.token_a, json=body)


@pytest.fixture
def api(app, client):
    return Api(app, client)


def signature_body(email="ada@example.org", **extra):
    body = {"person": {"given_name": "Ada", "family_name": "Lovelace",
                       "email_addresses": [{"address": email}],
                       "postal_addresses": [{"postal_code": "M5V 2T6", "country": "CA"}]}}
    body.update(extra)
    return body


def test_the_entry_point_links_every_collection(api):
    response = api.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/hal+json"
    links = response.json["_links"]
    for name in ("people", "petitions", "events", "tags", "lists"):
        assert links[f"osdi:{name}"]["href"] == f"http://localhost/api/v2/{name}"
    assert response.json["max_pagesize"] == 25


@pytest.mark.parametrize("token", [None, "", "plc_not-a-real-token", "x" * 500])
def test_no_valid_token_is_a_401_in_json(api, token):
    response = api.call("GET", "/petitions", token)
    assert response.status_code == 401
    assert "OSDI-API-Token" in response.json["error"]
    assert response.headers["WWW-Authenticate"] == 'OSDI-API-Token realm="Placard API"'


def test_a_petition_reads_as_action_network_shows_it(api):
    response = api.get(f"/petitions/{api.petition_a}")
    assert response.status_code == 200
    petition = response.json
    assert petition["identifiers"] == [f"placard:{api.petition_a}"]
    assert petition["target"] == [{"name": "The Decision Maker"}]
    assert petition["total_signatures"] == 0
    assert petition["browser_url"].startswith("http://localhost/petitions/")
    assert petition["_links"]["osdi:signatures"]["href"].endswith(
        f"/petitions/{api.petition_a}/signatures")


def test_an_empty_collection_still_embeds_its_one_key(api):
    response = api.get(f"/petitions/{api.petition_a}/signatures")
    assert response.status_code == 200
    assert response.json["_embedded"] == {"osdi:signatures": []}
    assert response.json["total_records"] == 0


def test_a_vouched_signature_counts_at_once_and_sends_nothing(api, outbox):
    response = api.post(f"/petitions/{api.petition_a}/signatures",
                        signature_body(comments="For peace", add_tags=["volunteer"]))
    assert response.status_code == 200, response.json
    assert response.json["placard:status"] == "confirmed"
    assert response.json["comments"] == "For peace"
    assert outbox.to("ada@example.org") == []
    with api.app.app_context():
        assert confirmed_counts([api.petition_a_id])[api.petition_a_id] == 1
        signature = db.session.scalars(select(Signature).where(
            Signature.petition_id == api.petition_a_id)).one()
        assert signature.source == "api: Sync A"
    tags = api.get("/tags").json["_embedded"]["osdi:tags"]
    assert [tag["name"] for tag in tags] == ["volunteer"]


def test_an_autoresponse_signature_waits_for_its_email_link(api, outbox):
    body = signature_body(triggers={"autoresponse": {"enabled": True}})
    response = api.post(f"/petitions/{api.petition_a}/signatures", body)
    assert response.status_code == 200
    assert response.json["placard:status"] == "pending"
    assert len(outbox.to("ada@example.org")) == 1
    assert api.get(f"/petitions/{api.petition_a}").json["total_signatures"] == 0


def test_signing_twice_records_one_signature(api):
    for _ in range(2):
        assert api.post(f"/petitions/{api.petition_a}/signatures",
                        signature_body()).status_code == 200
    listed = api.get(f"/petitions/{api.petition_a}/signatures").json
    assert listed["total_records"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({}, "person"),
    ({"person": "ada"}, "person"),
    ({"person": {"given_name": "Ada", "family_name": "L"}}, "person.email_addresses.address"),
    (signature_body(email="not an address"), "person.email_addresses.address"),
    (signature_body(triggers={"autoresponse": {"enabled": "yes"}}),
     "triggers.autoresponse.enabled"),
    (signature_body(add_tags="volunteer"), "add_tags"),
    ({"person": {"family_name": "L", "email_addresses": [{"address": "a@example.org"}],
                 "postal_addresses": [{"postal_code": "M5V", "country": "CA"}]}},
     "person.given_name"),
])
def test_a_malformed_signature_is_a_400_naming_the_field_and_records_nothing(api, body, field):
    response = api.post(f"/petitions/{api.petition_a}/signatures", body)
    assert response.status_code == 400
    assert response.json["field"] == field
    with api.app.app_context():
        assert db.session.scalar(select(func.count(Signature.id)).where(
            Signature.petition_id == api.petition_a_id)) == 0


def test_a_body_sent_as_query_parameters_is_told_so(api):
    response = api.call("POST", f"/petitions/{api.petition_a}/signatures?person=ada",
                        api.token_a)
    assert response.status_code == 400
    assert "JSON" in response.json["error"]


def test_pages_cover_every_record_once_and_a_page_past_the_end_is_empty(api):
    with api.app.app_context():
        from campaign.petitions.models import Petition

        petition = db.session.get(Petition, api.petition_a_id)
        for number in range(7):
            sign_petition(petition, signer(email=f"s{number}@example.org"), vouched=True)
        db.session.commit()
    seen = []
    page = 1
    while True:
        body = api.get(f"/petitions/{api.petition_a}/signatures?per_page=3&page={page}").json
        assert body["total_records"] == 7 and body["total_pages"] == 3
        batch = body["_embedded"]["osdi:signatures"]
        if not batch:
            break
        seen += [item["identifiers"][0] for item in batch]
        page += 1
    assert page == 4
    assert len(seen) == len(set(seen)) == 7


def test_per_page_is_capped_at_25(api):
    assert api.get("/petitions?per_page=500").json["per_page"] == 25


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=-1",
                                   "filter=name eq 'x'", "filter=modified_date gt 'soon'"])
def test_bad_paging_or_filters_are_400(api, query):
    response = api.get(f"/petitions?{query}")
    assert response.status_code == 400
    assert response.json["field"] in ("page", "per_page", "filter")


def test_modified_date_filters(api):
    assert api.get("/petitions?filter=modified_date gt '2000-01-01'").json["total_records"] == 1
    assert api.get("/petitions?filter=modified_date lt '2000-01-01'").json["total_records"] == 0
    assert api.get("/petitions?filter=modified_date gt '2000-01-01' and "
                   "modified_date lt '2999-01-01'").json["total_records"] == 1


def test_organizer_b_sees_nothing_of_a(api):
    api.post(f"/petitions/{api.petition_a}/signatures", signature_body())
    for path in ("/petitions", "/events", "/people", "/tags", "/lists"):
        body = api.get(path, api.token_b).json
        text = str(body)
        assert api.petition_a not in text and api.event_a not in text
        assert "ada@example.org" not in text
    for path in (f"/petitions/{api.petition_a}", f"/events/{api.event_a}",
                 f"/petitions/{api.petition_a}/signatures", f"/events/{api.event_a}/attendances",
                 f"/lists/{api.campaign_a}", f"/lists/{api.campaign_a}/items"):
        response = api.get(path, api.token_b)
        assert response.status_code == 404, path
    person = api.get("/people").json["_embedded"]["osdi:people"][0]
    person_id = person["identifiers"][0].split(":")[1]
    for path in (f"/people/{person_id}", f"/people/{person_id}/signatures"):
        assert api.get(path, api.token_b).status_code == 404
    assert api.post(f"/petitions/{api.petition_a}/signatures", signature_body(email="x@example.org"),
                    api.token_b).status_code == 404
    assert api.put(f"/petitions/{api.petition_a}", {"title": "Mine now"},
                   api.token_b).status_code == 404


def test_the_administrators_token_sees_every_campaign(api):
    assert api.get("/petitions", api.token_admin).json["total_records"] == 2


def test_person_signup_puts_them_on_the_list_but_never_back_after_they_left(api):
    body = {"person": {"given_name": "Grace", "email_addresses": [{"address": "grace@example.org"}]},
            "add_tags": ["member"]}
    person = api.post("/people", body).json
    assert person["email_addresses"][0]["status"] == "subscribed"
    with api.app.app_context():
        subscription = db.session.scalars(select(Subscription)).one()
        subscription.status = SubscriptionStatus.UNSUBSCRIBED
        db.session.commit()
    again = api.post("/people", body).json
    assert again["email_addresses"][0]["status"] == "unsubscribed"


def test_update_person_changes_names_but_not_the_address(api):
    person = api.post("/people", {"person": {"email_addresses": [{"address": "g@example.org"}]}}).json
    person_id = person["identifiers"][0].removeprefix("placard:")
    updated = api.put(f"/people/{person_id}", {"given_name": "Grace", "family_name": "Hopper"})
    assert updated.status_code == 200
    assert updated.json["given_name"] == "Grace"
    refused = api.put(f"/people/{person_id}", {"email_addresses": [{"address": "new@example.org"}]})
    assert refused.status_code == 400


def test_create_and_update_a_petition(api):
    created = api.post("/petitions", {"title": "Sign the peace treaty",
                                      "target": [{"name": "The Prime Minister"}],
                                      "petition_text": "Replace the Armistice."})
    assert created.status_code == 200, created.json
    petition_id = created.json["identifiers"][0].removeprefix("placard:")
    updated = api.put(f"/petitions/{petition_id}", {"title": "Sign for a peace treaty"})
    assert updated.json["title"] == "Sign for a peace treaty"
    assert updated.json["petition_text"] == "Replace the Armistice."


def test_a_token_of_several_campaigns_must_say_which(api):
    created = api.post("/petitions", {"title": "T", "target": [{"name": "X"}]}, api.token_admin)
    assert created.status_code == 400
    assert created.json["field"] == "placard:campaign"
    created = api.post("/petitions", {"title": "T", "target": [{"name": "X"}],
                                      "placard:campaign": f"placard:{api.campaign_b}"},
                       api.token_admin)
    assert created.status_code == 200


def test_events_and_attendances(api, outbox):
    created = api.post("/events", {"title": "Vigil", "start_date": "2030-07-27T22:00:00Z",
                                   "end_date": "2030-07-27T23:00:00Z", "status": "confirmed",
                                   "location": {"venue": "City Hall", "locality": "Toronto"}})
    assert created.status_code == 200, created.json
    event = created.json
    assert event["status"] == "confirmed" and event["total_accepted"] == 0
    event_id = event["identifiers"][0].removeprefix("placard:")
    attendance = api.post(f"/events/{event_id}/attendances",
                          {"person": {"given_name": "Ada",
                                      "email_addresses": [{"address": "ada@example.org"}]}})
    assert attendance.status_code == 200, attendance.json
    assert attendance.json["status"] == "accepted"
    assert api.get(f"/events/{event_id}").json["total_accepted"] == 1
    assert outbox.to("ada@example.org") == []
    person_href = attendance.json["_links"]["osdi:person"]["href"]
    person_id = person_href.rsplit("/", 1)[1]
    listed = api.get(f"/people/{person_id}/attendances").json
    assert listed["total_records"] == 1


def test_an_event_that_ends_before_it_starts_is_refused(api):
    response = api.post("/events", {"title": "Vigil", "start_date": "2030-07-27T22:00:00Z",
                                    "end_date": "2030-07-27T21:00:00Z"})
    assert response.status_code == 400 and response.json["field"] == "end_date"


def test_tags_and_taggings(api):
    person = api.post("/people", {"person": {"email_addresses": [{"address": "t@example.org"}]}}).json
    tag = api.post("/tags", {"name": "volunteer"}).json
    tag_id = tag["identifiers"][0].removeprefix("placard:")
    tagging = api.post(f"/tags/{tag_id}/taggings",
                       {"_links": {"osdi:person": {"href": person["_links"]["self"]["href"]}}})
    assert tagging.status_code == 200, tagging.json
    assert api.get(f"/tags/{tag_id}/taggings").json["total_records"] == 1
    tagging_id = tagging.json["identifiers"][0].removeprefix("placard:")
    assert api.call("DELETE", f"/tags/{tag_id}/taggings/{tagging_id}", api.token_a).status_code == 200
    assert api.get(f"/tags/{tag_id}/taggings").json["total_records"] == 0


def test_lists_are_the_campaigns_mailing_lists(api):
    api.post("/people", {"person": {"email_addresses": [{"address": "l@example.org"}]}})
    lists = api.get("/lists").json["_embedded"]["osdi:lists"]
    assert [entry["identifiers"][0] for entry in lists] == [f"placard:{api.campaign_a}"]
    assert lists[0]["total_items"] == 1
    items = api.get(f"/lists/{api.campaign_a}/items").json["_embedded"]["osdi:items"]
    assert len(items) == 1
    assert api.call("POST", "/lists", api.token_a, json={}).status_code == 405


def test_unknown_paths_and_methods_answer_json(api):
    assert api.get("/nothing-here").json["error"]
    assert api.call("DELETE", "/petitions", api.token_a).status_code == 405


def test_the_rate_limit_answers_429_with_retry_after(make_app):
    app = make_app(API_RATE_LIMIT="2 per minute")
    client = app.test_client()
    api = Api(app, client)
    statuses = [api.get("/petitions").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = api.get("/petitions")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json["error"]


def test_pending_signatures_of_other_petitions_stay_out(api):
    with api.app.app_context():
        assert db.session.scalar(select(func.count(Signature.id)).where(
            Signature.status == SignatureStatus.PENDING)) == 1
    assert api.get("/people").json["total_records"] == 0


def test_a_token_learns_nothing_a_person_told_another_campaign(api):
    """B's signer gave their names to B's petition; A knows their address and tries to
    learn the rest, then to change what B sees."""
    with api.app.app_context():
        from campaign.petitions.models import Petition

        petition_b = db.session.scalars(select(Petition).where(Petition.uuid == api.petition_b)).one()
        sign_petition(petition_b, signer(email="known@example.org", first_name="Secret",
                                         last_name="Name", postal_code="H2X 1Y4"), vouched=True)
        db.session.commit()
    signed_up = api.post("/people", {"person": {"email_addresses": [
        {"address": "known@example.org"}]}}).json
    assert signed_up["given_name"] == "" and signed_up["family_name"] == ""
    assert signed_up["postal_addresses"][0]["postal_code"] == ""
    person_id = signed_up["identifiers"][0].removeprefix("placard:")
    api.put(f"/people/{person_id}", {"given_name": "Changed"})
    api.post(f"/petitions/{api.petition_a}/signatures",
             signature_body(email="known@example.org"))
    seen_by_b = api.get(f"/people/{person_id}", api.token_b).json
    assert (seen_by_b["given_name"], seen_by_b["family_name"]) == ("Secret", "Name")
    seen_by_a = api.get(f"/people/{person_id}").json
    assert "Secret" not in str(seen_by_a) and "H2X" not in str(seen_by_a)
    with api.app.app_context():
        from campaign.signatures.models import Supporter

        supporter = db.session.scalars(select(Supporter).where(
            Supporter.email_key == "known@example.org")).one()
        assert (supporter.first_name, supporter.postal_code) == ("Secret", "H2X 1Y4")


def test_a_persons_dates_are_their_campaigns_own_and_do_not_move_with_another(api):
    """A person's created and modified dates are those of what the token's campaigns hold
    of them: a signature elsewhere neither changes them nor brings them into a filter."""
    from datetime import timedelta

    from campaign.db import utcnow
    from campaign.signatures.models import Supporter

    long_ago = utcnow() - timedelta(days=400)
    signed = api.post(f"/petitions/{api.petition_b}/signatures",
                      signature_body(email="both@example.org"), api.token_b).json
    person_id = signed["_links"]["osdi:person"]["href"].rsplit("/", 1)[1]
    with api.app.app_context():
        # B heard of them long ago; B's other signer is as old.
        db.session.execute(Supporter.__table__.update().values(created_at=long_ago,
                                                               updated_at=long_ago))
        for model in (Signature, Subscription):
            db.session.execute(model.__table__.update().values(created_at=long_ago,
                                                               updated_at=long_ago))
        db.session.commit()
    before = api.get(f"/people/{person_id}", api.token_b).json
    assert before["modified_date"].startswith(f"{long_ago:%Y-%m-%d}")
    since = f"{utcnow() - timedelta(days=1):%Y-%m-%d}"
    assert api.get(f"/people?filter=modified_date gt '{since}'", api.token_b).json["total_records"] == 0

    # Now they sign A's petition, and their shared record changes (as when a signer
    # confirms by their email link with a new postal code).
    api.post(f"/petitions/{api.petition_a}/signatures", signature_body(email="both@example.org"))
    with api.app.app_context():
        db.session.execute(Supporter.__table__.update().values(updated_at=utcnow()))
        db.session.commit()
    after = api.get(f"/people/{person_id}", api.token_b).json
    assert (after["created_date"], after["modified_date"]) == (
        before["created_date"], before["modified_date"])
    assert api.get(f"/people?filter=modified_date gt '{since}'", api.token_b).json["total_records"] == 0
    assert api.get(f"/people?filter=created_date lt '{since}'", api.token_b).json["total_records"] == 2
    # A sees the person as new, from its own signature.
    seen_by_a = api.get(f"/people?filter=modified_date gt '{since}'").json
    assert seen_by_a["total_records"] == 1
    assert seen_by_a["_embedded"]["osdi:people"][0]["created_date"] >= since


def test_what_the_api_noted_is_in_the_persons_data_copy_and_goes_with_erasure(api):
    api.post("/people", {"person": {"given_name": "Noted",
                                    "email_addresses": [{"address": "noted@example.org"}]},
                         "add_tags": ["volunteer"]})
    with api.app.app_context():
        from campaign.api.models import PersonProfile
        from campaign.privacy.access import supporter_data
        from campaign.privacy.erasure import erase_supporter
        from campaign.signatures.models import Supporter
        from campaign.tags.models import Tagging

        supporter = db.session.scalars(select(Supporter).where(
            Supporter.email_key == "noted@example.org")).one()
        data = supporter_data(supporter)
        assert data["campaign_profiles"][0]["given_name"] == "Noted"
        assert data["tags"][0]["tag"] == "volunteer"
        erase_supporter(supporter)
        db.session.commit()
        assert db.session.scalar(select(func.count(PersonProfile.id))) == 0
        assert db.session.scalar(select(func.count(Tagging.id))) == 0


@pytest.mark.parametrize("query", ["page=²", "per_page=٣", "filter=modified_date gt '9999-12-31'",
                                   "filter=modified_date eq '9999-12-31T23:59:59Z'",
                                   "filter=created_date lt '0001-01-01T00:00:00+01:00'"])
def test_odd_numbers_and_dates_at_the_ends_of_the_calendar_are_400_not_500(api, query):
    response = api.get(f"/petitions?{query}")
    assert response.status_code == 400
    assert response.json["field"] in ("page", "per_page", "filter")


def test_a_page_number_too_long_to_convert_reads_as_the_largest(api):
    assert api.get("/petitions?per_page=" + "9" * 5000).json["per_page"] == 25


@pytest.mark.parametrize(("extra", "field"), [({"status": []}, "status"),
                                              ({"placard:timezone": "America"}, "placard:timezone"),
                                              ({"start_date": "0001-01-01T00:00:00+01:00"},
                                               "start_date")])
def test_malformed_event_fields_are_400_naming_the_field(api, extra, field):
    body = {"title": "Vigil", "start_date": "2030-07-27T22:00:00Z",
            "end_date": "2030-07-27T23:00:00Z", **extra}
    response = api.post("/events", body)
    assert response.status_code == 400
    assert response.json["field"] == field


def test_null_guests_means_none(api):
    response = api.post(f"/events/{api.event_a}/attendances",
                        {"person": {"email_addresses": [{"address": "g@example.org"}]},
                         "placard:guests": None})
    assert response.status_code == 200, response.json
    assert response.json["placard:guests"] == 0


@pytest.mark.parametrize("body", [{"_links": {"osdi:person": [None]}},
                                  {"_links": "x", "person": {"identifiers": 5}}])
def test_a_tagging_body_of_the_wrong_shape_is_a_400(api, body):
    tag = api.post("/tags", {"name": "volunteer"}).json
    tag_id = tag["identifiers"][0].removeprefix("placard:")
    response = api.post(f"/tags/{tag_id}/taggings", body)
    assert response.status_code == 400
    assert response.json["field"] == "_links.osdi:person"


def test_long_names_and_far_dates_are_handled_without_a_crash(api):
    long_name = "N" * 100
    attendance = api.post(f"/events/{api.event_a}/attendances", {"person": {
        "given_name": long_name, "family_name": long_name,
        "email_addresses": [{"address": "long@example.org"}]}})
    assert attendance.status_code == 200
    far = api.post("/events", {"title": "Far", "start_date": "0001-01-01T00:00:00Z",
                               "end_date": "0001-01-01T01:00:00Z"})
    assert far.status_code == 400 and far.json["field"] == "start_date"


def test_dates_are_written_with_four_digit_years():
    from datetime import UTC, datetime

    from campaign.api.resources import iso

    assert iso(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert iso(datetime(2026, 7, 27, 18, 0, 0, 500, tzinfo=UTC)) == "2026-07-27T18:00:00Z"
