"""A supporter RSVPs to the demo picket in a real browser and confirms from the email; the
picket sign prints a QR code that a real QR reader decodes to the petition, with the
event as its source."""

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PICKET = "/events/armistice-day-picket-toronto"


def test_supporter_rsvps_to_the_picket_and_confirms_from_the_email(page, live_server):
    address = "kim.ok-sun@example.org"
    page.goto(PICKET)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Armistice Day picket")
    form = page.locator("#rsvp form")
    form.get_by_label("Your name", exact=True).fill("Kim Ok-sun")
    form.get_by_label("Email", exact=True).fill(address)
    form.get_by_label("Guests coming with you", exact=True).fill("1")
    form.get_by_role("button", name="RSVP", exact=True).click()
    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()

    [message] = live_server.emails_to(address)
    attachments = [part for part in message.iter_attachments()
                   if part.get_content_type() == "text/calendar"]
    assert attachments and "BEGIN:VEVENT" in attachments[0].get_content()
    body = message.get_body(("plain",)).get_content()
    link = re.search(re.escape(live_server.url) + r"/events/rsvp/[A-Za-z0-9_\-]+", body).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your place", level=1)).to_be_visible()
    page.get_by_role("button", name="Confirm my place").click()
    expect(page.get_by_role("heading", name="You're going", level=1)).to_be_visible()
    # The attendee's own page: what they can still do.
    expect(page.get_by_role("button", name="Cancel my RSVP")).to_be_visible()


def test_the_picket_sign_prints_a_qr_code_that_opens_the_petition_for_this_event(page, live_server):
    page.goto(f"{PICKET}/picket-sign")
    expect(page.get_by_text("U.S. Sign a Peace Treaty with the DPRK Now!")).to_be_visible()
    qr_code = page.locator(".sign-qr svg")
    expect(qr_code).to_be_visible()
    picture = Image.open(io.BytesIO(qr_code.screenshot())).convert("L")
    # A quiet zone around the code, as on paper.
    framed = Image.new("L", (picture.width + 80, picture.height + 80), 255)
    framed.paste(picture, (40, 40))

    [result] = zxingcpp.read_barcodes(framed)
    url = urlsplit(result.text)
    assert f"{url.scheme}://{url.netloc}" == live_server.url
    assert url.path == "/petitions/us-sign-a-peace-treaty"
    assert parse_qs(url.query) == {"source": ["event-armistice-day-picket-toronto"]}

    # The address it opens is a working petition page that records the source.
    page.goto(result.text)
    expect(page.locator('input[name$="-source"]').first).to_have_value(
        "event-armistice-day-picket-toronto")
