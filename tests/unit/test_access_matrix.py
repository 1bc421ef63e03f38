"""Every private route, tried as anonymous, as organizer A, as organizer B and as an
administrator, on objects of A's campaign.

Routes are enumerated from the app's URL map: a new /organize or /admin route
that is not in ROUTES fails the test until someone decides who may use it.
"""

import pytest
from flask import url_for
from sqlalchemy import select

from campaign.accounts.models import User, UserRole
from campaign.api.models import WebhookEndpoint
from campaign.api.tokens import create_token
from campaign.extensions import db
from campaign.mailing.compose import MailingDetails, create_mailing
from campaign.signatures.models import Signature
from campaign.signatures.services import sign_petition
from tests.factories import make_campaign, make_petition, signer
from tests.factories_events import make_event, make_rsvp

PRIVATE_PREFIXES = ("/organize", "/admin")

# What each role may do: "ok" (2xx or a redirect that is not to the login page),
# "login" (sent to log in), "hidden" (404), or a status code.
OWNER = {"anonymous": "login", "organizer_a": "ok", "organizer_b": "hidden", "admin": "ok"}
ANY_ACCOUNT = {"anonymous": "login", "organizer_a": "ok", "organizer_b": "ok", "admin": "ok"}
ADMIN_ONLY = {"anonymous": "login", "organizer_a": "hidden", "organizer_b": "hidden", "admin": "ok"}
PUBLIC = {"anonymous": "ok", "organizer_a": "ok", "organizer_b": "ok", "admin": "ok"}
# A made-up token is an unknown link to everyone.
LINK = {"anonymous": "hidden", "organizer_a": "hidden", "organizer_b": "hidden", "admin": "hidden"}
# An empty form from someone allowed to send it is refused for its content (422).
ANY_ACCOUNT_EMPTY_FORM = {"anonymous": "login", "organizer_a": 422, "organizer_b": 422, "admin": 422}
ADMIN_ONLY_EMPTY_FORM = {"anonymous": "login", "organizer_a": "hidden", "organizer_b": "hidden",
                         "admin": 422}
OWNER_EMPTY_FORM = {"anonymous": "login", "organizer_a": 422, "organizer_b": "hidden", "admin": 422}
# A button's form sent without its hidden fields: only a tampered request does that.
OWNER_EMPTY_BUTTON = {"anonymous": "login", "organizer_a": 400, "organizer_b": "hidden", "admin": 400}

# endpoint -> (methods tried, expectations). Token routes are public pages that
# answer a clear "this link does not work" to a made-up token.
ROUTES = {
    "accounts.login": (["GET"], PUBLIC),
    "accounts.logout": (["POST"], PUBLIC),
    "accounts.account": (["GET"], ANY_ACCOUNT),
    "accounts.forgot_password": (["GET"], PUBLIC),
    "accounts.reset_password": (["GET", "POST"], LINK),
    "accounts.accept_invitation": (["GET", "POST"], LINK),
    "accounts.confirm_email_change": (["GET", "POST"], LINK),
    "accounts.change_password": (["POST"], ANY_ACCOUNT_EMPTY_FORM),
    "accounts.change_email": (["POST"], ANY_ACCOUNT_EMPTY_FORM),
    "accounts.confirm_password": (["GET"], ANY_ACCOUNT),
    "admin.index": (["GET"], ADMIN_ONLY),
    "admin.users": (["GET"], ADMIN_ONLY),
    "admin.show_user": (["GET"], ADMIN_ONLY),
    "admin.invite": (["POST"], ADMIN_ONLY_EMPTY_FORM),
    "admin.change_role": (["POST"], ADMIN_ONLY_EMPTY_FORM),
    "admin.deactivate": (["POST"], ADMIN_ONLY_EMPTY_FORM),
    "admin.reactivate": (["POST"], ADMIN_ONLY),
    "admin.resend_invitation": (["POST"], ADMIN_ONLY),
    "admin_campaigns.campaigns": (["GET"], ADMIN_ONLY),
    "admin_campaigns.unpublish": (["POST"], ADMIN_ONLY),
    "admin_campaigns.audit": (["GET"], ADMIN_ONLY),
    "admin_mailing.subscribers": (["GET"], ADMIN_ONLY),
    "admin_exports.admin_index": (["GET"], ADMIN_ONLY),
    # Downloads: those allowed are first sent to confirm their password (a redirect, "ok").
    "admin_exports.admin_export_csv": (["GET"], ADMIN_ONLY),
    "admin_exports.admin_export_xlsx": (["GET"], ADMIN_ONLY),
    "admin_mailing.lift_suppression_view": (["POST"], ADMIN_ONLY),
    # Without the confirming tick, erase changes nothing: the admin is sent back ("ok").
    "admin_privacy.send_data": (["POST"], ADMIN_ONLY),
    "admin_privacy.erase": (["POST"], ADMIN_ONLY),
    "campaigns_manage.dashboard": (["GET"], ANY_ACCOUNT),
    "campaigns_manage.new_campaign": (["GET"], ANY_ACCOUNT),
    "campaigns_manage.preview": (["POST"], ANY_ACCOUNT),
    "campaigns_manage.edit_campaign": (["GET"], OWNER),
    "campaigns_manage.organizers": (["GET"], OWNER),
    "campaigns_manage.change_status": (["POST"], OWNER),
    "campaigns_manage.new_demand": (["POST"], OWNER),
    "campaigns_manage.change_demand": (["POST"], OWNER),
    "campaigns_manage.remove_organizer_view": (["POST"], OWNER),
    "petitions_manage.new_petition": (["GET"], OWNER),
    "petitions_manage.edit_petition": (["GET"], OWNER),
    "petitions_manage.delivery_pack": (["GET"], OWNER),
    "signatures_manage.signatures": (["GET"], OWNER),
    "signatures_manage.numbers": (["GET"], OWNER),
    "paper.paper_import": (["GET"], OWNER),
    "paper.paper_template": (["GET"], OWNER),
    "paper.paper_import_post": (["POST"], OWNER_EMPTY_FORM),
    "signatures_manage.campaign_audit": (["GET"], OWNER),
    "signatures_manage.hide": (["POST"], OWNER),
    "signatures_manage.show": (["POST"], OWNER),
    "signatures_manage.invalidate": (["POST"], OWNER),
    "signatures_manage.restore": (["POST"], OWNER),
    "exports_manage.export_form": (["GET"], OWNER),
    "exports_manage.export_csv": (["GET"], OWNER),
    "exports_manage.export_xlsx": (["GET"], OWNER),
    "exports_manage.campaign_log": (["GET"], OWNER),
    "events_manage.new_event": (["GET"], OWNER),
    "events_manage.edit_event": (["GET"], OWNER),
    "events_manage.show_event": (["GET"], OWNER),
    "events_manage.cancel": (["POST"], OWNER_EMPTY_FORM),
    "events_manage.attendees": (["GET"], OWNER),
    "events_manage.attendees_csv": (["GET"], OWNER),
    "events_manage.check_in": (["GET"], OWNER),
    "events_manage.check_in_rsvp": (["POST"], OWNER_EMPTY_BUTTON),
    "mailing_manage.mailings": (["GET"], OWNER),
    "mailing_manage.new_mailing": (["GET"], OWNER),
    "mailing_manage.audience_count": (["GET"], OWNER),
    "mailing_manage.edit_mailing": (["GET"], OWNER),
    "mailing_manage.show_mailing": (["GET"], OWNER),
    "mailing_manage.preview_html": (["GET"], OWNER),
    "mailing_manage.progress": (["GET"], OWNER),
    # A draft: the test goes to whoever asks; the others are refused with a message (303).
    "mailing_manage.send_test_email": (["POST"], OWNER),
    "mailing_manage.send_now": (["POST"], OWNER_EMPTY_FORM),
    "mailing_manage.schedule": (["POST"], OWNER_EMPTY_FORM),
    "mailing_manage.cancel": (["POST"], OWNER_EMPTY_FORM),
    "mailing_manage.unschedule": (["POST"], OWNER),
    "mailing_manage.pause": (["POST"], OWNER),
    "mailing_manage.resume": (["POST"], OWNER),
    "api_manage.tokens": (["GET"], ANY_ACCOUNT),
    # Making a token first asks those allowed to confirm their password (a redirect, "ok").
    "api_manage.create_token": (["POST"], ANY_ACCOUNT),
    "api_manage.revoke_token": (["POST"], OWNER),
    "webhooks_manage.webhooks_list": (["GET"], OWNER),
    # Adding first asks those allowed to confirm their password (a redirect, "ok").
    "webhooks_manage.add_webhook": (["POST"], OWNER),
    "webhooks_manage.show_webhook": (["GET"], OWNER),
    "webhooks_manage.enable_webhook": (["POST"], OWNER),
    "webhooks_manage.test_webhook": (["POST"], OWNER),
    "webhooks_manage.rotate_webhook_secret": (["POST"], OWNER),
    # Without the button's confirm field, nothing is deleted (400).
    "webhooks_manage.delete_webhook": (["POST"], OWNER_EMPTY_BUTTON),
}


@pytest.fixture
def world(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        admin = User(email="admin@example.org", email_key="admin@example.org", role=UserRole.ADMIN)
        organizer_a = User(email="a@example.org", email_key="a@example.org")
        organizer_b = User(email="b@example.org", email_key="b@example.org")
        db.session.add_all([admin, organizer_a, organizer_b])
        campaign_a = make_campaign(slug="campaign-a")
        campaign_a.organizers.append(organizer_a)
        make_campaign(slug="campaign-b").organizers.append(organizer_b)
        petition_a = make_petition(campaign=campaign_a, slug="petition-a")
        event_a = make_event(campaign_a, slug="event-a")
        rsvp_a = make_rsvp(event_a, "attendee@example.org")
        mailing_a = create_mailing(campaign_a, MailingDetails(subject="News", body="Hello"),
                                   author=organizer_a)
        db.session.commit()
        sign_petition(petition_a, signer(email="supporter@example.org"))
        token_a, _secret = create_token(organizer_a, "A's CRM")
        # An IP literal: no DNS lookup; a test notice to it is refused (loopback) at once.
        endpoint_a = WebhookEndpoint(campaign_id=campaign_a.id, user_id=organizer_a.id,
                                     url="https://127.0.0.1:9/placard", secret="s" * 43)
        db.session.add(endpoint_a)
        db.session.commit()
        ids = {"campaign": campaign_a.id, "petition": petition_a.id,
               "signature": db.session.scalars(select(Signature.id)).one(),
               "demand": campaign_a.demands[0].id, "user": organizer_a.id,
               "event": event_a.id, "rsvp": rsvp_a.id, "mailing": mailing_a.id,
               "supporter": rsvp_a.supporter_id, "token": token_a.id,
               "endpoint": endpoint_a.id}
        users = {"organizer_a": organizer_a.get_id(), "organizer_b": organizer_b.get_id(),
                 "admin": admin.get_id()}
    return app, ids, users


def _url_values(rule, ids):
    """Argument values naming A's objects: ``<int:id>`` means the object the endpoint is about."""
    values = {}
    for argument in rule.arguments:
        if argument == "token":
            values[argument] = "made-up-token"
        elif argument in {"campaign_id", "petition_id", "signature_id", "demand_id", "user_id",
                          "event_id", "rsvp_id", "mailing_id", "supporter_id", "token_id",
                          "endpoint_id"}:
            values[argument] = ids[argument.removesuffix("_id")]
        elif argument == "id":
            kind = next((k for k in ("signature", "petition", "demand", "campaign")
                         if k in rule.endpoint or k in rule.rule), "campaign")
            values[argument] = ids[kind]
        elif argument in {"slug", "name"}:
            values[argument] = "campaign-a"
        else:
            values[argument] = "x"
    return values


def _client_as(app, users, role):
    client = app.test_client()
    if role != "anonymous":
        with client.session_transaction() as session:
            session["_user_id"] = users[role]
            session["_fresh"] = True
    return client


def _outcome(response):
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/organize/login" in location:
        return "login"
    if response.status_code == 404:
        return "hidden"
    if response.status_code < 400:
        return "ok"
    return response.status_code


def private_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith(PRIVATE_PREFIXES)), key=lambda rule: rule.rule)


def test_every_private_route_has_a_rule_in_the_matrix(world):
    app, _ids, _users = world
    missing = sorted({rule.endpoint for rule in private_rules(app)} - set(ROUTES))
    assert not missing, f"private routes without an access rule in ROUTES: {missing}"


@pytest.mark.parametrize("role", ["anonymous", "organizer_a", "organizer_b", "admin"])
def test_each_role_gets_what_the_matrix_says(world, role):
    app, ids, users = world
    failures = []
    for rule in private_rules(app):
        methods, expectations = ROUTES.get(rule.endpoint, ([], {}))
        for method in methods:
            if method not in rule.methods:
                continue
            with app.test_request_context():
                url = url_for(rule.endpoint, **_url_values(rule, ids))
            client = _client_as(app, users, role)
            outcome = _outcome(client.open(url, method=method))
            if outcome != expectations[role]:
                failures.append(f"{method} {url}: {outcome}, expected {expectations[role]}")
    assert not failures, "\n".join(failures)
