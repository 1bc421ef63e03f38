"""The sign and confirm pages, and everything a real visitor might do wrong there."""

import re

import pytest
from sqlalchemy import func, select

from campaign.extensions import db
from campaign.petitions.services import confirmed_counts
from campaign.signatures.models import Signature, SignatureStatus
from tests.conftest import Outbox
from tests.factories import make_campaign, make_petition, sign_form


@pytest.fixture
def petition(app):
    with app.app_context():
        petition = make_petition(campaign=make_campaign(slug="peace"), slug="treaty",
                                 title="Sign the treaty", target="The President")
        db.session.commit()
        return {"id": petition.id, "slug": petition.slug}


def sign(client, petition, **overrides):
    return client.post(f"/petitions/{petition['slug']}/sign",
                       data=sign_form(petition["id"], **{"comment": "", **overrides}))


def signature_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Signature))


def field_error(response, petition, field):
    match = re.search(rf'id="p{petition["id"]}-{field}-error">([^<]*)<', response.text)
    return match.group(1) if match else None


def test_campaign_page_shows_demands_petitions_counts_and_sign_form(client, petition):
    page = client.get("/campaigns/peace")
    assert page.status_code == 200
    for text in ("First demand", "Second demand", "Sign the treaty", "To: The President",
                 "<progress", f'name="p{petition["id"]}-email"', "Keep me informed"):
        assert text in page.text
    assert "<strong>bold</strong>" in page.text
    assert f'name="p{petition["id"]}-wants_updates"' in page.text
    assert "checked" not in page.text.split("wants_updates")[1].split(">")[0]


def test_index_lists_published_campaigns_only(app, client):
    with app.app_context():
        make_campaign(title="Visible one")
        make_campaign(title="Hidden draft", status="draft")
        db.session.commit()
    page = client.get("/")
    assert "Visible one" in page.text and "Hidden draft" not in page.text


def test_a_draft_campaign_and_its_petitions_are_not_found(app, client):
    with app.app_context():
        petition = make_petition(campaign=make_campaign(slug="secret", status="draft"),
                                 slug="secret-petition")
        db.session.commit()
        form = {f"p{petition.id}-email": "x@example.org"}
    assert client.get("/campaigns/secret").status_code == 404
    assert client.get("/petitions/secret-petition").status_code == 404
    assert client.post("/petitions/secret-petition/sign", data=form).status_code == 404


def test_supporter_signs_confirms_and_is_counted(app, client, petition, outbox):
    response = sign(client, petition, wants_updates="y")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/petitions/treaty/check-email")
    page = client.get(response.headers["Location"])
    assert "Check your email" in page.text and "ada@example.org" in page.text

    [message] = outbox.to("ada@example.org")
    link = Outbox.link(message)
    confirm_page = client.get(link)
    assert confirm_page.status_code == 200
    assert "Confirm my signature" in confirm_page.text
    assert confirm_page.headers["Referrer-Policy"] == "no-referrer"
    # Looking at the link (as a mail scanner does) confirms nothing.
    with app.app_context():
        assert confirmed_counts([petition["id"]])[petition["id"]] == 0

    done = client.post(link)
    assert done.status_code == 303
    thanks = client.get(done.headers["Location"])
    assert "Thank you, Ada" in thanks.text
    assert re.search(r'class="count"><strong>1</strong>', thanks.text)
    for share in ("mailto:?", "https://x.com/intent/post?", "facebook.com/sharer",
                  "https://wa.me/?", 'id="share-url"'):
        assert share in thanks.text
    assert "<script src=\"http" not in thanks.text


def test_an_already_used_link_shows_the_thank_you_page(client, petition, outbox):
    sign(client, petition)
    link = Outbox.link(outbox.to("ada@example.org")[0])
    client.post(link)
    again = client.post(link, follow_redirects=True)
    assert again.status_code == 200 and "confirmed" in again.text
    assert client.get(link, follow_redirects=True).status_code == 200


def test_a_forged_link_gets_a_clear_page_with_a_way_forward(client):
    page = client.get("/confirm/not-a-real-token")
    assert page.status_code == 404
    assert "does not work" in page.text and "sign the petition again" in page.text
    assert client.post("/confirm/not-a-real-token").status_code == 404


def test_an_expired_link_offers_a_new_one(app, client, petition, outbox):
    app.config["CONFIRM_TOKEN_HOURS"] = 0
    sign(client, petition)
    link = Outbox.link(outbox.to("ada@example.org")[0])
    page = client.get(link)
    assert page.status_code == 410 and "expired" in page.text
    assert client.post(link).status_code == 410

    app.config["CONFIRM_TOKEN_HOURS"] = 72
    app.config["RESEND_INTERVAL_SECONDS"] = 0
    renewed = client.post(link + "/renew")
    assert renewed.status_code == 303
    assert len(outbox.to("ada@example.org")) == 2
    fresh = Outbox.link(outbox.to("ada@example.org")[-1])
    assert client.post(fresh).status_code == 303


def test_this_wasnt_me_discards_only_after_a_button_press(app, client, petition, outbox):
    sign(client, petition)
    discard_link = Outbox.link(outbox.to("ada@example.org")[0]) + "/discard"
    assert "Remove the signature" in client.get(discard_link).text
    assert signature_count(app) == 1
    assert "Signature removed" in client.post(discard_link).text
    assert signature_count(app) == 0


def test_invalid_email_gets_the_reason_and_keeps_the_other_fields(client, petition):
    response = sign(client, petition, email="ada@", first_name="Ada-Marie")
    assert response.status_code == 422
    assert "not valid" in field_error(response, petition, "email")
    assert "something after the @-sign" in field_error(response, petition, "email")
    assert 'value="Ada-Marie"' in response.text
    email_input = re.search(rf'<input[^>]*id="p{petition["id"]}-email"[^>]*>', response.text).group(0)
    assert re.search(rf'aria-describedby="[^"]*p{petition["id"]}-email-error', email_input)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("first_name", "", "first name"),
    ("first_name", "   ", "first name"),
    ("last_name", "", "last name"),
    ("first_name", "A" * 101, "under 100"),
    ("last_name", "L" * 500, "under 100"),
    ("first_name", "Ada\x07", "control characters"),
    ("last_name", "Love\u202elace", "control characters"),
    ("email", "", "email address"),
    ("email", "a" * 250 + "@example.org", "too long"),
    ("email", "two@@example.org", "not valid"),
    ("postal_code", "", "postal code"),
    ("postal_code", "<b>", "letters, digits"),
    ("country", "", "choose your country"),
    ("country", "XX", "from the list"),
    ("comment", "x" * 1001, "under 1000"),
    ("comment", "bad\x00byte", "control characters"),
])
def test_each_bad_field_gets_a_clear_message_and_nothing_is_stored(app, client, petition, field,
                                                                   value, message):
    response = sign(client, petition, **{field: value})
    assert response.status_code == 422
    assert message in (field_error(response, petition, field) or "")
    assert signature_count(app) == 0


def test_html_in_any_field_is_shown_escaped_never_run(app, client, petition, outbox):
    script = "<script>alert(1)</script>"
    response = sign(client, petition, first_name=script, last_name="<img src=x>",
                    comment=f"{script}\nsecond line")
    assert response.status_code == 303
    message = outbox.to("ada@example.org")[0]
    assert script not in message.get_body(("html",)).get_content()
    page = client.get(Outbox.link(message))
    assert script not in page.text and "&lt;script&gt;" in page.text
    assert "<img src=x>" not in page.text


def test_missing_or_stale_csrf_token_gives_the_form_back_filled_in(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        petition = make_petition(slug="csrf")
        db.session.commit()
        prefix = f"p{petition.id}"
    data = sign_form(petition.id, postal_code="M5V", csrf_token="stale")
    response = client.post("/petitions/csrf/sign", data=data)
    assert response.status_code == 400
    assert "form had expired" in response.text
    assert 'value="Lovelace"' in response.text and 'value="ada@example.org"' in response.text
    token = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', response.text)
    assert token
    data[f"{prefix}-csrf_token"] = token.group(1)
    assert client.post("/petitions/csrf/sign", data=data).status_code == 303
    assert signature_count(app) == 1


def test_a_missing_csrf_token_elsewhere_gets_a_friendly_page(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/confirm/whatever")
    assert response.status_code == 400
    assert "<main" in response.text and "could not be understood" in response.text


def test_double_submission_stores_one_signature_and_sends_one_email(app, client, petition, outbox):
    first = sign(client, petition)
    second = sign(client, petition)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert signature_count(app) == 1
    assert len(outbox.to("ada@example.org")) == 1


def test_signing_twice_does_not_reveal_that_the_email_had_signed(app, petition, outbox):
    first_visitor, second_visitor = app.test_client(), app.test_client()
    sign(first_visitor, petition, email="known@example.org")
    client_link = Outbox.link(outbox.to("known@example.org")[0])
    first_visitor.post(client_link)
    app.config["RESEND_INTERVAL_SECONDS"] = 0

    repeat = sign(second_visitor, petition, email="known@example.org")
    repeat_page = second_visitor.get(repeat.headers["Location"]).text
    fresh = sign(second_visitor, petition, email="unknown@example.org")
    fresh_page = second_visitor.get(fresh.headers["Location"]).text

    assert repeat.status_code == fresh.status_code == 303
    assert repeat.headers["Location"] == fresh.headers["Location"]
    assert repeat_page.replace("known@example.org", "X") == fresh_page.replace(
        "unknown@example.org", "X")
    assert "already signed" in outbox.to("known@example.org")[-1]["Subject"]
    assert signature_count(app) == 2


def test_signing_a_closed_petition_gets_a_clear_answer(app, client):
    with app.app_context():
        petition = make_petition(slug="closed", status="closed")
        db.session.commit()
        ref = {"id": petition.id, "slug": "closed"}
    page = client.get("/petitions/closed")
    assert "This petition is closed" in page.text and "-email" not in page.text
    response = sign(client, ref)
    assert response.status_code == 409 and "This petition is closed" in response.text
    assert signature_count(app) == 0


def test_a_bot_filling_the_honeypot_is_quietly_dropped(app, client, petition, outbox):
    response = sign(client, petition, website="http://spam.example")
    assert response.status_code == 303
    assert signature_count(app) == 0 and outbox.messages() == []


def test_too_many_attempts_from_one_address_are_rate_limited(make_app):
    app = make_app(SIGN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        petition = make_petition(slug="limited")
        db.session.commit()
        ref = {"id": petition.id, "slug": "limited"}
    statuses = [sign(client, ref, email=f"n{n}@example.org").status_code for n in range(4)]
    assert statuses == [303, 303, 303, 429]
    limited = sign(client, ref, email="late@example.org")
    assert "Too many attempts" in limited.text and "wait a few minutes" in limited.text
    # Reading pages is not limited.
    assert client.get("/petitions/limited").status_code == 200


@pytest.mark.parametrize("payload", [
    b"p1-first_name=%FF%FE&p1-email=%C0%AF@example.org",
    b"p1-first_name=" + b"%00" * 100,
    {"p1-email": "a@b.c" * 10_000},
    {"p1-country": ["CA", "FR"]},
    {"p999-first_name": "wrong prefix"},
    {},
])
def test_no_input_produces_a_server_error(client, petition, payload):
    if isinstance(payload, bytes):
        response = client.post("/petitions/treaty/sign", data=payload,
                               content_type="application/x-www-form-urlencoded")
    else:
        response = client.post("/petitions/treaty/sign", data=payload)
    assert response.status_code < 500


def test_confirm_rejects_odd_tokens_without_error(client):
    for token in ("a" * 5000, "%00", "..%2F..", "é"):
        assert client.get(f"/confirm/{token}").status_code == 404


def test_invalidated_signature_link_is_refused(app, client, petition, outbox):
    sign(client, petition)
    link = Outbox.link(outbox.to("ada@example.org")[0])
    with app.app_context():
        db.session.execute(Signature.__table__.update().values(status=SignatureStatus.INVALIDATED))
        db.session.commit()
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404
