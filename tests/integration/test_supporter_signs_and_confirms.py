"""Suzie's story on the production stack: she signs over HTTP, the worker emails her
through SMTP, she follows the link, confirms, and is counted."""

import time

from sqlalchemy import func, select

from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus
from tests.integration.helpers import Visitor, confirm_link, create_petition, displayed_count


def test_supporter_signs_receives_the_email_confirms_and_is_counted(stack, stack_app, smtp):
    petition = create_petition(stack_app, title="Sign the peace treaty")
    visitor = Visitor(stack.base)
    before = displayed_count(visitor.session.get(f"{stack.base}/petitions/{petition['slug']}").text)

    response = visitor.sign(petition, email="suzie@example.org", wants_updates="y")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/petitions/{petition['slug']}/check-email")

    message = smtp.wait_for(lambda m: "suzie@example.org" in m.envelope_to)
    assert "Sign the peace treaty" in message["Subject"]
    assert message["Message-ID"]
    assert message.get_body(("html",)) is not None
    text = message.get_body(("plain",)).get_content()
    assert "Campaign" in text and "The Decision Maker" in text

    thanks = visitor.confirm(confirm_link(message))
    assert thanks.status_code == 200 and "Thank you, Ada" in thanks.text
    assert displayed_count(thanks.text) == before + 1
    # Public pages are reused for a second (PAGE_CACHE_SECONDS) before showing it too.
    deadline = time.monotonic() + 5
    while displayed_count(visitor.session.get(f"{stack.base}/petitions/{petition['slug']}").text) \
            != before + 1:
        assert time.monotonic() < deadline, "the petition page never showed the new count"
        time.sleep(0.2)


def test_signing_twice_keeps_one_signature_and_the_email_says_so(stack, stack_app, smtp):
    petition = create_petition(stack_app)
    visitor = Visitor(stack.base)
    visitor.sign(petition, email="twice@example.org")
    visitor.confirm(confirm_link(smtp.wait_for(lambda m: "twice@example.org" in m.envelope_to)))

    again = Visitor(stack.base).sign(petition, email="Twice@Example.org", first_name="Someone")
    assert again.status_code == 303

    reminder = smtp.wait_for(lambda m: "twice@example.org" in [r.lower() for r in m.envelope_to]
                             and "already" in m["Subject"])
    assert "counted once" in reminder.get_body(("plain",)).get_content()
    with stack_app.app_context():
        signatures = db.session.scalars(
            select(Signature).where(Signature.petition_id == petition["id"])).all()
        assert [(s.status, s.first_name) for s in signatures] == [(SignatureStatus.CONFIRMED, "Ada")]


def test_a_pending_signature_signed_again_gets_one_fresh_link(stack, stack_app, smtp):
    petition = create_petition(stack_app)
    Visitor(stack.base).sign(petition, email="again@example.org")
    first = smtp.wait_for(lambda m: "again@example.org" in m.envelope_to)
    Visitor(stack.base).sign(petition, email="again@example.org")
    smtp.wait_for(lambda m: "again@example.org" in m.envelope_to and m is not first)
    links = [confirm_link(m) for m in smtp.messages_to("again@example.org")]
    assert len(set(links)) == 2

    stale = Visitor(stack.base).session.get(links[0])
    assert stale.status_code == 404
    assert Visitor(stack.base).confirm(links[1]).status_code == 200
    with stack_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)
                                 .where(Signature.petition_id == petition["id"])) == 1


def test_readiness_checks_the_database_and_the_broker(stack):
    import requests

    ready = requests.get(f"{stack.base}/readyz", timeout=5).json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
