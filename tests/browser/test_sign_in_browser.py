"""A supporter signs a petition in a real browser, as they would on the demo campaign page."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CAMPAIGN_PATH = "/campaigns/end-the-korean-war"


def first_sign_form(page):
    # Each petition's sign section is a region named by its heading; the campaign
    # page shows one per petition, and the first belongs to the first petition.
    return page.get_by_role("region", name="Sign this petition").first.locator("form")


def fill_sign_form(form, *, first_name, last_name, email, postal_code, country, comment):
    form.get_by_label("First name", exact=True).fill(first_name)
    form.get_by_label("Last name", exact=True).fill(last_name)
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("Postal code", exact=True).fill(postal_code)
    form.get_by_label("Country", exact=True).select_option(country)
    form.get_by_label("Comment (optional)", exact=True).fill(comment)
    form.get_by_label("Keep me informed about this campaign", exact=True).check()


def test_supporter_signs_and_is_sent_a_confirmation_email(page, live_server):
    address = "ri.sol-ju@example.org"
    page.goto(CAMPAIGN_PATH)
    form = first_sign_form(page)
    fill_sign_form(form, first_name="Ri", last_name="Sol-ju", email=address, postal_code="H2X 1Y4",
                   country="CA", comment="Peace now.")

    form.get_by_role("button", name="Sign", exact=True).click()

    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()
    expect(page.get_by_text(address)).to_be_visible()
    messages = live_server.emails_to(address)
    assert len(messages) == 1, f"expected one email to {address} in {live_server.outbox}"
    body = messages[0].get_body(("plain",)).get_content()
    # The link must lead back to this server, or the supporter could never confirm.
    assert f"{live_server.url}/confirm/" in body


def test_invalid_email_is_explained_next_to_the_field_and_typing_is_kept(page, live_server):
    page.goto(CAMPAIGN_PATH)
    fill_sign_form(first_sign_form(page), first_name="Kim", last_name="Ha-neul",
                   email="kim.at.example.org", postal_code="M5V 2T6", country="CA",
                   comment="For a peace treaty.")

    first_sign_form(page).get_by_role("button", name="Sign", exact=True).click()

    # The answer is a new page (the petition's own), so the form is looked up again.
    form = first_sign_form(page)
    email_field = form.get_by_label("Email", exact=True)
    expect(email_field).to_have_attribute("aria-invalid", "true")
    described_by = (email_field.get_attribute("aria-describedby") or "").split()
    descriptions = [page.locator(f'[id="{element_id}"]').inner_text() for element_id in described_by]
    assert any("This email address is not valid" in text for text in descriptions), descriptions
    # What a screen reader announces with the field, computed by the browser itself.
    expect(email_field).to_have_accessible_description(re.compile("This email address is not valid"))
    summary = page.get_by_role("region", name="Sign this petition").first.get_by_role("alert")
    expect(summary).to_contain_text("Please correct the fields marked below.")

    expect(email_field).to_have_value("kim.at.example.org")
    expect(form.get_by_label("First name", exact=True)).to_have_value("Kim")
    expect(form.get_by_label("Last name", exact=True)).to_have_value("Ha-neul")
    expect(form.get_by_label("Postal code", exact=True)).to_have_value("M5V 2T6")
    expect(form.get_by_label("Country", exact=True)).to_have_value("CA")
    expect(form.get_by_label("Comment (optional)", exact=True)).to_have_value("For a peace treaty.")
    expect(form.get_by_label("Keep me informed about this campaign", exact=True)).to_be_checked()
    assert live_server.emails_to("kim.at.example.org", timeout=0) == []
