"""Fixtures shared by every kind of test. Integration fixtures live in tests/integration."""

import re
from pathlib import Path

import pytest

from campaign import create_app
from campaign.extensions import db

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-production"


def unit_config(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": TEST_SECRET_KEY,
        "PUBLIC_URL": "http://localhost",
        "SERVER_NAME": "localhost",
        "SIGN_RATE_LIMIT": "1000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": False,
        "PAGE_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    return config


@pytest.fixture
def make_app(tmp_path):
    """Build an embedded-mode app on an in-memory SQLite database, with its schema."""
    def build(**overrides):
        app = create_app(unit_config(tmp_path, **overrides))
        with app.app_context():
            db.create_all()
        return app
    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


class Outbox:
    """The emails an embedded app "sent": the .eml files in its outbox folder."""

    def __init__(self, app):
        self.folder = Path(app.config["OUTBOX_DIR"])

    def messages(self):
        import email
        from email import policy

        if not self.folder.is_dir():
            return []
        return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
                for path in sorted(self.folder.glob("*.eml"))]

    def to(self, address):
        return [m for m in self.messages() if m["To"] == address]

    @staticmethod
    def text(message):
        return message.get_body(("plain",)).get_content()

    @classmethod
    def link(cls, message, path="/confirm/"):
        pattern = r"https?://[^\s]+" + re.escape(path) + r"[A-Za-z0-9_\-]+"
        match = re.search(pattern, cls.text(message))
        assert match, f"no {path} link in: {cls.text(message)}"
        return match.group(0)


@pytest.fixture
def outbox(app):
    return Outbox(app)
