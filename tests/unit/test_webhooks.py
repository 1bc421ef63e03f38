"""Webhooks: each new confirmed signature and attendance is POSTed, signed, to the campaign's
endpoints (a real HTTP server on loopback), retried with backoff, given up, discarded
when its supporter is erased, and refused for private addresses."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaign.accounts.sudo import SESSION_KEY
from campaign.api import webhooks
from campaign.api.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from campaign.db import utcnow
from campaign.events.rsvps import RsvpDetails, cancel_rsvp, link_token, rsvp_to_event
from campaign.extensions import db
from campaign.jobs import run_job
from campaign.privacy.erasure import erase_supporter
from campaign.signatures.models import Signature
from campaign.signatures.paper import import_paper_signatures
from campaign.signatures.services import sign_petition
from tests.conftest import Outbox
from tests.factories import make_petition, signer
from tests.factories_accounts import login, make_user
from tests.factories_events import make_event, make_rsvp
from tests.support.forms import form_key, send_form
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def hook_app(make_app):
    return make_app(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True, WEBHOOK_RETRY_SECONDS=30)


def _endpoint(campaign, url, owner=None):
    endpoint, secret = webhooks.register_endpoint(campaign, url, actor=owner)
    db.session.commit()
    return endpoint, secret


def _confirmed_signature(petition, **details):
    sign_petition(petition, signer(**details), vouched=True)
    db.session.commit()
    return db.session.scalars(select(Signature).order_by(Signature.id.desc())).first()


def _deliveries():
    db.session.expire_all()
    return db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def _retry_due_ones():
    """Bring every pending delivery's next attempt to now and run the periodic sweep."""
    db.session.execute(update(WebhookDelivery)
                       .where(WebhookDelivery.status == WebhookDeliveryStatus.PENDING)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    run_job("placard.webhooks.sweep")


def _seconds_until(moment):
    return (moment - utcnow()).total_seconds()


# --- Signing ------------------------------------------------------------------------------------

def test_the_signature_is_an_hmac_of_the_timestamp_and_the_body_that_the_receiver_can_check():
    body = '[{"osdi:signature":{"comments":"été"}}]'
    now = time.time()
    signature = webhooks.sign("s3cret", str(int(now)), body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert webhooks.verify_signature("s3cret", str(int(now)), body.encode(), signature, now=now)
    assert not webhooks.verify_signature("other", str(int(now)), body, signature, now=now)
    assert not webhooks.verify_signature("s3cret", str(int(now)), body + " ", signature, now=now)
    # A notice replayed long after it was sent is refused.
    assert not webhooks.verify_signature("s3cret", str(int(now)), body, signature, now=now + 3600)


# --- Delivering ---------------------------------------------------------------------------------

def test_a_confirmed_signature_is_posted_once_signed_with_the_person_inline(hook_app):
    with hook_app.test_request_context(), WebhookReceiver() as receiver:
        petition = make_petition()
        owner = make_user()
        endpoint, secret = _endpoint(petition.campaign, receiver.url, owner)
        signature = _confirmed_signature(petition, email="grace@example.org", first_name="Grace")

        [request] = receiver.requests
        assert request.path == "/hooks/placard"
        headers = request.headers
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"] == "Placard-Webhooks/1"
        [delivery] = _deliveries()
        assert headers["X-Placard-Delivery"] == str(delivery.id)
        assert abs(int(headers["X-Placard-Timestamp"]) - time.time()) < 60
        assert webhooks.verify_signature(secret, headers["X-Placard-Timestamp"], request.body,
                                         headers["X-Placard-Signature"])
        [item] = request.json()
        resource = item["osdi:signature"]
        assert resource["identifiers"] == [f"placard:{signature.uuid}"]
        assert resource["person"]["given_name"] == "Grace"
        assert resource["person"]["email_addresses"][0]["address"] == "grace@example.org"
        assert resource["_links"]["self"]["href"].startswith("http://localhost/api/v2/")

        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            WebhookDeliveryStatus.SUCCEEDED, 1, 200)
        assert delivery.delivered_at is not None and delivery.kind == "signature"
        db.session.refresh(endpoint)
        assert endpoint.last_status == "HTTP 200" and endpoint.consecutive_failures == 0

        # Running the job again (a redelivered task) sends nothing more.
        run_job("placard.webhooks.deliver", delivery.id)
        run_job("placard.webhooks.sweep")
        assert len(receiver.requests) == 1


def test_only_the_campaigns_active_endpoints_hear_and_a_pending_signature_sends_nothing(hook_app):
    with hook_app.test_request_context(), WebhookReceiver() as receiver:
        petition = make_petition()
        other = make_petition()
        _endpoint(other.campaign, receiver.url)
        off, _secret = _endpoint(petition.campaign, receiver.url + "?off")
        off.is_active = False
        db.session.commit()
        sign_petition(petition, signer())  # pending: waits for its email link
        db.session.commit()
        _confirmed_signature(petition)
        assert receiver.requests == [] and _deliveries() == []


def test_imported_paper_signatures_are_sent_by_the_sweep_each_once(hook_app):
    with hook_app.test_request_context(), WebhookReceiver() as receiver:
        petition = make_petition()
        _endpoint(petition.campaign, receiver.url)
        off, _secret = _endpoint(petition.campaign, receiver.url + "?off")
        off.is_active = False
        db.session.commit()
        sheet = ("first_name,last_name,email,postal_code,country,comment,mailing_consent\n"
                 "Zoé,Durand,zoe@example.org,M5V 2T6,CA,,\n"
                 "Max,Muster,,10115,DE,,\n"
                 "Ana,Lima,ana@example.org,01310,BR,Bravo,yes\n").encode()
        report = import_paper_signatures(petition, sheet, label="Market", actor=None)
        db.session.commit()
        assert report.imported == 3

        # No job each (thousands of rows would be thousands of jobs): the sweep sends them.
        assert receiver.requests == []
        deliveries = _deliveries()
        imported = db.session.scalars(select(Signature).where(Signature.source.like("paper:%"))
                                      .order_by(Signature.id)).all()
        assert sorted(d.record_id for d in deliveries) == [s.id for s in imported]
        run_job("placard.webhooks.sweep")
        run_job("placard.webhooks.sweep")
        sent = [request.json()[0]["osdi:signature"] for request in receiver.requests]
        assert sorted(item["identifiers"][0] for item in sent) == sorted(
            f"placard:{s.uuid}" for s in imported)
        assert sorted(item["person"]["given_name"] for item in sent) == ["Ana", "Max", "Zoé"]
        assert {d.status for d in _deliveries()} == {WebhookDeliveryStatus.SUCCEEDED}


def test_failures_are_retried_later_with_a_growing_delay_until_one_succeeds(hook_app):
    with hook_app.test_request_context(), WebhookReceiver(statuses=[500, 502, 200]) as receiver:
        petition = make_petition()
        endpoint, secret = _endpoint(petition.campaign, receiver.url)
        _confirmed_signature(petition)

        [delivery] = _deliveries()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            WebhookDeliveryStatus.PENDING, 1, 500)
        assert 30 * 0.75 - 2 <= _seconds_until(delivery.next_attempt_at) <= 30
        # Not due yet: the sweep leaves it alone.
        run_job("placard.webhooks.sweep")
        assert len(receiver.requests) == 1

        _retry_due_ones()
        [delivery] = _deliveries()
        assert (delivery.attempts, delivery.last_status_code) == (2, 502)
        assert 60 * 0.75 - 2 <= _seconds_until(delivery.next_attempt_at) <= 60
        db.session.refresh(endpoint)
        assert endpoint.consecutive_failures == 2 and endpoint.last_status == "HTTP 502"

        _retry_due_ones()
        [delivery] = _deliveries()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
            WebhookDeliveryStatus.SUCCEEDED, 3, None)
        db.session.refresh(endpoint)
        assert endpoint.consecutive_failures == 0
        assert len(receiver.requests) == 3
        assert len({request.headers["X-Placard-Delivery"] for request in receiver.requests}) == 1
        assert all(webhooks.verify_signature(secret, r.headers["X-Placard-Timestamp"], r.body,
                                             r.headers["X-Placard-Signature"])
                   for r in receiver.requests)


def test_the_delay_doubles_up_to_an_hour_with_jitter(hook_app):
    with hook_app.app_context():
        for attempts, full in ((1, 30), (2, 60), (4, 240), (20, 3600)):
            delays = [webhooks.retry_delay(attempts) for _ in range(50)]
            assert all(full * 0.75 <= delay <= full for delay in delays)
            assert len(set(delays)) > 1


def test_a_notice_is_given_up_after_the_last_attempt(make_app):
    app = make_app(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True, WEBHOOK_MAX_ATTEMPTS=2)
    with app.test_request_context(), WebhookReceiver(statuses=[500]) as receiver:
        petition = make_petition()
        _endpoint(petition.campaign, receiver.url)
        _confirmed_signature(petition)
        _retry_due_ones()
        _retry_due_ones()
        [delivery] = _deliveries()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
            WebhookDeliveryStatus.FAILED, 2, None)
        assert len(receiver.requests) == 2


def test_a_redirect_is_a_failure_and_is_not_followed(hook_app):
    with hook_app.test_request_context(), WebhookReceiver(
            statuses=[302], headers_for={302: {"Location": "http://127.0.0.1:1/elsewhere"}}) as receiver:
        petition = make_petition()
        _endpoint(petition.campaign, receiver.url)
        _confirmed_signature(petition)
        [delivery] = _deliveries()
        assert delivery.status == WebhookDeliveryStatus.PENDING
        assert delivery.last_status_code == 302 and "not followed" in delivery.last_error
        assert len(receiver.requests) == 1


def test_an_endpoint_failing_too_often_is_turned_off_and_its_owner_told(make_app):
    app = make_app(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True, WEBHOOK_DISABLE_AFTER_FAILURES=3)
    outbox = Outbox(app)
    with app.test_request_context(), WebhookReceiver(statuses=[503]) as receiver:
        petition = make_petition()
        owner = make_user(email="owner@example.org")
        endpoint, _secret = _endpoint(petition.campaign, receiver.url, owner)
        _confirmed_signature(petition)
        _confirmed_signature(petition)
        assert outbox.to("owner@example.org") == []
        _retry_due_ones()  # the third and fourth failures in a row: off at the third

        db.session.refresh(endpoint)
        assert not endpoint.is_active and endpoint.disabled_at is not None
        assert endpoint.consecutive_failures >= 3
        assert [d.status for d in _deliveries()] == [WebhookDeliveryStatus.FAILED] * 2
        assert len(receiver.requests) == 3
        [email] = outbox.to("owner@example.org")
        assert petition.campaign.title in email["Subject"]
        assert receiver.url in Outbox.text(email)
        assert f"/organize/webhooks/{endpoint.id}" in Outbox.text(email)

        # Off: a new signature queues nothing for it.
        _confirmed_signature(petition)
        assert len(_deliveries()) == 2

        # Turned back on, with its count of failures reset.
        webhooks.enable_endpoint(endpoint, actor=owner)
        db.session.commit()
        assert endpoint.is_active and endpoint.consecutive_failures == 0
        assert endpoint.disabled_at is None
        assert len(outbox.to("owner@example.org")) == 1


def test_the_notice_of_an_erased_supporter_is_discarded_not_sent(hook_app):
    with hook_app.test_request_context(), WebhookReceiver(statuses=[500, 200]) as receiver:
        petition = make_petition()
        _endpoint(petition.campaign, receiver.url)
        signature = _confirmed_signature(petition, email="forget-me@example.org")
        assert len(receiver.requests) == 1
        erase_supporter(signature.supporter)
        db.session.commit()
        _retry_due_ones()
        [delivery] = _deliveries()
        assert delivery.status == WebhookDeliveryStatus.DISCARDED
        assert len(receiver.requests) == 1


def test_an_rsvp_that_takes_a_place_and_one_promoted_from_the_waiting_list_are_sent(hook_app):
    with hook_app.test_request_context(), WebhookReceiver() as receiver:
        event = make_event(capacity=1)
        _endpoint(event.campaign, receiver.url)
        first = make_rsvp(event, "first@example.org")
        db.session.commit()
        # Full: the second waits; when the first cancels, the second is promoted.
        rsvp_to_event(event, RsvpDetails(name="Second", email="second@example.org"), vouched=True)
        db.session.commit()
        assert receiver.requests == []
        cancel_rsvp(link_token(first))
        db.session.commit()
        [request] = receiver.requests
        attendance = request.json()[0]["osdi:attendance"]
        assert attendance["status"] == "accepted"
        assert attendance["person"]["email_addresses"][0]["address"] == "second@example.org"

        other = make_event(campaign=event.campaign)
        db.session.commit()
        rsvp_to_event(other, RsvpDetails(name="Third", email="third@example.org"), vouched=True)
        db.session.commit()
        assert [d.kind for d in _deliveries()] == ["attendance", "attendance"]
        assert len(receiver.requests) == 2


# --- Addresses ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, reason", [
    ("http://93.184.215.14/hook", "scheme"),
    ("ftp://93.184.215.14/hook", "scheme"),
    ("https://user:pass@93.184.215.14/hook", "credentials"),
    ("https:///hook", "host"),
    ("https://" + "a" * 500 + ".org/", "length"),
    ("https://127.0.0.1/hook", "private"),
    ("https://localhost:8443/hook", "private"),
    ("https://10.0.0.7/hook", "private"),
    ("https://192.168.1.1/hook", "private"),
    ("https://172.16.0.1/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "private"),
    ("https://100.64.0.1/hook", "private"),
    ("https://0.0.0.0/hook", "private"),
    ("https://[::1]/hook", "private"),
    ("https://[::ffff:127.0.0.1]/hook", "private"),
    ("https://[fd00::1]/hook", "private"),
    ("https://240.0.0.1/hook", "private"),
])
def test_addresses_that_could_reach_the_inside_are_refused(ctx, url, reason):
    with pytest.raises(webhooks.WebhookUrlRefused) as refused:
        webhooks.check_url(url)
    assert refused.value.reason == reason


def test_a_public_https_address_is_accepted(ctx):
    assert webhooks.check_url("  https://93.184.215.14/hooks?x=1  ") == "https://93.184.215.14/hooks?x=1"


def test_the_address_is_checked_again_when_sending(hook_app):
    with hook_app.test_request_context(), WebhookReceiver() as receiver:
        petition = make_petition()
        _endpoint(petition.campaign, receiver.url)
        hook_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = False
        _confirmed_signature(petition)
        [delivery] = _deliveries()
        assert delivery.status == WebhookDeliveryStatus.PENDING
        assert delivery.last_status_code is None and delivery.last_error.startswith("refused")
        assert receiver.requests == []


# --- Pages --------------------------------------------------------------------------------------

def _organizer_client(app, campaign):
    user = make_user()
    campaign.organizers.append(user)
    db.session.commit()
    client = app.test_client()
    login(client, user)
    with client.session_transaction() as session:
        session[SESSION_KEY] = int(time.time())
    return client, user


def test_an_organizer_adds_a_webhook_sees_its_secret_once_and_tests_it(hook_app):
    with hook_app.test_request_context(), WebhookReceiver() as receiver:
        petition = make_petition()
        client, _user = _organizer_client(hook_app, petition.campaign)
        campaign_id = petition.campaign.id
        page = client.get(f"/organize/campaigns/{campaign_id}/webhooks")
        assert page.status_code == 200 and "X-Placard-Signature" in page.text

        added = send_form(client, f"/organize/campaigns/{campaign_id}/webhooks", {"url": receiver.url})
        assert added.status_code == 200
        assert added.headers["Cache-Control"] == "no-store"
        endpoint = db.session.scalars(select(WebhookEndpoint)).one()
        assert endpoint.secret in added.text
        assert endpoint.secret not in client.get(f"/organize/campaigns/{campaign_id}/webhooks").text

        tested = client.post(f"/organize/webhooks/{endpoint.id}/test")
        assert tested.status_code == 303
        [request] = receiver.requests
        assert "placard:test" in request.json()[0]
        assert webhooks.verify_signature(endpoint.secret, request.headers["X-Placard-Timestamp"],
                                         request.body, request.headers["X-Placard-Signature"])
        shown = client.get(f"/organize/webhooks/{endpoint.id}")
        assert shown.status_code == 200 and "HTTP 200" in shown.text

        old_secret = endpoint.secret
        rotated = client.post(f"/organize/webhooks/{endpoint.id}/rotate-secret")
        db.session.refresh(endpoint)
        assert endpoint.secret != old_secret and endpoint.secret in rotated.text
        assert rotated.headers["Cache-Control"] == "no-store"

        deleted = client.post(f"/organize/webhooks/{endpoint.id}/delete", data={"confirm": "yes"})
        assert deleted.status_code == 303
        db.session.expire_all()
        assert db.session.scalars(select(WebhookEndpoint)).all() == []
        assert db.session.scalars(select(WebhookDelivery)).all() == []


def test_sending_the_add_form_again_adds_no_second_webhook(hook_app):
    with hook_app.test_request_context():
        petition = make_petition()
        client, _user = _organizer_client(hook_app, petition.campaign)
        path = f"/organize/campaigns/{petition.campaign.id}/webhooks"
        data = {"url": "http://127.0.0.1:9/hook", "form_key": form_key(client, path)}
        assert client.post(path, data=data).status_code == 200
        again = client.post(path, data=data)
        assert again.status_code == 409 and "was not added a second time" in again.text
        assert len(db.session.scalars(select(WebhookEndpoint)).all()) == 1


def test_a_private_address_is_refused_on_the_page(app):
    with app.test_request_context():
        petition = make_petition()
        client, _user = _organizer_client(app, petition.campaign)
        refused = send_form(client, f"/organize/campaigns/{petition.campaign.id}/webhooks",
                            {"url": "https://127.0.0.1/hook"})
        assert refused.status_code == 422
        assert "private or reserved network" in refused.text
        assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_another_organizer_can_neither_see_nor_change_a_webhook(hook_app):
    with hook_app.test_request_context(), WebhookReceiver() as receiver:
        petition_a = make_petition()
        petition_b = make_petition()
        _client_a, owner = _organizer_client(hook_app, petition_a.campaign)
        endpoint, secret = _endpoint(petition_a.campaign, receiver.url, owner)
        client_b, _user_b = _organizer_client(hook_app, petition_b.campaign)

        assert client_b.get(f"/organize/campaigns/{petition_a.campaign.id}/webhooks").status_code == 404
        assert client_b.post(f"/organize/campaigns/{petition_a.campaign.id}/webhooks",
                             data={"url": receiver.url}).status_code == 404
        assert client_b.get(f"/organize/webhooks/{endpoint.id}").status_code == 404
        for action in ("enable", "test", "rotate-secret", "delete"):
            answer = client_b.post(f"/organize/webhooks/{endpoint.id}/{action}", data={"confirm": "yes"})
            assert answer.status_code == 404, action
        assert secret not in client_b.get(f"/organize/campaigns/{petition_b.campaign.id}/webhooks").text
        db.session.expire_all()
        assert db.session.get(WebhookEndpoint, endpoint.id).secret == secret
        assert receiver.requests == [] and _deliveries() == []


# --- Claiming -----------------------------------------------------------------------------------

def test_a_delivery_in_flight_is_not_claimed_twice_and_a_spent_one_is_given_up(hook_app):
    with hook_app.test_request_context(), WebhookReceiver(statuses=[500]) as receiver:
        petition = make_petition()
        _endpoint(petition.campaign, receiver.url)
        _confirmed_signature(petition)
        [delivery] = _deliveries()
        now = delivery.next_attempt_at + timedelta(seconds=1)
        assert webhooks._claim(delivery.id, now) is True
        # Another worker, or the sweep, finds it held until the attempt has had its time.
        assert webhooks._claim(delivery.id, now) is False
        assert webhooks.deliver_webhook(delivery.id, now=now) == webhooks.DeliveryOutcome.NOT_MINE

        # Claims that never recorded an answer (killed workers) use up the attempts too.
        db.session.execute(update(WebhookDelivery).values(attempts=8, next_attempt_at=utcnow()))
        db.session.commit()
        assert webhooks.deliver_webhook(delivery.id) == webhooks.DeliveryOutcome.FAILED
        db.session.commit()
        assert _deliveries()[0].status == WebhookDeliveryStatus.FAILED
        assert len(receiver.requests) == 1


def test_celery_does_not_retry_webhook_jobs_itself():
    from celery import Celery

    from worker.tasks import register_tasks

    celery = Celery("webhook-test", set_as_current=False)
    register_tasks(celery)
    assert not getattr(celery.tasks["placard.webhooks.deliver"], "autoretry_for", ())
    assert not getattr(celery.tasks["placard.webhooks.sweep"], "autoretry_for", ())
    assert celery.tasks["placard.mail.send"].autoretry_for
