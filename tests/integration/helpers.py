"""A supporter's browser, reduced to what the integration tests need."""

import re

import requests

from campaign.extensions import db
from tests.factories import make_petition


def create_petition(app, **overrides):
    with app.app_context():
        petition = make_petition(**overrides)
        db.session.commit()
        return {"id": petition.id, "slug": petition.slug, "title": petition.title}


class Visitor:
    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def sign(self, petition, **fields):
        page = self.session.get(f"{self.base}/petitions/{petition['slug']}", timeout=30)
        page.raise_for_status()
        prefix = f"p{petition['id']}"
        token = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page.text)
        values = {"first_name": "Ada", "last_name": "Lovelace", "postal_code": "M5V 2T6",
                  "country": "CA", "csrf_token": token.group(1)}
        values.update(fields)
        return self.session.post(f"{self.base}/petitions/{petition['slug']}/sign",
                                 data={f"{prefix}-{name}": value for name, value in values.items()},
                                 allow_redirects=False, timeout=30)

    def confirm(self, link):
        page = self.session.get(link, timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        return self.session.post(link, data={"csrf_token": token.group(1)}, timeout=30)


def confirm_link(message):
    text = message.get_body(("plain",)).get_content()
    match = re.search(r"https?://\S+/confirm/[A-Za-z0-9_\-]+", text)
    assert match, text
    return match.group(0)


def displayed_count(html):
    match = re.search(r'class="count"><strong>([\d,\u202f\u00a0 ]+)</strong>', html)
    assert match, "no count on the page"
    return int(re.sub(r"\D", "", match.group(1)))


def wait_for_email_status(app, where, wanted, timeout=20):
    """The outbox row's status once it reaches ``wanted`` (the worker commits just after sending)."""
    import time

    from sqlalchemy import select

    from campaign.mail.models import OutboundEmail

    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            emails = db.session.scalars(select(OutboundEmail).where(where)).all()
            if emails and all(email.status == wanted for email in emails):
                return emails
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox rows still {[e.status for e in emails]}, not {wanted}")
        time.sleep(0.1)
