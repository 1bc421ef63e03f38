"""Fixtures for the browser tests: the embedded app on a real port, and headless Chromium.

Both live for the whole session, because starting Chromium and building the app
cost far more than any one test; each test still gets its own browser context,
so cookies and sessions never leak from one test to the next.
"""

import email
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from email import policy
from email.utils import getaddresses
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM_INSTALL = "apt-get install chromium"

CHROMIUM_ARGS = [
    # Containers and CI runners usually lack the user namespaces the sandbox needs.
    "--no-sandbox",
    "--disable-gpu",
    # /dev/shm is tiny in Docker; Chromium crashes on big pages when it fills up.
    "--disable-dev-shm-usage",
    # No update checks, sync or first-run chores: they only add start-up time and
    # network traffic the tests cannot use.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Generous, as the first page view also warms the template and country caches.
DEFAULT_TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    url: str
    app: object
    outbox: Path

    def emails_to(self, address, timeout=5.0):
        """The .eml messages addressed to ``address``, waiting up to ``timeout`` for the first."""
        deadline = time.monotonic() + timeout
        while True:
            found = [message for message in self._messages() if _addressed_to(message, address)]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def _messages(self):
        if not self.outbox.is_dir():
            return []
        return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
                for path in sorted(self.outbox.glob("*.eml"))]


def _addressed_to(message, address):
    recipients = getaddresses(message.get_all("To", []))
    return address.lower() in {recipient.lower() for _name, recipient in recipients}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from campaign import create_app
    from campaign.demo import load_demo
    from campaign.extensions import db

    root = tmp_path_factory.mktemp("live-server")
    # Bound before the app is built, so PUBLIC_URL can name the port and no other
    # process can take it before the server starts listening.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "x" * 40,
        "INSTANCE_PATH": str(root / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'placard.sqlite'}",
        "PUBLIC_URL": url,
        # Pinned so a DATABASE_URL/REDIS_URL exported for the integration suite
        # cannot turn this into a production app that needs a broker and SMTP.
        "PLACARD_MODE": "embedded",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "memory://",
        "TASKS_EAGER": True,
        "MAIL_TRANSPORT": "outbox",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SIGN_RATE_LIMIT": "1000 per minute",
    })
    with app.app_context():
        db.create_all()
        load_demo()
        db.session.commit()

    server = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
    # The server works on its own duplicate of the descriptor.
    listener.close()
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, app=app, outbox=Path(app.config["OUTBOX_DIR"]))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def chromium():
    executable = shutil.which("chromium")
    if executable is None:
        # A missing browser is a broken test environment, not a reason to pass
        # silently: Playwright's own download cannot work here.
        pytest.fail(
            f"Chromium is not installed (no `chromium` on PATH). Run `{CHROMIUM_INSTALL}` "
            "and run the browser tests again.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, live_server):
    # The tests find fields by their English labels; the app picks its language
    # from Accept-Language, which follows the context's locale.
    context = chromium.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
