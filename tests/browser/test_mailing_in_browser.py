"""An organizer writes to a campaign's supporters in a real browser: the audience count
follows the form, the preview loads in its sandboxed frame under the site's CSP, and the
progress of a send updates on its own."""

import itertools
import os

import pytest
from playwright.sync_api import expect

from campaign.campaigns.models import Campaign
from campaign.db import utcnow
from campaign.extensions import db
from campaign.mailing import sending
from campaign.mailing.compose import MailingDetails, create_mailing
from campaign.mailing.models import Mailing
from campaign.mailing.services import record_consent
from campaign.signatures.models import Supporter
from campaign.signatures.services import find_or_create_supporter_id
from tests.browser.test_organizer_in_browser import log_in
from tests.factories import make_campaign
from tests.factories_accounts import make_user

pytestmark = pytest.mark.browser

_numbers = itertools.count(1)
# Set to a folder to keep screenshots of the pages, for a look at their layout.
SCREENSHOTS = os.environ.get("PLACARD_SCREENSHOTS")


@pytest.fixture
def world(live_server):
    number = next(_numbers)
    with live_server.app.app_context():
        user = make_user(email=f"mailer-{number}@example.org", name="Ana Organizer")
        campaign = make_campaign(slug=f"mailing-{number}", title="Homes for All")
        campaign.organizers.append(user)
        for index, country in enumerate(["CA", "CA", "FR"]):
            email = f"supporter-{number}-{index}@example.org"
            supporter = db.session.get(Supporter, find_or_create_supporter_id(email, "en"))
            supporter.first_name, supporter.country = f"Supporter{index}", country
            record_consent(supporter, campaign, "Keep me informed", "petition:test", utcnow())
        db.session.commit()
        return {"email": user.email, "campaign": campaign.id, "number": number}


def watch_console(page):
    errors = []
    page.on("console", lambda message: message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico")
            and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_organizer_composes_previews_and_sends(page, live_server, world):
    errors = watch_console(page)
    log_in(page, world["email"])
    page.goto(f"/organize/campaigns/{world['campaign']}/edit")
    page.get_by_role("link", name="Write to supporters").click()

    page.get_by_label("Subject", exact=True).fill("News for {{ first_name }}")
    page.get_by_label("Message", exact=True).fill('Hello {{ first_name or "friend" }}, the picket is **on**.')
    count = page.locator("#audience-count")
    expect(count).to_have_text("This audience holds 3 people right now.")
    # The count follows the narrowing as it is chosen, before anything is saved.
    page.get_by_label("Who live in").select_option("CA")
    expect(count).to_have_text("This audience holds 2 people right now.")
    shot(page, "compose")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_text("Draft saved. This audience holds 2 people right now.")).to_be_visible()
    frame = page.frame_locator("iframe.mailing-frame")
    expect(frame.locator("strong")).to_have_text("on")
    expect(frame.get_by_text("Hello Ana, the picket is")).to_be_visible()
    expect(page.locator(".mailing-text")).not_to_be_visible()
    page.get_by_role("button", name="Show text version").click()
    expect(page.locator(".mailing-text")).to_contain_text("Hello Ana, the picket is **on**.")

    page.get_by_role("link", name="News for {{ first_name }}").click()
    expect(page.frame_locator("iframe.mailing-frame").get_by_text("Hello Ana, the picket is")).to_be_visible()
    shot(page, "show-draft")
    page.get_by_label("I have checked the preview and the audience.").check()
    page.get_by_role("button", name="Send now to 2 people").click()
    expect(page.get_by_text("Sending has started: 2 messages.")).to_be_visible()
    expect(page.locator("#progress [data-progress=sent]")).to_have_text("2")
    shot(page, "show-sent")
    assert errors == []


def test_the_progress_of_a_send_updates_on_its_own(page, live_server, world, monkeypatch):
    errors = watch_console(page)
    with live_server.app.app_context():
        campaign = db.session.get(Campaign, world["campaign"])
        mailing = create_mailing(campaign, MailingDetails(subject="Going out", body="Hello"), author=None)
        db.session.commit()
        # Sending starts with nobody at work on it: the page shows it waiting.
        monkeypatch.setattr(sending, "_ask_for_batches", lambda mailing_id: None)
        sending.start_mailing(mailing)
        db.session.commit()
        monkeypatch.undo()
        mailing_id = mailing.id
    log_in(page, world["email"])
    page.goto(f"/organize/mailings/{mailing_id}")
    expect(page.locator("#progress [data-progress=waiting]")).to_have_text("3")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    shot(page, "show-sending")

    with live_server.app.app_context():
        sending.send_batch(mailing_id)
        assert db.session.get(Mailing, mailing_id).status == "sent"

    # The page polls, sees the mailing finished, and shows it as sent.
    expect(page.locator(".status-sent").first).to_be_visible(timeout=10_000)
    expect(page.locator("#progress [data-progress=sent]")).to_have_text("3")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    assert errors == []
