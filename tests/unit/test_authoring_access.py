"""Who may author what: co-organizers, another organizer's ids, anonymous visitors, CSRF."""

import re

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import AuditEntry, User
from campaign.campaigns.models import Campaign, Demand
from campaign.extensions import db
from campaign.petitions.models import Petition
from tests.factories import make_campaign, make_petition
from tests.factories_accounts import login, make_user


@pytest.fixture
def world(app):
    """Ana organizes campaign A (with a petition); Ben organizes campaign B."""
    with app.app_context():
        ana = make_user(email="ana@example.org")
        ben = make_user(email="ben@example.org")
        campaign_a = make_campaign(slug="campaign-a", title="Campaign A")
        campaign_a.organizers.append(ana)
        campaign_b = make_campaign(slug="campaign-b", title="Campaign B")
        campaign_b.organizers.append(ben)
        petition_a = make_petition(campaign=campaign_a, slug="petition-a", title="Petition A")
        db.session.commit()
        return {"ana": ana.id, "ben": ben.id, "campaign_a": campaign_a.id, "campaign_b": campaign_b.id,
                "petition_a": petition_a.id, "demand_a": campaign_a.demands[0].id,
                "demand_b": campaign_b.demands[0].id}


def client_for(app, user_id=None):
    client = app.test_client()
    if user_id is not None:
        login(client, user_id)
    return client


def a_routes(w):
    """Every authoring request on Ana's objects, each with a plausible body."""
    campaign = f"/organize/campaigns/{w['campaign_a']}"
    petition = {"title": "Hijacked", "target": "x", "goal": "1", "timezone": "UTC", "status": "open"}
    return [
        ("GET", f"{campaign}/edit", None),
        ("POST", f"{campaign}/edit", {"title": "Hijacked"}),
        # The preview of A's campaign form is A's page too, and shows its data.
        ("POST", f"{campaign}/edit", {"title": "Hijacked", "preview": "1"}),
        ("POST", f"{campaign}/status", {"status": "archived"}),
        ("POST", f"{campaign}/demands", {"text": "Hijacked"}),
        ("POST", f"{campaign}/demands/{w['demand_a']}", {"action": "remove"}),
        ("GET", f"{campaign}/organizers", None),
        ("POST", f"{campaign}/organizers", {"email": "ben@example.org"}),
        ("POST", f"{campaign}/organizers/remove", {"user_id": str(w["ana"])}),
        ("GET", f"{campaign}/petitions/new", None),
        ("POST", f"{campaign}/petitions/new", petition),
        ("GET", f"/organize/petitions/{w['petition_a']}/edit", None),
        ("POST", f"/organize/petitions/{w['petition_a']}/edit", petition),
    ]


def snapshot(app):
    """Everything an attempt on A's objects could have changed."""
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).where(Campaign.slug == "campaign-a")).one()
        return (campaign.title, campaign.status, [u.id for u in campaign.organizers],
                db.session.scalars(select(Demand.text).where(Demand.campaign_id == campaign.id)).all(),
                db.session.scalars(select(Petition.title).order_by(Petition.id)).all(),
                db.session.scalar(select(func.count()).select_from(AuditEntry)))


def test_another_organizer_gets_404_for_every_authoring_request_on_a_campaign_not_theirs(app, world):
    before = snapshot(app)
    ben = client_for(app, world["ben"])
    for method, url, data in a_routes(world):
        response = ben.open(url, method=method, data=data)
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
        assert "Campaign A" not in response.text and "Petition A" not in response.text
    assert snapshot(app) == before


def test_a_demand_of_another_campaign_is_not_found_under_ones_own(app, world):
    ben = client_for(app, world["ben"])
    response = ben.post(f"/organize/campaigns/{world['campaign_b']}/demands/{world['demand_a']}",
                        data={"action": "remove"})
    assert response.status_code == 404
    assert snapshot(app)[3] == ["First demand", "Second demand"]


def test_the_owner_can_make_every_authoring_request(app, world):
    ana = client_for(app, world["ana"])
    for method, url, data in a_routes(world):
        if url.endswith("/organizers/remove"):
            continue
        assert ana.open(url, method=method, data=data).status_code in (200, 303), f"{method} {url}"


def test_an_anonymous_visitor_is_sent_to_log_in(app, world):
    anonymous = client_for(app)
    requests = [*a_routes(world), ("GET", "/organize/", None), ("GET", "/organize/campaigns/new", None),
                ("POST", "/organize/campaigns/new", {"title": "x"}),
                ("POST", "/organize/preview", {"text": "x"})]
    for method, url, data in requests:
        response = anonymous.open(url, method=method, data=data)
        assert response.status_code in (302, 303), f"{method} {url}"
        assert "/organize/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 2


def test_a_co_organizer_is_added_by_email_and_can_then_manage_the_campaign(app, world):
    ana, ben = client_for(app, world["ana"]), client_for(app, world["ben"])
    response = ana.post(f"/organize/campaigns/{world['campaign_a']}/organizers",
                        data={"email": "  BEN@Example.org "}, follow_redirects=True)
    assert "ben@example.org now organizes this campaign." in response.text
    assert ben.get(f"/organize/campaigns/{world['campaign_a']}/edit").status_code == 200
    assert "Campaign A" in ben.get("/organize/").text
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.subject_type, entry.subject_id, entry.campaign_id) == (
        "campaign.add_organizer", world["ana"], "user", world["ben"], world["campaign_a"])


@pytest.mark.parametrize(("email", "message"), [
    ("nobody@example.org", "No active account has this email address."),
    ("ana@example.org", "This person already organizes this campaign."),
    ("gone@example.org", "No active account has this email address."),
    ("not an address", "This email address is not valid"),
])
def test_only_an_existing_active_account_can_be_added(app, world, email, message):
    with app.app_context():
        make_user(email="gone@example.org", is_active_account=False)
        db.session.commit()
    response = client_for(app, world["ana"]).post(
        f"/organize/campaigns/{world['campaign_a']}/organizers", data={"email": email})
    assert response.status_code == 422
    assert message in response.text
    assert snapshot(app)[2] == [world["ana"]]


def test_an_organizer_is_removed_but_never_the_last_one(app, world):
    ana = client_for(app, world["ana"])
    url = f"/organize/campaigns/{world['campaign_a']}/organizers"
    page = ana.post(f"{url}/remove", data={"user_id": world["ana"]}, follow_redirects=True).text
    assert "at least one organizer" in page
    assert snapshot(app)[2] == [world["ana"]]

    ana.post(url, data={"email": "ben@example.org"})
    assert snapshot(app)[2] == [world["ana"], world["ben"]]
    ana.post(f"{url}/remove", data={"user_id": world["ben"]})
    assert snapshot(app)[2] == [world["ana"]]
    assert client_for(app, world["ben"]).get(f"/organize/campaigns/{world['campaign_a']}/edit").status_code \
        == 404
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["campaign.add_organizer", "campaign.remove_organizer"]


def test_an_organizer_who_leaves_goes_back_to_their_dashboard(app, world):
    ana = client_for(app, world["ana"])
    ana.post(f"/organize/campaigns/{world['campaign_a']}/organizers", data={"email": "ben@example.org"})
    response = ana.post(f"/organize/campaigns/{world['campaign_a']}/organizers/remove",
                        data={"user_id": world["ana"]})
    assert response.headers["Location"].endswith("/organize/")
    assert ana.get(f"/organize/campaigns/{world['campaign_a']}/edit").status_code == 404


def test_a_deactivated_organizer_loses_access(app, world):
    with app.app_context():
        db.session.get(User, world["ana"]).is_active_account = False
        db.session.commit()
    response = client_for(app, world["ana"]).get(f"/organize/campaigns/{world['campaign_a']}/edit")
    assert response.status_code in (302, 303)


def _token(page):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_authoring_forms_need_their_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user_id = make_user().id
        db.session.commit()
    client = client_for(app, user_id)
    refused = client.post("/organize/campaigns/new", data={"title": "Forged"})
    assert refused.status_code == 400
    assert client.post("/organize/preview", data={"text": "*x*"}).status_code == 400

    token = _token(client.get("/organize/campaigns/new").text)
    accepted = client.post("/organize/campaigns/new", data={"title": "Real", "csrf_token": token})
    assert accepted.status_code == 303
    # The live preview sends the token in a header, as manage.js does.
    preview = client.post("/organize/preview", data={"text": "*x*"}, headers={"X-CSRFToken": token})
    assert preview.status_code == 200 and preview.get_json()["html"] == "<p><em>x</em></p>\n"
    with app.app_context():
        assert db.session.scalars(select(Campaign.title)).all() == ["Real"]
