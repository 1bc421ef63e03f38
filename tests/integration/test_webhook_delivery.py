"""An organizer's webhook on the production stack: Ada signs and confirms over HTTP, and
a Celery worker POSTs her signature to a real receiver on loopback that fails twice,
then accepts. The periodic sweep (celery beat) brings the retries; one delivery is
recorded, succeeded after three attempts, each signed so the receiver could check it."""

import time

from sqlalchemy import select

from campaign.api import webhooks
from campaign.api.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from campaign.extensions import db
from campaign.petitions.models import Petition
from campaign.signatures.models import Signature
from tests.integration.helpers import Visitor, confirm_link, create_petition
from tests.support.webhook_receiver import WebhookReceiver


def _register(app, petition_id, url):
    with app.test_request_context():
        campaign = db.session.get(Petition, petition_id).campaign
        endpoint, secret = webhooks.register_endpoint(campaign, url, actor=None)
        db.session.commit()
        return endpoint.id, secret


def _wait_for_delivery(app, endpoint_id, timeout=40):
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            deliveries = db.session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)).all()
            if deliveries and all(d.status != WebhookDeliveryStatus.PENDING for d in deliveries):
                return deliveries
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries still {[(d.status, d.attempts) for d in deliveries]}")
        time.sleep(0.2)


def test_a_failing_receiver_gets_the_signature_after_retries_signed_each_time(
        stack, stack_app, smtp, monkeypatch):
    monkeypatch.setitem(stack_app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", True)
    petition = create_petition(stack_app, title="Open the library on Sundays")
    with WebhookReceiver(statuses=[500, 500, 200]) as receiver:
        endpoint_id, secret = _register(stack_app, petition["id"], receiver.url)
        visitor = Visitor(stack.base)
        assert visitor.sign(petition, email="ada-webhook@example.org").status_code == 303
        visitor.confirm(confirm_link(smtp.wait_for(
            lambda m: "ada-webhook@example.org" in m.envelope_to)))

        [delivery] = _wait_for_delivery(stack_app, endpoint_id)
        time.sleep(2)  # room for a fourth request, if one were coming

        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            WebhookDeliveryStatus.SUCCEEDED, 3, 200)
        assert delivery.delivered_at is not None
        assert len(receiver.requests) == 3
        for request in receiver.requests:
            headers = request.headers
            assert headers["X-Placard-Delivery"] == str(delivery.id)
            assert webhooks.verify_signature(secret, headers["X-Placard-Timestamp"], request.body,
                                             headers["X-Placard-Signature"])
        with stack_app.app_context():
            signature = db.session.scalars(select(Signature).where(
                Signature.petition_id == petition["id"])).one()
            endpoint = db.session.get(WebhookEndpoint, endpoint_id)
            assert (endpoint.consecutive_failures, endpoint.last_status, endpoint.is_active) == (
                0, "HTTP 200", True)
            uuid = signature.uuid
        [item] = receiver.requests[-1].json()
        resource = item["osdi:signature"]
        assert resource["identifiers"] == [f"placard:{uuid}"]
        assert resource["placard:status"] == "confirmed"
        assert resource["person"]["email_addresses"][0]["address"] == "ada-webhook@example.org"
        assert resource["_links"]["self"]["href"].startswith(f"{stack.base}/api/v2/petitions/")
