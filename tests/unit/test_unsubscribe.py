"""A supporter leaves a mailing list: from the page, in one click from their mail client
(RFC 8058), from every campaign at once, or by mail; and no made-up link does anything."""

import re

import pytest
from sqlalchemy import select

from campaign.db import utcnow
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.mailing.services import record_consent
from campaign.mailing.unsubscribe import (
    find_subscription_by_token,
    process_unsubscribe_subject,
    unsubscribe_everywhere,
    unsubscribe_mailto,
    unsubscribe_token,
    unsubscribe_url,
)
from campaign.signatures.models import Supporter
from campaign.signatures.services import find_or_create_supporter_id
from tests.factories import make_campaign

WORDING = "Keep me informed about this campaign by email."


def subscribe(email="ada@example.org", campaign=None, wording=WORDING, source="petition:treaty"):
    """A subscription as confirming a signature with the box ticked leaves it. Flushes."""
    supporter = db.session.get(Supporter, find_or_create_supporter_id(email, "en"))
    subscription = record_consent(supporter, campaign or make_campaign(), wording, source,
                                  utcnow())
    db.session.flush()
    return subscription


@pytest.fixture
def subscription(app):
    """``(id, token)`` of Ada's subscription to "Clean air now"."""
    with app.test_request_context():
        subscription = subscribe(campaign=make_campaign(title="Clean air now"))
        db.session.commit()
        return subscription.id, unsubscribe_token(subscription.id)


def status_of(app, subscription_id):
    with app.app_context():
        return db.session.get(Subscription, subscription_id).status


def statuses(app, email):
    with app.app_context():
        return sorted(db.session.scalars(
            select(Subscription.status).join(Supporter, Supporter.id == Subscription.supporter_id)
            .where(Supporter.email_key == email)))


def test_the_link_in_a_mailing_names_the_subscription(app, subscription):
    subscription_id, token = subscription
    with app.test_request_context():
        assert unsubscribe_url(subscription_id) == f"http://localhost/unsubscribe/{token}"
        assert find_subscription_by_token(token).id == subscription_id


def test_the_page_names_the_campaign_and_offers_one_button_without_unsubscribing(
        app, client, subscription):
    subscription_id, token = subscription
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "Clean air now" in page.text
    assert page.text.count('type="submit"') == 2
    forms = re.findall(r'<form method="post" action="([^"]+)">', page.text)
    assert forms == [f"/unsubscribe/{token}", f"/unsubscribe/{token}/all"]
    assert ">Unsubscribe</button>" in page.text
    assert ">Unsubscribe from all campaigns</button>" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    # A mail scanner's prefetch, or a reload, changes nothing.
    client.get(f"/unsubscribe/{token}")
    client.head(f"/unsubscribe/{token}")
    assert status_of(app, subscription_id) == SubscriptionStatus.SUBSCRIBED


def test_one_click_unsubscribes_exactly_as_a_mail_client_posts(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.test_request_context():
        subscription = subscribe(campaign=make_campaign(title="Clean air now"))
        db.session.commit()
        subscription_id, token = subscription.id, unsubscribe_token(subscription.id)
    mail_client = app.test_client(use_cookies=False)
    response = mail_client.post(f"/unsubscribe/{token}", data=b"List-Unsubscribe=One-Click",
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text and "Clean air now" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        unsubscribed = db.session.get(Subscription, subscription_id)
        assert unsubscribed.status == SubscriptionStatus.UNSUBSCRIBED
        assert unsubscribed.unsubscribed_at is not None
        # The consent record stays as it was: it is the proof of what had been agreed.
        assert unsubscribed.consent_wording == WORDING


def test_the_pages_button_unsubscribes_with_csrf_on_and_no_session(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.test_request_context():
        subscription = subscribe()
        db.session.commit()
        subscription_id, token = subscription.id, unsubscribe_token(subscription.id)
    browser = app.test_client()
    page = browser.get(f"/unsubscribe/{token}")
    # The page sets no cookie: it needs none.
    assert "Set-Cookie" not in page.headers
    action = re.search(r'<form method="post" action="([^"]+)">', page.text).group(1)
    response = browser.post(action, data={})
    assert response.status_code == 200
    assert status_of(app, subscription_id) == SubscriptionStatus.UNSUBSCRIBED


def test_unsubscribing_twice_is_harmless_and_keeps_the_first_time(app, client, subscription):
    subscription_id, token = subscription
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    with app.app_context():
        first = db.session.get(Subscription, subscription_id).unsubscribed_at
    again = client.post(f"/unsubscribe/{token}")
    assert again.status_code == 200 and "You are unsubscribed" in again.text
    with app.app_context():
        assert db.session.get(Subscription, subscription_id).unsubscribed_at == first


def test_the_page_says_so_when_already_unsubscribed_and_still_offers_every_campaign(
        client, subscription):
    _subscription_id, token = subscription
    client.post(f"/unsubscribe/{token}")
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "You are already unsubscribed" in page.text
    assert ">Unsubscribe</button>" not in page.text
    assert f'action="/unsubscribe/{token}/all"' in page.text


def test_every_campaign_at_once_leaves_every_list_of_that_supporter_only(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.test_request_context():
        first = subscribe("ada@example.org")
        subscribe("ada@example.org")
        subscribe("ada@example.org")
        subscribe("grace@example.org")
        db.session.commit()
        token = unsubscribe_token(first.id)
    client = app.test_client(use_cookies=False)
    response = client.post(f"/unsubscribe/{token}/all")
    assert response.status_code == 200
    assert "You are unsubscribed from every campaign" in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert statuses(app, "ada@example.org") == [SubscriptionStatus.UNSUBSCRIBED] * 3
    assert statuses(app, "grace@example.org") == [SubscriptionStatus.SUBSCRIBED]
    assert client.post(f"/unsubscribe/{token}/all").status_code == 200


def test_unsubscribe_everywhere_counts_the_lists_left(app):
    with app.app_context():
        subscription = subscribe("ada@example.org")
        subscribe("ada@example.org")
        supporter = db.session.get(Supporter, subscription.supporter_id)
        assert unsubscribe_everywhere(supporter) == 2
        assert unsubscribe_everywhere(supporter) == 0


def _forged_tokens(app, subscription_id):
    with app.test_request_context():
        real = unsubscribe_token(subscription_id)
        other_id = subscription_id + 1
        number, mac = real.split("-")
        return {
            "wrong mac": f"{number}-{'0' * 32}",
            "another id with this mac": f"{other_id}-{mac}",
            "another id, real mac of a missing row": unsubscribe_token(999_999),
            "mac cut short": real[:-1],
            "mac too long": real + "0",
            "upper-cased mac": f"{number}-{mac.upper()}",
            "non-digits": f"abc-{mac}",
            "negative": f"-{number}-{mac}",
            "huge number": f"{'9' * 40}-{mac}",
            "leading zeros": f"000{number}-{mac}",
            "other scripts' digits": f"\u0661-{mac}",
            "superscript digit": f"\u00b9-{mac}",
            "non-ASCII mac": f"{number}-{'é' * 32}",
            "no dash": f"{number}{mac}",
            "dash only": "-",
            "huge": "7" * 5000,
            "nul byte": f"{number}\x00-{mac}",
        }


def test_made_up_or_mangled_links_are_404s_never_errors_and_change_nothing(
        app, client, subscription):
    subscription_id, _token = subscription
    for name, token in _forged_tokens(app, subscription_id).items():
        for method, path in (("GET", f"/unsubscribe/{token}"), ("POST", f"/unsubscribe/{token}"),
                             ("POST", f"/unsubscribe/{token}/all")):
            response = client.open(path, method=method, data="List-Unsubscribe=One-Click",
                                   content_type="application/x-www-form-urlencoded")
            assert response.status_code == 404, (name, method, path)
            assert "This unsubscribe link does not work" in response.text, name
    assert client.get("/unsubscribe/").status_code == 404
    assert client.post("/unsubscribe/").status_code == 404
    assert status_of(app, subscription_id) == SubscriptionStatus.SUBSCRIBED


def test_a_link_stops_working_when_its_subscription_is_gone(app, client, subscription):
    subscription_id, token = subscription
    with app.app_context():
        db.session.delete(db.session.get(Subscription, subscription_id))
        db.session.commit()
    assert client.get(f"/unsubscribe/{token}").status_code == 404
    assert client.post(f"/unsubscribe/{token}").status_code == 404


def test_any_body_a_mail_client_might_send_unsubscribes(app, client, subscription):
    subscription_id, token = subscription
    response = client.post(f"/unsubscribe/{token}", data=b"\xff\x00" * 1000,
                           content_type="multipart/form-data; boundary=broken")
    assert response.status_code == 200
    assert status_of(app, subscription_id) == SubscriptionStatus.UNSUBSCRIBED


def test_the_mailto_address_is_offered_only_when_configured(make_app):
    app = make_app()
    with app.test_request_context():
        assert unsubscribe_mailto(12) is None
    app = make_app(UNSUBSCRIBE_MAILTO="Placard <unsubscribe+lists@example.org>")
    with app.test_request_context():
        assert unsubscribe_mailto(12) == (
            f"mailto:unsubscribe+lists@example.org?subject=unsubscribe-{unsubscribe_token(12)}")


def test_the_subject_of_a_mailto_unsubscribe_names_the_subscription(app, subscription):
    subscription_id, token = subscription
    with app.test_request_context():
        assert process_unsubscribe_subject("unsubscribe-1-" + "0" * 32) is None
        assert process_unsubscribe_subject("") is None
        assert process_unsubscribe_subject(None) is None
        assert process_unsubscribe_subject(f"Re: unsubscribe-{token}").id == subscription_id
        db.session.commit()
    assert status_of(app, subscription_id) == SubscriptionStatus.UNSUBSCRIBED


def _message(subject):
    return (f"From: Ada <ada@example.org>\r\nTo: unsubscribe@example.org\r\n"
            f"Subject: {subject}\r\nMessage-ID: <1@example.org>\r\n\r\n"
            + "Please take me off.\r\n" * 100_000).encode()


def test_the_mta_pipe_command_unsubscribes_the_token_in_the_subject(app, subscription):
    subscription_id, token = subscription
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mailing", "unsubscribe-mail"],
                           input=_message(f"unsubscribe-{token}"))
    assert result.exit_code == 0, result.output
    assert f"subscription {subscription_id} unsubscribed" in result.output
    assert "Clean air now" in result.output
    assert status_of(app, subscription_id) == SubscriptionStatus.UNSUBSCRIBED


def test_the_mta_pipe_command_drops_a_message_without_a_working_token(app, subscription):
    subscription_id, _token = subscription
    runner = app.test_cli_runner()
    for raw in (_message("Hello there"), _message("unsubscribe-1-" + "f" * 32), b"",
                b"\xff\xfe garbage with no headers", b"Subject: =?utf-8?q?=FF=FE?=\r\n\r\n"):
        result = runner.invoke(args=["mailing", "unsubscribe-mail"], input=raw)
        assert result.exit_code == 0, result.output
        assert "nothing done" in result.output
    assert status_of(app, subscription_id) == SubscriptionStatus.SUBSCRIBED


def test_an_encoded_subject_still_works(app, subscription):
    subscription_id, token = subscription
    encoded = "=?utf-8?q?unsubscribe-" + token + "?="
    result = app.test_cli_runner().invoke(args=["mailing", "unsubscribe-mail"],
                                          input=_message(encoded))
    assert result.exit_code == 0 and "unsubscribed" in result.output
    assert status_of(app, subscription_id) == SubscriptionStatus.UNSUBSCRIBED
