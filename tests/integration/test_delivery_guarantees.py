"""No email lost to a broker outage, none sent twice, none given up on a passing failure."""

import time

from sqlalchemy import select

from campaign.extensions import db
from campaign.jobs import celery_client
from campaign.mail.models import EmailStatus, OutboundEmail
from campaign.signatures.models import Signature
from tests.factories import sign_form
from tests.integration.helpers import Visitor, create_petition, wait_for_email_status


def _sign_in_process(app, petition, email):
    return app.test_client().post(f"/petitions/{petition['slug']}/sign",
                                  data=sign_form(petition["id"], email=email))


def test_a_broker_outage_at_signing_delays_the_email_but_loses_nothing(
        stack, stack_app, make_production_app, smtp):
    petition = create_petition(stack_app)
    # The web side cannot reach its broker (nothing listens on port 1)...
    cut_off = make_production_app(CELERY_BROKER_URL="redis://127.0.0.1:1/0", WTF_CSRF_ENABLED=False,
                                  BROKER_PUBLISH_TIMEOUT=1.0, CELERY_QUEUE=stack.queue)
    started = time.monotonic()
    response = _sign_in_process(cut_off, petition, "outage@example.org")
    assert response.status_code == 303 and time.monotonic() - started < 5
    with stack_app.app_context():
        signature = db.session.scalars(
            select(Signature).where(Signature.petition_id == petition["id"])).one()
        assert signature.status == "pending"

    # ...and the worker's periodic sweep (Celery beat) sends the email all the same.
    message = smtp.wait_for(lambda m: "outage@example.org" in m.envelope_to, timeout=30)
    assert "/confirm/" in message.get_body(("plain",)).get_content()
    wait_for_email_status(stack_app, OutboundEmail.to_address == "outage@example.org", EmailStatus.SENT)




def test_the_same_send_task_delivered_twice_sends_one_email(stack, stack_app, make_production_app,
                                                            smtp):
    petition = create_petition(stack_app)
    cut_off = make_production_app(CELERY_BROKER_URL="redis://127.0.0.1:1/0", WTF_CSRF_ENABLED=False,
                                  BROKER_PUBLISH_TIMEOUT=0.5, CELERY_QUEUE=stack.queue)
    _sign_in_process(cut_off, petition, "once@example.org")
    with stack_app.app_context():
        email_id = db.session.scalars(select(OutboundEmail.id).where(
            OutboundEmail.to_address == "once@example.org")).one()

    client = celery_client(stack_app)
    for _ in range(3):
        client.send_task("placard.mail.send", args=[email_id], queue=stack.queue)

    smtp.wait_for(lambda m: "once@example.org" in m.envelope_to)
    time.sleep(3)  # room for the other deliveries (and the sweep) to do their worst
    assert len(smtp.messages_to("once@example.org")) == 1
    assert "placard.mail.send" in stack.log("worker")


def test_a_temporary_smtp_refusal_is_retried_until_delivered(stack, stack_app, smtp):
    petition = create_petition(stack_app)
    smtp.fail_next("busy@example.org", code=451, text="mailbox busy, try later", times=2)
    assert Visitor(stack.base).sign(petition, email="busy@example.org").status_code == 303
    smtp.wait_for(lambda m: "busy@example.org" in m.envelope_to, timeout=45)
    [email] = wait_for_email_status(stack_app, OutboundEmail.to_address == "busy@example.org",
                                    EmailStatus.SENT)
    assert email.attempts >= 3


def test_a_permanent_smtp_refusal_is_recorded_and_not_retried(stack, stack_app, smtp):
    petition = create_petition(stack_app)
    smtp.fail_next("nobody@example.org", code=550, text="no such user here", times=None)
    assert Visitor(stack.base).sign(petition, email="nobody@example.org").status_code == 303
    [email] = wait_for_email_status(stack_app, OutboundEmail.to_address == "nobody@example.org",
                                    EmailStatus.FAILED)
    assert email.attempts == 1 and "550" in email.last_error and "no such user" in email.last_error
