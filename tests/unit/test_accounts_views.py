"""Organizers log in and out, join by invitation, reset and change passwords and addresses."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from campaign.accounts.models import AccountToken, User
from campaign.db import utcnow
from campaign.extensions import db
from tests.conftest import Outbox
from tests.factories_accounts import (  # noqa: F401
    DEFAULT_PASSWORD,
    fast_password_hashing,
    login,
    login_with_password,
    make_user,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

NEW_PASSWORD = "a quiet river at dawn"
GENERIC_FAILURE = "The email address or the password is not correct."


@pytest.fixture
def ada(app):
    with app.app_context():
        user = make_user(email="ada@example.org", name="Ada")
        db.session.commit()
        return user.id


@pytest.fixture
def admin(app):
    with app.app_context():
        user = make_user(email="admin@example.org", role="admin")
        db.session.commit()
        return user.id


def user_row(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def logged_in(client):
    response = client.get("/organize/account")
    return response.status_code == 200


def path_of(link):
    return link.split("localhost", 1)[1]


def test_organizer_logs_in_and_reaches_the_dashboard(app, client, ada):
    assert client.get("/organize/login").status_code == 200
    response = login_with_password(client, "ADA@example.org")
    assert response.status_code == 303 and response.headers["Location"] == "/organize/"
    assert client.get("/organize/").status_code == 200
    assert user_row(app, ada).last_login_at is not None


def test_wrong_password_and_unknown_address_get_the_same_page(app, client, ada):
    wrong = login_with_password(client, "ada@example.org", "not my password at all")
    unknown = login_with_password(client, "zed@example.org", "not my password at all")
    assert wrong.status_code == unknown.status_code == 422
    assert GENERIC_FAILURE in wrong.text
    assert wrong.text.replace("ada@example.org", "X") == unknown.text.replace("zed@example.org", "X")
    assert not logged_in(client)


def test_a_deactivated_or_pending_account_gets_the_same_generic_answer(app, client):
    with app.app_context():
        make_user(email="gone@example.org", is_active_account=False)
        make_user(email="pending@example.org", password="")
        db.session.commit()
    for address in ("gone@example.org", "pending@example.org"):
        response = login_with_password(client, address)
        assert response.status_code == 422 and GENERIC_FAILURE in response.text


def test_login_is_rate_limited_per_account(make_app):
    app = make_app(LOGIN_RATE_LIMIT_PER_ACCOUNT="3 per minute", LOGIN_RATE_LIMIT_PER_IP="100 per minute")
    client = app.test_client()
    for number in range(3):
        response = client.post("/organize/login", data={"email": "ada@example.org", "password": "x"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{number}"})
        assert response.status_code == 422
    blocked = client.post("/organize/login", data={"email": "ADA@example.org ", "password": "x"},
                          environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert blocked.status_code == 429 and "Too many attempts" in blocked.text
    other = client.post("/organize/login", data={"email": "bob@example.org", "password": "x"},
                        environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert other.status_code == 422


def test_login_is_rate_limited_per_ip_address(make_app):
    app = make_app(LOGIN_RATE_LIMIT_PER_IP="3 per minute", LOGIN_RATE_LIMIT_PER_ACCOUNT="100 per minute")
    client = app.test_client()
    for number in range(3):
        response = client.post("/organize/login",
                               data={"email": f"user{number}@example.org", "password": "x"})
        assert response.status_code == 422
    assert client.post("/organize/login",
                       data={"email": "new@example.org", "password": "x"}).status_code == 429
    elsewhere = client.post("/organize/login", data={"email": "new@example.org", "password": "x"},
                            environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert elsewhere.status_code == 422


def test_default_limit_stops_the_sixth_attempt_on_one_account_within_a_minute(client, ada):
    for number in range(5):
        response = client.post("/organize/login", data={"email": "ada@example.org", "password": "x"},
                               environ_base={"REMOTE_ADDR": f"10.0.1.{number}"})
        assert response.status_code == 422
    # Even the right password waits: the limit does not tell right from wrong.
    assert login_with_password(client, "ada@example.org").status_code == 429


def test_login_starts_a_fresh_session(app, client, ada):
    client.get("/organize/login")
    with client.session_transaction() as planted:
        planted["planted"] = "by someone else"
        planted["_user_id"] = "999:1"
    before = client.get_cookie("session").value
    assert login_with_password(client, "ada@example.org").status_code == 303
    assert client.get_cookie("session").value != before
    with client.session_transaction() as current:
        assert "planted" not in current
        assert current["_user_id"] == f"{ada}:1"


@pytest.mark.parametrize("next_url, expected", [
    ("/admin/users", "/admin/users"),
    ("/organize/account?tab=1", "/organize/account?tab=1"),
    ("//evil.example/steal", "/organize/"),
    ("https://evil.example/", "/organize/"),
    ("/\\evil.example", "/organize/"),
    ("/organize/\r\nSet-Cookie:x", "/organize/"),
])
def test_after_login_only_a_local_next_is_followed(client, ada, next_url, expected):
    response = login_with_password(client, "ada@example.org", next_url=next_url)
    assert response.headers["Location"] == expected


def test_a_private_page_sends_visitors_to_log_in_and_back(client, ada):
    response = client.get("/organize/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/organize/login?next=/organize/account"
    page = client.get(response.headers["Location"])
    assert 'value="/organize/account"' in page.text


def test_logout_is_a_post_only(client, ada):
    login(client, ada)
    assert client.get("/organize/logout").status_code == 405
    assert logged_in(client)
    response = client.post("/organize/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert not logged_in(client)


def test_with_csrf_on_login_and_logout_need_the_forms_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user(email="ada@example.org")
        db.session.commit()
    client = app.test_client()
    assert login_with_password(client, "ada@example.org").status_code == 400
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/organize/login").text).group(1)
    response = client.post("/organize/login", data={"email": "ada@example.org",
                                                    "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    assert client.post("/organize/logout").status_code == 400
    assert logged_in(client)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/organize/account").text).group(1)
    assert client.post("/organize/logout", data={"csrf_token": token}).status_code == 303
    assert not logged_in(client)


def test_forgotten_password_answers_the_same_for_any_address(app, client, ada, outbox):
    known = client.post("/organize/password/forgot", data={"email": "ada@example.org"})
    unknown = client.post("/organize/password/forgot", data={"email": "zed@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("ada@example.org", "X") == unknown.text.replace("zed@example.org", "X")
    assert outbox.to("zed@example.org") == []
    assert len(outbox.messages()) == 1


def request_reset(client, outbox, address="ada@example.org"):
    client.post("/organize/password/forgot", data={"email": address})
    message = outbox.to(address)[-1]
    assert "2 hours" in Outbox.text(message)
    return path_of(Outbox.link(message, "/organize/password/reset/"))


def test_a_reset_link_sets_a_new_password_once(app, client, ada, outbox):
    link = request_reset(client, outbox)
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    weak = client.post(link, data={"password": "password2024", "confirm": "password2024"})
    assert weak.status_code == 422 and "among the first ones attackers try" in weak.text
    done = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"] == "/organize/login"
    again = client.get(link)
    assert again.status_code == 410 and "already been used" in again.text
    assert again.headers["Referrer-Policy"] == "no-referrer"
    assert 'href="/organize/password/forgot"' in again.text
    assert login_with_password(client, "ada@example.org").status_code == 422
    assert login_with_password(client, "ada@example.org", NEW_PASSWORD).status_code == 303


def test_an_expired_or_unknown_reset_link_says_what_to_do(app, client, ada, outbox):
    link = request_reset(client, outbox)
    with app.app_context():
        db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    expired = client.get(link)
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert 'href="/organize/password/forgot"' in expired.text
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 410
    unknown = client.get("/organize/password/reset/not-a-real-token")
    assert unknown.status_code == 404 and "This link does not work" in unknown.text


def test_a_reset_ends_every_other_session(app, client, ada, outbox):
    elsewhere = app.test_client()
    login(elsewhere, ada)
    assert logged_in(elsewhere)
    link = request_reset(client, outbox)
    client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    response = elsewhere.get("/organize/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/organize/login")


def test_invitee_joins_and_logs_in(app, client, admin, outbox):
    login(client, admin)
    response = client.post("/admin/users/invite", data={"email": "Grace@Example.org",
                                                         "role": "organizer"})
    assert response.status_code == 303
    client.post("/organize/logout")
    [message] = outbox.to("Grace@example.org")
    assert "7 days" in Outbox.text(message)
    link = path_of(Outbox.link(message, "/organize/invitation/"))

    page = client.get(link)
    assert page.status_code == 200 and "Grace@example.org" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert login_with_password(client, "grace@example.org", "").status_code == 422
    weak = client.post(link, data={"name": "Grace", "password": "grace-is-my-name",
                                   "confirm": "grace-is-my-name"})
    assert weak.status_code == 422 and "Do not use your email address" in weak.text
    mismatch = client.post(link, data={"name": "Grace", "password": NEW_PASSWORD, "confirm": "other"})
    assert "The two passwords are not the same." in mismatch.text
    joined = client.post(link, data={"name": "Grace", "password": NEW_PASSWORD,
                                     "confirm": NEW_PASSWORD})
    assert joined.status_code == 303 and joined.headers["Location"] == "/organize/login"
    assert login_with_password(client, "grace@example.org", NEW_PASSWORD).status_code == 303
    assert client.get("/organize/").status_code == 200
    used = client.get(link)
    assert used.status_code == 410 and 'href="/organize/login"' in used.text


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client, ada):
    elsewhere = app.test_client()
    login(elsewhere, ada)
    login(client, ada)
    wrong = client.post("/organize/account/password", data={
        "password-current_password": "nope", "password-password": NEW_PASSWORD,
        "password-confirm": NEW_PASSWORD})
    assert wrong.status_code == 422 and "Your current password is not correct." in wrong.text
    weak = client.post("/organize/account/password", data={
        "password-current_password": DEFAULT_PASSWORD, "password-password": "short",
        "password-confirm": "short"})
    assert weak.status_code == 422 and "Use at least 12 characters." in weak.text
    response = client.post("/organize/account/password", data={
        "password-current_password": DEFAULT_PASSWORD, "password-password": NEW_PASSWORD,
        "password-confirm": NEW_PASSWORD})
    assert response.status_code == 303
    assert logged_in(client)
    assert not logged_in(elsewhere)


def test_changing_the_email_needs_the_new_address_confirmed(app, client, ada, outbox):
    login(client, ada)
    page = client.get("/organize/account")
    assert "ada@example.org" in page.text and 'autocomplete="current-password"' in page.text
    wrong = client.post("/organize/account/email", data={"email-new_email": "ada@new.example",
                                                         "email-current_password": "nope"})
    assert wrong.status_code == 422 and "Your current password is not correct." in wrong.text
    response = client.post("/organize/account/email", data={
        "email-new_email": "Ada@New.example", "email-current_password": DEFAULT_PASSWORD})
    assert response.status_code == 303
    assert user_row(app, ada).email == "ada@example.org"
    [message] = outbox.to("Ada@new.example")
    assert "24 hours" in Outbox.text(message)
    link = path_of(Outbox.link(message, "/organize/account/email/"))

    confirm = client.get(link)
    assert confirm.status_code == 200 and confirm.headers["Cache-Control"] == "no-store"
    assert user_row(app, ada).email == "ada@example.org"
    assert client.post(link).status_code == 303
    assert user_row(app, ada).email == "Ada@new.example"
    [notice] = outbox.to("ada@example.org")
    assert "Ada@new.example" in Outbox.text(notice)
    assert client.get(link).status_code == 410
    client.post("/organize/logout")
    assert login_with_password(client, "ada@new.example").status_code == 303


def test_changing_to_an_address_with_an_account_is_refused(app, client, ada):
    with app.app_context():
        make_user(email="taken@example.org")
        db.session.commit()
    login(client, ada)
    response = client.post("/organize/account/email", data={
        "email-new_email": "taken@example.org", "email-current_password": DEFAULT_PASSWORD})
    assert response.status_code == 422
    assert "This email address already belongs to an account." in response.text

