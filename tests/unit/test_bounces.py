"""Addresses that bounce or complain are suppressed, from the mail provider's webhook or
the command line; administrators read the consent record and may lift a suppression."""

import json

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import AuditEntry, UserRole
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus, Suppression, SuppressionReason
from campaign.mailing.notices import MAX_NOTICES
from campaign.mailing.unsubscribe import (
    find_suppression,
    is_suppressed,
    lift_suppression,
    record_bounce,
    record_complaint,
    suppressed_email_keys,
)
from campaign.mailing.views import WEBHOOK_MAX_BYTES
from campaign.signatures.models import Supporter
from tests.factories import make_campaign
from tests.factories_accounts import login, make_user
from tests.unit.test_unsubscribe import subscribe

TOKEN = "bounce-webhook-token-long-and-random-0123456789"


@pytest.fixture
def app(make_app):
    return make_app(BOUNCE_WEBHOOK_TOKEN=TOKEN, WTF_CSRF_ENABLED=True)


def suppression_rows(app):
    with app.app_context():
        return {row.email_key: (row.reason, row.soft_bounces)
                for row in db.session.scalars(select(Suppression))}


def subscription_statuses(app, email):
    with app.app_context():
        return sorted(db.session.scalars(
            select(Subscription.status).join(Supporter, Supporter.id == Subscription.supporter_id)
            .where(Supporter.email_key == email)))


# --- The rules -------------------------------------------------------------------------

def test_a_hard_bounce_suppresses_at_once_whatever_the_case_of_the_address(app):
    with app.app_context():
        subscribe("Ada.Lovelace@Example.org")
        suppression = record_bounce("ADA.lovelace@example.ORG", hard=True, detail="550 5.1.1")
        assert suppression.reason == SuppressionReason.HARD_BOUNCE
        assert suppression.email_key == "ada.lovelace@example.org"
        assert suppression.detail == "550 5.1.1" and suppression.suppressed_at is not None
        assert is_suppressed("Ada.Lovelace@Example.org")
        assert not is_suppressed("grace@example.org")
        db.session.commit()
    # A bounce is not a withdrawal of consent: the subscription stays.
    assert subscription_statuses(app, "ada.lovelace@example.org") == [SubscriptionStatus.SUBSCRIBED]


def test_soft_bounces_are_counted_and_suppress_at_the_third(app):
    with app.app_context():
        for count in (1, 2):
            suppression = record_bounce("ada@example.org", hard=False, detail=f"452 full {count}")
            assert suppression.soft_bounces == count and suppression.reason is None
            assert not is_suppressed("ada@example.org")
        suppression = record_bounce("ada@example.org", hard=False, detail="452 full 3")
        assert suppression.reason == SuppressionReason.SOFT_BOUNCES
        assert suppression.detail == "452 full 3"
        assert is_suppressed("ada@example.org")


def test_a_complaint_suppresses_and_unsubscribes_from_every_campaign(app):
    with app.app_context():
        subscribe("ada@example.org")
        subscribe("ada@example.org")
        subscribe("grace@example.org")
        suppression = record_complaint("ADA@example.org", "abuse report")
        assert suppression.reason == SuppressionReason.COMPLAINT
        db.session.commit()
    assert subscription_statuses(app, "ada@example.org") == [SubscriptionStatus.UNSUBSCRIBED] * 2
    assert subscription_statuses(app, "grace@example.org") == [SubscriptionStatus.SUBSCRIBED]


def test_a_stronger_reason_replaces_a_weaker_one_never_the_reverse(app):
    with app.app_context():
        record_bounce("ada@example.org", hard=True, detail="550")
        first = find_suppression("ada@example.org").suppressed_at
        record_complaint("ada@example.org", "spam")
        record_bounce("ada@example.org", hard=True, detail="550 again")
        suppression = find_suppression("ada@example.org")
        assert suppression.reason == SuppressionReason.COMPLAINT
        assert suppression.detail == "spam" and suppression.suppressed_at == first


def test_the_audience_query_helper_leaves_out_suppressed_addresses_only(app):
    with app.app_context():
        record_bounce("hard@example.org", hard=True)
        record_bounce("soft@example.org", hard=False)
        keys = set(db.session.scalars(suppressed_email_keys()))
        assert keys == {"hard@example.org"}


def test_lifting_a_suppression_is_audited_and_leaves_consent_alone(app):
    with app.app_context():
        subscribe("ada@example.org")
        record_complaint("ada@example.org")
        admin = make_user(role=UserRole.ADMIN)
        assert lift_suppression("Ada@example.org", actor=admin, reason="Asked us by phone")
        assert not is_suppressed("ada@example.org")
        assert not lift_suppression("ada@example.org", actor=admin)
        assert not lift_suppression("nobody@example.org", actor=admin)
        entries = db.session.scalars(select(AuditEntry)).all()
        assert [(e.action, e.actor_id, e.reason) for e in entries] == [
            ("suppression.lift", admin.id, "Asked us by phone")]
        assert "ada" not in entries[0].reason
        db.session.commit()
    assert subscription_statuses(app, "ada@example.org") == [SubscriptionStatus.UNSUBSCRIBED]


# --- The webhook -------------------------------------------------------------------------

def post_notices(client, payload, token=TOKEN, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    kwargs.setdefault("content_type", "application/json")
    return client.post("/webhooks/bounces", data=body, headers=headers, **kwargs)


def test_the_webhook_applies_a_batch_in_one_go(app):
    with app.app_context():
        subscribe("grace@example.org")
        db.session.commit()
    client = app.test_client(use_cookies=False)
    response = post_notices(client, {"notices": [
        {"type": "bounce", "email": "Ada@example.org", "bounce": "hard", "detail": "550 5.1.1"},
        {"type": "bounce", "email": "soft@example.org", "bounce": "soft"},
        {"type": "complaint", "email": "grace@example.org"},
    ]})
    assert response.status_code == 200, response.text
    assert response.json == {"applied": 3}
    assert suppression_rows(app) == {
        "ada@example.org": (SuppressionReason.HARD_BOUNCE, 0),
        "soft@example.org": (None, 1),
        "grace@example.org": (SuppressionReason.COMPLAINT, 0),
    }
    assert subscription_statuses(app, "grace@example.org") == [SubscriptionStatus.UNSUBSCRIBED]


def test_soft_bounces_from_the_webhook_suppress_at_the_third(app):
    client = app.test_client()
    notice = {"type": "bounce", "email": "ada@example.org", "bounce": "soft"}
    assert post_notices(client, {"notices": [notice, notice]}).json == {"applied": 2}
    assert suppression_rows(app) == {"ada@example.org": (None, 2)}
    post_notices(client, {"notices": [notice]})
    assert suppression_rows(app) == {"ada@example.org": (SuppressionReason.SOFT_BOUNCES, 3)}


def test_an_empty_batch_applies_nothing(app):
    assert post_notices(app.test_client(), {"notices": []}).json == {"applied": 0}


VALID = {"type": "bounce", "email": "ok@example.org", "bounce": "hard"}


@pytest.mark.parametrize(("payload", "says"), [
    ("not json", "not valid JSON"),
    (b"\xff\xfe\x00", "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
    ("", "not valid JSON"),
    ([VALID], "expected a JSON object"),
    ({}, 'missing "notices"'),
    ({"notices": [VALID], "extra": 1}, "unknown field 'extra'"),
    ({"notices": {"0": VALID}}, '"notices" must be a list'),
    ({"notices": [VALID, "bounce"]}, "notices[1] must be an object"),
    ({"notices": [VALID, {**VALID, "type": "delivery"}]}, 'notices[1].type must be "bounce"'),
    ({"notices": [VALID, {**VALID, "type": ["bounce"]}]}, 'notices[1].type must be "bounce"'),
    ({"notices": [VALID, {**VALID, "bounce": "medium"}]}, 'notices[1].bounce must be "hard"'),
    ({"notices": [VALID, {"type": "bounce", "email": "a@example.org"}]}, "notices[1].bounce"),
    ({"notices": [VALID, {"type": "complaint", "email": "a@example.org", "bounce": "hard"}]},
     "notices[1] has an unknown field 'bounce'"),
    ({"notices": [VALID, {**VALID, "email": "nobody"}]}, "notices[1].email"),
    ({"notices": [VALID, {**VALID, "email": 42}]}, "notices[1].email"),
    ({"notices": [VALID, {**VALID, "email": "a b@example.org"}]}, "notices[1].email"),
    ({"notices": [VALID, {**VALID, "email": "a" * 320 + "@example.org"}]}, "notices[1].email"),
    ({"notices": [VALID, {**VALID, "detail": 550}]}, "notices[1].detail"),
    ({"notices": [VALID, {**VALID, "detail": "x" * 5000}]}, "notices[1].detail"),
    ({"notices": [VALID] * (MAX_NOTICES + 1)}, f"at most {MAX_NOTICES} notices"),
])
def test_a_wrong_batch_is_refused_whole_with_what_is_wrong(app, payload, says):
    response = post_notices(app.test_client(), payload)
    assert response.status_code == 400
    assert says in response.json["error"]
    assert suppression_rows(app) == {}


def test_the_webhook_needs_its_token(app):
    client = app.test_client()
    payload = {"notices": [VALID]}
    for token in (None, "", "wrong", TOKEN[:-1], TOKEN + "x", "é" * 10):
        response = post_notices(client, payload, token=token)
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = client.post("/webhooks/bounces", data=json.dumps(payload),
                           content_type="application/json",
                           headers={"Authorization": f"Basic {TOKEN}"})
    assert response.status_code == 401
    assert suppression_rows(app) == {}


def test_without_a_configured_token_the_webhook_does_not_exist(make_app):
    app = make_app()
    response = post_notices(app.test_client(), {"notices": [VALID]}, token="")
    assert response.status_code == 404
    assert suppression_rows(app) == {}


def test_the_webhook_takes_json_only_and_bounds_the_body(app):
    client = app.test_client()
    assert post_notices(client, {"notices": [VALID]},
                        content_type="text/plain").status_code == 415
    # Above the webhook's own bound, below the site-wide MAX_CONTENT_LENGTH.
    big = json.dumps({"notices": [VALID], "padding": "x" * (WEBHOOK_MAX_BYTES + 1)})
    response = post_notices(client, big)
    assert response.status_code == 413 and "smaller batches" in response.json["error"]
    assert suppression_rows(app) == {}


# --- The command line --------------------------------------------------------------------

def test_bounce_and_complaint_commands_say_what_they_did(app):
    runner = app.test_cli_runner()
    with app.app_context():
        subscribe("grace@example.org")
        db.session.commit()
    result = runner.invoke(args=["mailing", "bounce", "Ada@example.org", "--detail", "550"])
    assert result.exit_code == 0 and "ada@example.org: suppressed (hard bounce)" in result.output
    result = runner.invoke(args=["mailing", "bounce", "soft@example.org", "--soft"])
    assert result.exit_code == 0
    assert "soft@example.org: 1 soft bounce(s) so far, suppressed at 3" in result.output
    result = runner.invoke(args=["mailing", "complaint", "grace@example.org"])
    assert result.exit_code == 0
    assert "suppressed (complaint) and unsubscribed from every campaign" in result.output
    assert suppression_rows(app) == {
        "ada@example.org": (SuppressionReason.HARD_BOUNCE, 0),
        "soft@example.org": (None, 1),
        "grace@example.org": (SuppressionReason.COMPLAINT, 0),
    }
    assert subscription_statuses(app, "grace@example.org") == [SubscriptionStatus.UNSUBSCRIBED]
    result = runner.invoke(args=["mailing", "bounce", "not-an-address"])
    assert result.exit_code == 2 and "email must be an email address" in result.output


def test_the_notices_command_reads_a_file_or_stdin(app, tmp_path):
    runner = app.test_cli_runner()
    batch = tmp_path / "notices.json"
    batch.write_text(json.dumps({"notices": [VALID, {"type": "complaint", "email": "c@example.org"}]}))
    result = runner.invoke(args=["mailing", "notices", str(batch)])
    assert result.exit_code == 0, result.output
    assert "ok@example.org: suppressed (hard bounce)" in result.output
    assert "2 notices applied" in result.output
    result = runner.invoke(args=["mailing", "notices", "-"], input=json.dumps(
        {"notices": [{"type": "bounce", "email": "s@example.org", "bounce": "soft"}]}))
    assert result.exit_code == 0 and "1 notices applied" in result.output
    assert set(suppression_rows(app)) == {"ok@example.org", "c@example.org", "s@example.org"}


def test_the_notices_command_applies_nothing_from_a_wrong_batch(app):
    result = app.test_cli_runner().invoke(
        args=["mailing", "notices", "-"],
        input=json.dumps({"notices": [VALID, {**VALID, "bounce": "maybe"}]}))
    assert result.exit_code == 1
    assert "nothing applied: notices[1].bounce" in result.output
    assert suppression_rows(app) == {}


# --- The consent record, for administrators -----------------------------------------------

@pytest.fixture
def people(app):
    with app.app_context():
        admin = make_user(role=UserRole.ADMIN)
        organizer = make_user()
        db.session.commit()
        return {"admin": admin.id, "organizer": organizer.id}


def csrf_token(client, path):
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_the_consent_record_is_for_administrators_only(app, people):
    client = app.test_client()
    response = client.get("/admin/subscribers?q=ada")
    assert response.status_code == 302 and "/organize/login" in response.headers["Location"]
    login(client, people["organizer"])
    assert client.get("/admin/subscribers?q=ada").status_code == 404
    assert client.post("/admin/subscribers/lift-suppression",
                       data={"email": "ada@example.org"}).status_code in (400, 404)


def test_the_admin_home_links_to_the_consent_record(app, people):
    client = app.test_client()
    login(client, people["admin"])
    assert 'href="/admin/subscribers"' in client.get("/admin/").text


def test_an_administrator_reads_the_exact_wording_escaped(app, people):
    wording = 'Keep me informed <script>alert("x")</script> & "more"\nSecond line.'
    with app.app_context():
        subscribe("ada@example.org", campaign=make_campaign(title="Clean air now"),
                  wording=wording, source="petition:clean-air")
        unsubscribed = subscribe("ada@example.org", campaign=make_campaign(title="Quiet streets"))
        unsubscribed.status = SubscriptionStatus.UNSUBSCRIBED
        subscribe("adam@example.org")
        subscribe("grace@example.org")
        db.session.commit()
    client = app.test_client()
    login(client, people["admin"])
    page = client.get("/admin/subscribers?q=ada@example.org")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>alert" not in page.text
    assert ('Keep me informed &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; '
            '&#34;more&#34;\nSecond line.') in page.text
    for text in ("Clean air now", "Quiet streets", "petition:clean-air", "Subscribed",
                 "Unsubscribed", "Not suppressed."):
        assert text in page.text
    assert "adam@example.org" not in page.text and "grace@example.org" not in page.text
    prefix = client.get("/admin/subscribers?q=ADA")
    assert "ada@example.org" in prefix.text and "adam@example.org" in prefix.text
    assert "grace@example.org" not in prefix.text
    assert "2 supporters match." in prefix.text
    empty = client.get("/admin/subscribers")
    assert empty.status_code == 200 and "supporters match" not in empty.text
    wildcard = client.get("/admin/subscribers?q=%25")
    assert "0 supporters match." in wildcard.text
    far = client.get("/admin/subscribers?q=ada&page=99999999999999999999999")
    assert far.status_code == 200


def test_an_administrator_sees_and_lifts_a_suppression(app, people):
    with app.app_context():
        subscribe("ada@example.org")
        record_bounce("ada@example.org", hard=True, detail="550 <b>no such user</b>")
        record_bounce("nobody@example.org", hard=True)
        db.session.commit()
    client = app.test_client()
    login(client, people["admin"])
    page = client.get("/admin/subscribers?q=ada@example.org")
    assert "Suppressed: no mailing goes to this address." in page.text
    assert "Mail to it bounced for good" in page.text
    assert "550 &lt;b&gt;no such user&lt;/b&gt;" in page.text
    token = csrf_token(client, "/admin/subscribers?q=ada@example.org")
    response = client.post("/admin/subscribers/lift-suppression",
                           data={"csrf_token": token, "email": "ada@example.org",
                                 "reason": "The mailbox works again"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/subscribers?q=ada@example.org")
    after = client.get("/admin/subscribers?q=ada@example.org")
    assert "Mailings can reach ada@example.org again." in after.text
    assert "Not suppressed." in after.text
    with app.app_context():
        assert not is_suppressed("ada@example.org")
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "suppression.lift", AuditEntry.actor_id == people["admin"])) == 1
    assert "Suppression lifted" in client.get("/admin/audit").text
    # An address no supporter has is found by its exact address.
    orphan = client.get("/admin/subscribers?q=nobody@example.org")
    assert "No supporter has this address, but it has a suppression record." in orphan.text
    # Without the form's token nothing is lifted.
    client.post("/admin/subscribers/lift-suppression", data={"email": "nobody@example.org"})
    with app.app_context():
        assert is_suppressed("nobody@example.org")
