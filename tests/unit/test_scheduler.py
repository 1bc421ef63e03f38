"""The embedded mode runs the periodic jobs itself, as Celery beat does in production."""

import time
from datetime import timedelta

from sqlalchemy import select

from campaign import scheduler
from campaign.config import load
from campaign.db import utcnow
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from tests.factories_events import make_event, make_rsvp


def test_the_scheduler_is_on_in_the_embedded_mode_only(tmp_path):
    assert load(str(tmp_path), {"SECRET_KEY": "x" * 40})["EMBEDDED_SCHEDULER"] is True
    assert load(str(tmp_path), {"SECRET_KEY": "x" * 40, "TESTING": True})["EMBEDDED_SCHEDULER"] is False
    production = load(str(tmp_path), {"SECRET_KEY": "x" * 40, "PLACARD_MODE": "production"})
    assert production["EMBEDDED_SCHEDULER"] is False


def test_the_scheduler_sends_a_due_reminder_and_starts_once(make_app, tmp_path, monkeypatch):
    monkeypatch.setattr(scheduler, "TICK_SECONDS", 0.05)
    monkeypatch.setattr(scheduler, "FIRST_RUN_SECONDS", 0.1)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'scheduled.sqlite'}",
                   EMBEDDED_SCHEDULER=True)
    with app.test_request_context():
        event = make_event(starts_at=utcnow() + timedelta(hours=20))
        make_rsvp(event, "early@example.org", confirmed_at=utcnow() - timedelta(days=2))
        db.session.commit()

    # The first request starts it; later ones do not start another.
    client = app.test_client()
    client.get("/healthz")
    running = app.extensions["placard_scheduler"]
    client.get("/healthz")
    assert app.extensions["placard_scheduler"] is running
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with app.app_context():
                kinds = db.session.scalars(select(OutboundEmail.kind)).all()
            if "event_reminder" in kinds:
                break
            time.sleep(0.05)
        assert kinds.count("event_reminder") == 1
    finally:
        running.stop()
    assert not running.thread.is_alive()


def test_a_slow_webhook_receiver_does_not_hold_up_the_confirmation(make_app, tmp_path, monkeypatch):
    """In the embedded mode the notice goes out from the scheduler's thread, not the request."""
    from campaign.api import webhooks
    from campaign.api.models import WebhookDelivery, WebhookDeliveryStatus
    from campaign.signatures.services import sign_petition
    from tests.factories import make_petition, signer
    from tests.support.webhook_receiver import WebhookReceiver

    monkeypatch.setattr(scheduler, "TICK_SECONDS", 0.05)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'hooks.sqlite'}",
                   EMBEDDED_SCHEDULER=True, WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
    with WebhookReceiver(answer_after_seconds=1.5) as receiver:
        app.test_client().get("/healthz")  # starts the scheduler
        running = app.extensions["placard_scheduler"]
        try:
            with app.test_request_context():
                petition = make_petition()
                webhooks.register_endpoint(petition.campaign, receiver.url, actor=None)
                db.session.commit()
                sign_petition(petition, signer(), vouched=True)
                started = time.monotonic()
                db.session.commit()  # confirms, and hands the notice over
                assert time.monotonic() - started < 1.0
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with app.app_context():
                    statuses = db.session.scalars(select(WebhookDelivery.status)).all()
                if statuses == [WebhookDeliveryStatus.SUCCEEDED]:
                    break
                time.sleep(0.05)
            assert statuses == [WebhookDeliveryStatus.SUCCEEDED]
            assert len(receiver.requests) == 1
        finally:
            running.stop()
