"""API tokens: the service the API calls (make, check, scope, revoke, note use) and the
organizers' page where tokens are made (the secret shown once) and revoked."""

import hashlib
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaign.accounts.models import AuditEntry, User, UserRole
from campaign.api.models import ApiToken
from campaign.api.tokens import (
    TOKEN_PREFIX,
    TokenNameInvalid,
    TokenNameRequired,
    TokenScopeInvalid,
    authenticate,
    create_token,
    list_all_tokens,
    list_tokens,
    note_token_use,
    revoke_token,
    token_campaign_ids,
)
from campaign.campaigns.models import Campaign
from campaign.extensions import db
from tests.factories import make_campaign
from tests.factories_accounts import login, make_user
from tests.support.forms import FORM_KEY, form_key, send_form

SECRET = re.compile(r"plc_[A-Za-z0-9_\-]{40}")
T0 = datetime(2031, 5, 10, 12, tzinfo=UTC)


@pytest.fixture
def world(app):
    with app.app_context():
        ana = make_user(email="ana@example.org", name="Ana")
        bo = make_user(email="bo@example.org", name="Bo")
        admin = make_user(email="admin@example.org", role=UserRole.ADMIN)
        housing = make_campaign(slug="housing", title="Housing")
        transit = make_campaign(slug="transit", title="Transit")
        rivers = make_campaign(slug="rivers", title="Rivers")
        housing.organizers.append(ana)
        transit.organizers.append(ana)
        rivers.organizers.append(bo)
        db.session.commit()
        return {"ana": ana.id, "bo": bo.id, "admin": admin.id, "housing": housing.id,
                "transit": transit.id, "rivers": rivers.id}


def user(world, name):
    return db.session.get(User, world[name])


def scope_of(token):
    return set(db.session.scalars(
        select(Campaign.id).where(Campaign.id.in_(token_campaign_ids(token)))))


def fresh_login(client, user_id):
    login(client, user_id)
    with client.session_transaction() as session:
        session["password_at"] = int(time.time())


def token_count():
    return db.session.scalar(select(db.func.count()).select_from(ApiToken))


# The service


def test_a_new_token_keeps_only_the_hash_of_its_secret(app, world):
    with app.app_context():
        token, secret = create_token(user(world, "ana"), "  My   CRM ")
        db.session.commit()
        assert secret.startswith(TOKEN_PREFIX) and SECRET.fullmatch(secret)
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.prefix == secret[:10]
        assert token.name == "My CRM"
        assert token.all_campaigns and not token.campaigns
        row = db.session.execute(select(ApiToken.__table__)).one()
        assert secret not in [str(value) for value in row]
        entry = db.session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.subject_id, entry.actor_id) == (
            "api_token.create", token.id, world["ana"])


def test_each_token_gets_its_own_secret(app, world):
    with app.app_context():
        _first, one = create_token(user(world, "ana"), "One")
        _second, two = create_token(user(world, "ana"), "Two")
        assert one != two


def test_the_secret_finds_its_token_and_nothing_else_does(app, world):
    with app.app_context():
        token, secret = create_token(user(world, "ana"), "CRM")
        db.session.commit()
        assert authenticate(secret) == token
        for wrong in (secret + "x", secret[:-1], "", None, b"bytes", TOKEN_PREFIX,
                      "plc_" + "a" * 5000, token.token_hash):
            assert authenticate(wrong) is None


def test_a_revoked_token_no_longer_works_and_revoking_twice_changes_nothing(app, world):
    with app.app_context():
        ana = user(world, "ana")
        token, secret = create_token(ana, "CRM")
        revoke_token(token, actor=ana, now=T0)
        revoke_token(token, actor=ana, now=T0 + timedelta(hours=1))
        db.session.commit()
        assert token.revoked_at == T0
        assert authenticate(secret) is None
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["api_token.create", "api_token.revoke"]


def test_a_deactivated_owner_takes_their_tokens_with_them(app, world):
    with app.app_context():
        ana = user(world, "ana")
        token, secret = create_token(ana, "CRM")
        ana.is_active_account = False
        db.session.commit()
        assert authenticate(secret) is None
        assert scope_of(token) == set()


def test_an_all_campaigns_token_follows_its_owners_campaigns(app, world):
    with app.app_context():
        ana = user(world, "ana")
        token, _secret = create_token(ana, "CRM")
        assert scope_of(token) == {world["housing"], world["transit"]}
        later = make_campaign(slug="later")
        later.organizers.append(ana)
        housing = db.session.get(Campaign, world["housing"])
        housing.organizers.remove(ana)
        db.session.flush()
        assert scope_of(token) == {world["transit"], later.id}


def test_a_restricted_token_acts_only_on_its_campaigns_while_its_owner_organizes_them(app, world):
    with app.app_context():
        ana = user(world, "ana")
        token, _secret = create_token(ana, "Housing only", [world["housing"], world["housing"]])
        db.session.commit()
        assert not token.all_campaigns
        assert [c.id for c in token.campaigns] == [world["housing"]]
        assert scope_of(token) == {world["housing"]}
        housing = db.session.get(Campaign, world["housing"])
        housing.organizers.remove(ana)
        db.session.flush()
        assert scope_of(token) == set()


def test_an_administrators_token_may_reach_every_campaign(app, world):
    with app.app_context():
        admin = user(world, "admin")
        everything, _secret = create_token(admin, "All")
        assert scope_of(everything) == {world["housing"], world["transit"], world["rivers"]}
        rivers_only, _secret = create_token(admin, "Rivers", [world["rivers"]])
        assert scope_of(rivers_only) == {world["rivers"]}


@pytest.mark.parametrize("campaign_ids", [
    [], "1", 5, [True], ["1"], [None], [1.0], "other organizer's", "missing"])
def test_a_token_may_name_only_campaigns_its_owner_organizes(app, world, campaign_ids):
    with app.app_context():
        if campaign_ids == "other organizer's":
            campaign_ids = [world["housing"], world["rivers"]]
        elif campaign_ids == "missing":
            campaign_ids = [world["housing"], 999_999]
        with pytest.raises(TokenScopeInvalid):
            create_token(user(world, "ana"), "CRM", campaign_ids)
        assert token_count() == 0


@pytest.mark.parametrize(("name", "problem"), [
    ("", TokenNameRequired), ("   ", TokenNameRequired), (None, TokenNameRequired),
    ("x" * 101, TokenNameInvalid), ("bad\u202ename", TokenNameInvalid)])
def test_a_token_needs_a_sensible_name(app, world, name, problem):
    with app.app_context():
        with pytest.raises(problem) as raised:
            create_token(user(world, "ana"), name)
        assert raised.value.status_code == 422
        assert token_count() == 0


def test_use_is_noted_at_most_once_every_five_minutes(app, world):
    with app.app_context():
        token, _secret = create_token(user(world, "ana"), "CRM")
        db.session.commit()
        assert note_token_use(token, now=T0) is True
        assert note_token_use(token, now=T0 + timedelta(minutes=4)) is False
        assert note_token_use(token, now=T0 + timedelta(minutes=6)) is True
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(ApiToken, token.id).last_used_at == T0 + timedelta(minutes=6)


def test_a_stale_copy_of_a_token_does_not_write_over_a_newer_use(app, world):
    with app.app_context():
        token, _secret = create_token(user(world, "ana"), "CRM")
        db.session.commit()
        token_id = token.id
        note_token_use(token, now=T0)
        db.session.commit()
    with app.app_context():
        # Another request's copy, loaded before that use: the UPDATE's own guard holds.
        stale = db.session.get(ApiToken, token_id)
        db.session.expunge(stale)
        stale.last_used_at = None
        assert note_token_use(stale, now=T0 + timedelta(minutes=1)) is False
        assert db.session.get(ApiToken, token_id).last_used_at == T0


def test_lists_show_own_tokens_newest_first_and_admins_every_live_token(app, world):
    with app.app_context():
        ana, bo = user(world, "ana"), user(world, "bo")
        old, _secret = create_token(ana, "Old", now=T0)
        new, _secret = create_token(ana, "New", now=T0 + timedelta(days=1))
        bos, _secret = create_token(bo, "Bo's", now=T0 + timedelta(days=2))
        revoke_token(old, actor=ana)
        db.session.commit()
        assert list_tokens(ana) == [new, old]
        assert list_tokens(bo) == [bos]
        assert list_all_tokens() == [bos, new]
        assert list_all_tokens(include_revoked=True) == [bos, new, old]


# The page


@pytest.fixture
def ana_client(app, world):
    client = app.test_client()
    fresh_login(client, world["ana"])
    return client


def test_the_page_explains_the_header_and_is_in_the_organizer_menu(ana_client):
    page = ana_client.get("/organize/api-tokens")
    assert page.status_code == 200
    assert "OSDI-API-Token" in page.text and 'href="/api/docs"' in page.text
    assert 'href="/organize/api-tokens"' in page.text
    assert "Housing" in page.text and "Rivers" not in page.text


def test_a_new_tokens_secret_is_shown_once(app, world, ana_client):
    made = send_form(ana_client, "/organize/api-tokens", {"name": "CRM", "scope": "all"})
    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    secret = SECRET.search(made.text).group(0)
    with app.app_context():
        token = authenticate(secret)
        assert token is not None and token.user_id == world["ana"] and token.all_campaigns
    again = ana_client.get("/organize/api-tokens")
    assert secret not in again.text and not SECRET.search(again.text)
    assert secret[:10] in again.text
    with ana_client.session_transaction() as session:
        assert secret not in repr(dict(session))


def test_a_token_limited_to_chosen_campaigns_can_be_made(app, world, ana_client):
    made = send_form(ana_client, "/organize/api-tokens", {
        "name": "Housing bot", "scope": "some", "campaigns": [str(world["housing"])]})
    assert made.status_code == 200
    with app.app_context():
        token = authenticate(SECRET.search(made.text).group(0))
        assert scope_of(token) == {world["housing"]}


def test_sending_the_form_again_makes_no_second_token(app, world, ana_client):
    """A reload of the page that shows the secret, or Back then Forward, sends the same form."""
    data = {"name": "CRM", "scope": "all", "form_key": form_key(ana_client, "/organize/api-tokens")}
    made = ana_client.post("/organize/api-tokens", data=data)
    assert made.status_code == 200 and SECRET.search(made.text)
    again = ana_client.post("/organize/api-tokens", data=data)
    assert again.status_code == 409
    assert "already been sent, so no second token was made" in again.text
    assert not SECRET.search(again.text)
    # A form sent without its key (not from the page) makes nothing either.
    assert ana_client.post("/organize/api-tokens", data={"name": "CRM", "scope": "all"}).status_code == 409
    with app.app_context():
        assert token_count() == 1
    # The page answered with a fresh form, which works.
    fresh = FORM_KEY.search(again.text).group(1)
    assert fresh != data["form_key"]
    assert ana_client.post("/organize/api-tokens", data={**data, "form_key": fresh}).status_code == 200
    with app.app_context():
        assert token_count() == 2


def test_two_forms_open_in_two_tabs_each_make_their_token(app, world, ana_client):
    first, second = (form_key(ana_client, "/organize/api-tokens") for _tab in range(2))
    for name, key in (("One", first), ("Two", second)):
        made = ana_client.post("/organize/api-tokens", data={"name": name, "scope": "all", "form_key": key})
        assert made.status_code == 200
    with app.app_context():
        assert token_count() == 2


def test_a_refused_form_can_be_corrected_and_sent_again(app, world, ana_client):
    refused = send_form(ana_client, "/organize/api-tokens", {"name": "CRM", "scope": "some"})
    assert refused.status_code == 422
    key = FORM_KEY.search(refused.text).group(1)
    made = ana_client.post("/organize/api-tokens", data={
        "name": "CRM", "scope": "some", "campaigns": [str(world["housing"])], "form_key": key})
    assert made.status_code == 200 and SECRET.search(made.text)


def test_making_a_token_first_asks_for_the_password_again(app, world):
    client = app.test_client()
    login(client, world["ana"])
    response = client.post("/organize/api-tokens", data={"name": "CRM", "scope": "all"})
    assert response.status_code == 302
    assert "/organize/confirm-password" in response.headers["Location"]
    with app.app_context():
        assert token_count() == 0


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "scope": "all"}, "Please give the token a name"),
    ({"name": "   ", "scope": "all"}, "Please give the token a name"),
    ({"name": "x" * 101, "scope": "all"}, "under 100 characters"),
    ({"name": "CRM", "scope": "some"}, "at least one of the campaigns you organize"),
    ({"name": "CRM", "scope": "some", "campaigns": ["rivers"]}, "at least one of the campaigns"),
    ({"name": "CRM", "scope": "some", "campaigns": ["abc"]}, "at least one of the campaigns"),
    ({"name": "CRM", "scope": "some", "campaigns": ["999999"]}, "at least one of the campaigns"),
    ({"name": "CRM", "scope": "everything"}, "at least one of the campaigns"),
])
def test_bad_token_forms_are_refused_and_make_nothing(app, world, ana_client, data, message):
    if data.get("campaigns") == ["rivers"]:
        data = {**data, "campaigns": [str(world["housing"]), str(world["rivers"])]}
    response = send_form(ana_client, "/organize/api-tokens", data)
    assert response.status_code == 422
    assert message in response.text
    assert not SECRET.search(response.text)
    assert 'name="name"' in response.text
    with app.app_context():
        assert token_count() == 0


def _token_of(app, world, owner, **kwargs):
    with app.app_context():
        token, secret = create_token(user(world, owner), "CRM", **kwargs)
        db.session.commit()
        return token.id, secret


def test_an_organizer_revokes_their_own_token(app, world, ana_client):
    token_id, secret = _token_of(app, world, "ana")
    response = ana_client.post(f"/organize/api-tokens/{token_id}/revoke")
    assert response.status_code == 303
    assert ana_client.get(response.headers["Location"]).text.count("Revoked") >= 1
    with app.app_context():
        assert authenticate(secret) is None


def test_another_organizer_cannot_revoke_a_token_or_learn_it_exists(app, world):
    token_id, secret = _token_of(app, world, "ana")
    bo = app.test_client()
    fresh_login(bo, world["bo"])
    assert bo.post(f"/organize/api-tokens/{token_id}/revoke").status_code == 404
    assert bo.post("/organize/api-tokens/999999/revoke").status_code == 404
    assert secret[:10] not in bo.get("/organize/api-tokens").text
    with app.app_context():
        assert authenticate(secret) is not None


def test_an_administrator_sees_every_live_token_and_may_revoke_it(app, world):
    token_id, secret = _token_of(app, world, "ana")
    admin = app.test_client()
    fresh_login(admin, world["admin"])
    page = admin.get("/organize/api-tokens").text
    assert "Everyone" in page and "Ana" in page and secret[:10] in page
    assert admin.post(f"/organize/api-tokens/{token_id}/revoke").status_code == 303
    with app.app_context():
        assert authenticate(secret) is None
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api_token.revoke")).one()
        assert entry.actor_id == world["admin"]


def test_the_forms_need_their_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        ana = make_user(email="ana@example.org")
        db.session.commit()
        ana_id = ana.id
    token_id, secret = _token_of(app, {"ana": ana_id}, "ana")
    client = app.test_client()
    fresh_login(client, ana_id)
    assert client.post("/organize/api-tokens", data={"name": "CRM", "scope": "all"}).status_code == 400
    assert client.post(f"/organize/api-tokens/{token_id}/revoke").status_code == 400
    with app.app_context():
        assert token_count() == 1
        assert authenticate(secret) is not None
    page = client.get("/organize/api-tokens").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    key = FORM_KEY.search(page).group(1)
    made = client.post("/organize/api-tokens",
                       data={"name": "CRM", "scope": "all", "csrf_token": csrf, "form_key": key})
    assert made.status_code == 200 and SECRET.search(made.text)
    revoked = client.post(f"/organize/api-tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
