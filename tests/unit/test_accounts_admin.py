"""Administrators manage users; `flask create-admin` makes the first administrator."""

import pytest
from sqlalchemy import select

from campaign.accounts.cli import create_admin_command, register_account_commands
from campaign.accounts.models import AuditEntry, User, UserRole
from campaign.extensions import db
from tests.conftest import Outbox
from tests.factories_accounts import (  # noqa: F401
    fast_password_hashing,
    login,
    login_with_password,
    make_user,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users/1"]
STRONG = "a quiet river at dawn"


@pytest.fixture
def people(app):
    with app.app_context():
        admin = make_user(email="admin@example.org", name="Ann Admin", role="admin")
        organizer = make_user(email="org@example.org", name="Olga Organizer")
        pending = make_user(email="pending@example.org", name="", password="")
        db.session.commit()
        return {"admin": admin.id, "organizer": organizer.id, "pending": pending.id}


def user_row(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def audit(app, action):
    with app.app_context():
        return [(entry.actor_id, entry.subject_id, entry.reason) for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action))]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_send_anonymous_visitors_to_log_in(client, people, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organize/login?next={path}"


@pytest.mark.parametrize("path", [*ADMIN_PAGES, "POST /admin/users/invite",
                                  "POST /admin/users/1/deactivate", "POST /admin/users/1/role"])
def test_admin_pages_do_not_exist_for_organizers(client, people, path):
    login(client, people["organizer"])
    method, _, url = path.rpartition(" ")
    response = client.open(url, method=method or "GET", data={
        "deactivate-reason": "x", "role-role": "organizer", "email": "x@example.org"})
    assert response.status_code == 404
    assert user_row(client.application, people["admin"]).is_active


def test_admin_home_links_to_every_section(app, client):
    with app.app_context():
        admin = make_user(role="admin")
        db.session.commit()
    login(client, admin)
    page = client.get("/admin/").text
    for href in ("/admin/users", "/admin/campaigns", "/admin/audit"):
        assert f'href="{href}"' in page


def test_users_list_shows_each_account(app, client, people):
    login_with_password(client, "admin@example.org")
    page = client.get("/admin/users").text
    for text in ("org@example.org", "Olga Organizer", "Organizer", "Administrator",
                 "Invited, not joined yet", "Active", "Never", "<time datetime="):
        assert text in page
    assert f'href="/admin/users/{people["organizer"]}"' in page


def test_inviting_sends_an_email_and_a_second_invitation_replaces_the_link(app, client, people,
                                                                            outbox):
    login(client, people["admin"])
    invalid = client.post("/admin/users/invite", data={"email": "not an address", "role": "organizer"})
    assert invalid.status_code == 422 and "This email address is not valid" in invalid.text
    taken = client.post("/admin/users/invite", data={"email": "ORG@example.org", "role": "admin"})
    assert taken.status_code == 409 and "already belongs to an account" in taken.text

    assert client.post("/admin/users/invite", data={"email": "new@example.org",
                                                    "role": "admin"}).status_code == 303
    assert client.post(f"/admin/users/{people['pending']}/invitation").status_code == 303
    assert client.post("/admin/users/invite", data={"email": "new@example.org",
                                                    "role": "organizer"}).status_code == 303
    first, second = outbox.to("new@example.org")
    assert "as an administrator" in Outbox.text(first) and "as an organizer" in Outbox.text(second)
    assert "Ann Admin invites you" in Outbox.text(first)
    assert client.get(Outbox.link(first, "/organize/invitation/")).status_code == 404
    assert client.get(Outbox.link(second, "/organize/invitation/")).status_code == 200
    assert len(outbox.to("pending@example.org")) == 1
    with app.app_context():
        invited = db.session.scalars(select(User).where(User.email_key == "new@example.org")).one()
        assert invited.role == UserRole.ORGANIZER and invited.password_hash == ""
    assert len(audit(app, "user.invited")) == 1 and len(audit(app, "user.invited_again")) == 2


def test_deactivation_needs_a_reason_and_ends_the_users_sessions(app, client, people):
    organizer_client = app.test_client()
    login(organizer_client, people["organizer"])
    assert organizer_client.get("/organize/").status_code == 200

    login(client, people["admin"])
    url = f"/admin/users/{people['organizer']}/deactivate"
    missing = client.post(url, data={"deactivate-reason": "  "})
    assert missing.status_code == 422 and "Please give a reason" in missing.text
    response = client.post(url, data={"deactivate-reason": "Left the group"})
    assert response.status_code == 303
    assert not user_row(app, people["organizer"]).is_active
    assert audit(app, "user.deactivated") == [(people["admin"], people["organizer"], "Left the group")]

    redirected = organizer_client.get("/organize/")
    assert redirected.status_code == 302 and redirected.headers["Location"].startswith("/organize/login")
    assert login_with_password(organizer_client, "org@example.org").status_code == 422

    assert client.post(f"/admin/users/{people['organizer']}/reactivate",
                       data={"reactivate-reason": ""}).status_code == 303
    assert login_with_password(organizer_client, "org@example.org").status_code == 303


def test_an_admin_cannot_deactivate_themself(app, client, people):
    login(client, people["admin"])
    page = client.get(f"/admin/users/{people['admin']}")
    assert "You cannot deactivate your own account." in page.text
    assert f'action="/admin/users/{people["admin"]}/deactivate"' not in page.text
    response = client.post(f"/admin/users/{people['admin']}/deactivate",
                           data={"deactivate-reason": "Leaving"})
    assert response.status_code == 409
    assert user_row(app, people["admin"]).is_active
    assert audit(app, "user.deactivated") == []


def test_roles_change_with_a_reason_but_never_leave_no_admin(app, client, people):
    login(client, people["admin"])
    last = client.post(f"/admin/users/{people['admin']}/role", data={"role-role": "organizer"})
    assert last.status_code == 409 and "last active administrator" in last.text
    promote = client.post(f"/admin/users/{people['organizer']}/role",
                          data={"role-role": "admin", "role-reason": "Runs the spring campaign"})
    assert promote.status_code == 303
    assert user_row(app, people["organizer"]).is_admin
    assert audit(app, "user.made_admin") == [
        (people["admin"], people["organizer"], "Runs the spring campaign")]
    bogus = client.post(f"/admin/users/{people['organizer']}/role", data={"role-role": "owner"})
    assert bogus.status_code == 422
    # Stepping down is allowed once someone else is an administrator.
    step_down = client.post(f"/admin/users/{people['admin']}/role", data={"role-role": "organizer"})
    assert step_down.status_code == 303 and step_down.headers["Location"] == "/organize/"
    assert client.get("/admin/users").status_code == 404


def test_unknown_user_ids_are_404s(client, people):
    login(client, people["admin"])
    assert client.get("/admin/users/9999").status_code == 404
    assert client.post("/admin/users/9999/deactivate",
                       data={"deactivate-reason": "x"}).status_code == 404


def test_create_admin_asks_for_the_password_twice_without_echoing_it(app):
    runner = app.test_cli_runner()
    result = runner.invoke(create_admin_command, ["Root@Example.org"],
                           input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert "Created administrator Root@example.org" in result.output
    assert STRONG not in result.output
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email_key == "root@example.org")).one()
        assert user.is_admin and user.is_active
    assert login_with_password(app.test_client(), "root@example.org", STRONG).status_code == 303


def test_create_admin_promotes_an_existing_account(app, people):
    result = app.test_cli_runner().invoke(create_admin_command, ["org@example.org"],
                                          input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0 and "Updated administrator" in result.output
    assert user_row(app, people["organizer"]).is_admin


def test_create_admin_refuses_weak_or_mismatched_passwords(app):
    runner = app.test_cli_runner()
    weak = runner.invoke(create_admin_command, ["root@example.org"], input="password1\npassword1\n")
    assert weak.exit_code == 1
    assert "Use at least 12 characters." in weak.output and "attackers try" in weak.output
    mismatched = runner.invoke(create_admin_command, ["root@example.org"],
                               input=f"{STRONG}\nsomething else\n")
    assert mismatched.exit_code != 0
    bad_address = runner.invoke(create_admin_command, ["not-an-address"],
                                input=f"{STRONG}\n{STRONG}\n")
    assert bad_address.exit_code == 1 and "not valid" in bad_address.output
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_create_admin_takes_no_password_argument(app):
    assert [param.name for param in create_admin_command.params] == ["email"]
    register_account_commands(app)
    assert app.cli.commands["create-admin"] is create_admin_command
