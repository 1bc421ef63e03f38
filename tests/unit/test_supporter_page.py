"""/me: a supporter's own page by single-use emailed link, and what it lets them do."""

from datetime import timedelta

from sqlalchemy import select

from campaign.db import utcnow
from campaign.events.models import Rsvp, RsvpStatus
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.petitions.services import confirmed_counts
from campaign.privacy.models import SupporterLink
from campaign.signatures.models import Signature, Supporter
from campaign.signatures.services import confirm_signature, sign_petition
from tests.conftest import Outbox
from tests.factories import make_campaign, make_petition, signer
from tests.factories_events import make_event, make_rsvp

ADDRESS = "min-ji@example.org"


def _world(app):
    campaign = make_campaign()
    petition = make_petition(campaign, title="Sign a peace treaty")
    event = make_event(campaign, title="Armistice Day picket")
    db.session.commit()
    sign_petition(petition, signer(email=ADDRESS, wants_updates=True, consent_wording="Keep me informed"))
    db.session.commit()
    confirm_signature(Outbox.link(Outbox(app).to(ADDRESS)[-1]).rsplit("/", 1)[1])
    make_rsvp(event, ADDRESS)
    db.session.commit()
    return petition, event


def _open_page(app, client, email=ADDRESS):
    assert client.post("/me", data={"email": email}).status_code == 200
    link = Outbox.link(Outbox(app).to(email)[-1], path="/me/link/")
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200  # a GET only shows the button
    return "/" + path


def test_the_link_opens_the_page_once_and_the_page_lists_everything(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        _world(app)
        client = app.test_client()
        path = _open_page(app, client)
        assert client.get("/me").get_data(as_text=True).count("Withdraw my signature") == 0
        assert client.post(path).status_code == 303
        page = client.get("/me")
        text = page.get_data(as_text=True)
        assert page.headers["Cache-Control"] == "no-store"
        for expected in ("Sign a peace treaty", "Armistice Day picket", "Withdraw my signature",
                         "Cancel my RSVP", "Unsubscribe", ADDRESS):
            assert expected in text
        # Single use: a second browser with the same link gets nothing.
        other = app.test_client()
        assert other.post(path).status_code == 404
        assert "Withdraw my signature" not in other.get("/me").get_data(as_text=True)


def test_an_unknown_address_gets_the_same_answer_and_no_email(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        _world(app)
        client = app.test_client()
        known = client.post("/me", data={"email": ADDRESS}).get_data(as_text=True)
        unknown = client.post("/me", data={"email": "stranger@example.org"}).get_data(as_text=True)
        assert known.replace(ADDRESS, "X") == unknown.replace("stranger@example.org", "X")
        assert Outbox(app).to("stranger@example.org") == []
        assert client.post("/me", data={"email": "not an address"}).status_code == 422


def test_an_expired_link_does_not_open_the_page(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        _world(app)
        client = app.test_client()
        path = _open_page(app, client)
        for link in db.session.scalars(select(SupporterLink)).all():
            link.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404


def test_withdraw_cancel_and_unsubscribe_from_the_page(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        petition, _event = _world(app)
        client = app.test_client()
        client.post(_open_page(app, client))
        signature_id = db.session.scalar(select(Signature.id))
        rsvp_id = db.session.scalar(select(Rsvp.id))
        subscription_id = db.session.scalar(select(Subscription.id))
        assert confirmed_counts([petition.id])[petition.id] == 1
        assert client.post(f"/me/signatures/{signature_id}/withdraw").status_code == 303
        assert client.post(f"/me/rsvps/{rsvp_id}/cancel").status_code == 303
        assert client.post(f"/me/subscriptions/{subscription_id}/unsubscribe").status_code == 303
        db.session.expire_all()
        assert confirmed_counts([petition.id])[petition.id] == 0
        assert db.session.get(Signature, signature_id) is None
        assert db.session.get(Rsvp, rsvp_id).status == RsvpStatus.CANCELLED
        assert db.session.get(Subscription, subscription_id).status == SubscriptionStatus.UNSUBSCRIBED
        data = client.get("/me/data.json")
        assert data.status_code == 200 and data.json["person"]["email"] == ADDRESS


def test_nobody_else_can_touch_a_supporters_records(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        _world(app)
        signature_id = db.session.scalar(select(Signature.id))
        rsvp_id = db.session.scalar(select(Rsvp.id))
        subscription_id = db.session.scalar(select(Subscription.id))
        # A stranger with no page open is sent to ask for a link.
        stranger = app.test_client()
        for path in (f"/me/signatures/{signature_id}/withdraw", f"/me/rsvps/{rsvp_id}/cancel",
                     f"/me/subscriptions/{subscription_id}/unsubscribe", "/me/erase", "/me/data"):
            assert stranger.post(path).status_code == 303
        assert stranger.get("/me/data.json").status_code == 303
        # Another supporter, with their own page open, gets 404s for these ids.
        other_petition = make_petition(title="Another")
        db.session.commit()
        sign_petition(other_petition, signer(email="other@example.org"))
        db.session.commit()
        other = app.test_client()
        other.post(_open_page(app, other, "other@example.org"))
        for path in (f"/me/signatures/{signature_id}/withdraw", f"/me/rsvps/{rsvp_id}/cancel",
                     f"/me/subscriptions/{subscription_id}/unsubscribe"):
            assert other.post(path).status_code == 404
        db.session.expire_all()
        assert db.session.get(Signature, signature_id) is not None


def test_erasure_needs_the_emailed_confirmation(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        petition, _event = _world(app)
        client = app.test_client()
        client.post(_open_page(app, client))
        assert client.post("/me/erase").status_code == 303
        db.session.expire_all()
        assert db.session.scalar(select(Supporter.id).where(Supporter.email == ADDRESS))
        link = Outbox.link(Outbox(app).to(ADDRESS)[-1], path="/me/erase/")
        path = "/" + link.split("://", 1)[1].split("/", 1)[1]
        assert "Erase everything about me" in client.get(path).get_data(as_text=True)
        assert client.post(path).status_code == 200
        db.session.expire_all()
        assert db.session.scalar(select(Supporter.id).where(Supporter.email == ADDRESS)) is None
        assert confirmed_counts([petition.id])[petition.id] == 0
        assert client.post(path).status_code == 404  # single use
