"""An organizer logs in, writes a campaign with two demands and a petition, publishes it,
and the public sees it — in a real browser, with the pages' script running."""

import itertools
import re

import pytest
from playwright.sync_api import expect

from campaign.extensions import db
from tests.factories_accounts import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.browser

_numbers = itertools.count(1)


@pytest.fixture
def organizer_email(live_server):
    email = f"organizer-{next(_numbers)}@example.org"
    with live_server.app.app_context():
        make_user(email=email)
        db.session.commit()
    return email


def log_in(page, email):
    page.goto("/organize/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My campaigns", level=1)).to_be_visible()


def test_organizer_writes_publishes_and_the_public_sees_the_campaign(page, live_server, organizer_email):
    # A Content Security Policy violation or a script error shows up here (the
    # browser's own request for a favicon, which the site has none of, does not count).
    console_errors = []
    page.on("console", lambda message: message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico")
            and console_errors.append(message.text))
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    log_in(page, organizer_email)

    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Title", exact=True).fill("Stop the Arms Fair")
    # The address field shows what an empty one will become.
    expect(page.get_by_label("Web address")).to_have_attribute("placeholder", "stop-the-arms-fair")
    page.get_by_label("Summary", exact=True).fill("No weapons dealers in our city.")
    page.get_by_label("Text", exact=True).fill("The fair comes **every year**.")
    # The preview beside the text follows the typing, sanitised by the server.
    preview = page.locator("#body-preview")
    expect(preview.locator("strong")).to_have_text("every year")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_text("Campaign created as a draft.")).to_be_visible()

    for demand in ("Cancel the fair", "Divest the city's pension fund"):
        page.get_by_label("New demand", exact=True).fill(demand)
        page.get_by_role("button", name="Add demand").click()
        expect(page.get_by_text("Demand added.")).to_be_visible()
    expect(page.get_by_label("Demand 2", exact=True)).to_have_value("Divest the city's pension fund")

    page.get_by_role("link", name="New petition").click()
    page.get_by_label("Title", exact=True).fill("Cancel the Arms Fair")
    page.get_by_label("Addressed to", exact=True).fill("The Mayor")
    page.get_by_label("Text", exact=True).fill("We ask you to *cancel* the fair.")
    page.get_by_label("Signature goal", exact=True).fill("2000")
    page.get_by_role("button", name="Create petition").click()
    expect(page.get_by_text("Petition “Cancel the Arms Fair” created.")).to_be_visible()

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("The campaign is now: Published.")).to_be_visible()

    page.get_by_role("link", name="See the public page").click()
    expect(page).to_have_url(re.compile(r"/campaigns/stop-the-arms-fair$"))
    expect(page.get_by_role("heading", name="Stop the Arms Fair", level=1)).to_be_visible()
    demands = page.get_by_role("region", name="Our demands").get_by_role("listitem")
    expect(demands).to_have_text(["Cancel the fair", "Divest the city's pension fund"])
    expect(page.get_by_role("link", name="Cancel the Arms Fair")).to_be_visible()
    expect(page.get_by_text("To: The Mayor")).to_be_visible()
    expect(page.get_by_role("region", name="Sign this petition")).to_be_visible()
    assert console_errors == []
