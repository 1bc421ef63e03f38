"""The API keeps the promises of its OpenAPI document: schemathesis against a live server.

gunicorn serves the app on a fresh, migrated PostgreSQL database; a campaign with a
petition, an event, a signature, an RSVP, a tag and a subscriber is seeded through
the API itself. Schemathesis then reads /api/v2/openapi.json from the server and
sends every operation generated requests (mostly with the seeded records' ids, now
and then with made-up ones): no answer may be a 5xx, and every answer must have a
status the document lists and a body its schema accepts.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from campaign import create_app
from campaign.accounts.models import UserRole
from campaign.api.tokens import create_token
from campaign.extensions import db
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_campaign
from tests.factories_accounts import make_user
from tests.support.services import create_database, free_port, stop_process

pytestmark = pytest.mark.integration

VENV_BIN = Path(sys.executable).parent
TOKEN_HEADER = "OSDI-API-Token"
# Requests per operation and phase, bounded so the run takes about a minute on two cores.
MAX_EXAMPLES = 12
SEED = 20260727
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


def _config(database_url, instance_path, public_url=""):
    return {
        "PLACARD_MODE": "embedded",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "INSTANCE_PATH": str(instance_path),
        "EMBEDDED_SCHEDULER": False,
        **({"PUBLIC_URL": public_url} if public_url else {}),
    }


@pytest.fixture(scope="module")
def schema_database(postgres_base_url, tmp_path_factory):
    """A database of its own, built from the models: the migrations have their own tests
    (test_postgres_schema.py), this one is about the API's contract."""
    url = create_database(postgres_base_url, "placard_api_schema")
    app = create_app(_config(url, tmp_path_factory.mktemp("schema-db")))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


@pytest.fixture(scope="module")
def api_server(schema_database, tmp_path_factory):
    """gunicorn on a free loopback port, embedded mode (tasks in-process, a file outbox)."""
    folder = tmp_path_factory.mktemp("schema-server")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PLACARD_", "DATABASE_URL", "REDIS_URL", "SMTP_", "CELERY_"))}
    env.update({
        "PLACARD_MODE": "embedded",
        "PLACARD_INSTANCE_PATH": str(folder),
        "DATABASE_URL": schema_database,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PUBLIC_URL": base,
        "EMBEDDED_SCHEDULER": "false",
        "API_RATE_LIMIT": "1000 per second",
        "LOG_LEVEL": "WARNING",
    })
    log = open(folder / "web.log", "wb")  # noqa: SIM115 - closed with the process
    # One worker: the rate limiter's memory storage is per process.
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "gthread",
         "--threads", "4", "campaign:create_app()"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    try:
        _wait_until_ready(base, process, folder / "web.log")
        yield base, folder
    finally:
        stop_process(process)
        log.close()


def _wait_until_ready(base, process, log_path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited early:\n" + log_path.read_text(errors="replace"))
        try:
            if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("the web server did not become ready")


def _uuid(resource):
    return resource["identifiers"][0].removeprefix("placard:")


class Seeded:
    """An organizer's campaign and token, and one record of each kind made through the API."""

    def __init__(self, base, database_url, instance_path):
        app = create_app(_config(database_url, instance_path, public_url=base))
        with app.app_context():
            organizer = make_user(role=UserRole.ORGANIZER)
            campaign = make_campaign(slug="schema-campaign")
            campaign.organizers.append(organizer)
            db.session.flush()
            self.token = create_token(organizer, "Schemathesis")[1]
            self.list_id = campaign.uuid
            db.session.commit()
            db.engine.dispose()
        self.api = f"{base}/api/v2"
        self.session = requests.Session()
        self.session.headers[TOKEN_HEADER] = self.token
        petition = self.post("/petitions", {"title": "Fund the library",
                                            "target": [{"name": "City Council"}],
                                            "petition_text": "Keep it open."})
        event = self.post("/events", {"title": "Read-in", "status": "confirmed",
                                      "start_date": "2030-07-27T18:00:00Z",
                                      "end_date": "2030-07-27T20:00:00Z", "capacity": 10_000,
                                      "location": {"venue": "Library", "locality": "Toronto"}})
        self.petition_id, self.event_id = _uuid(petition), _uuid(event)
        person = {"given_name": "Ada", "family_name": "Lovelace",
                  "email_addresses": [{"address": "ada@example.org", "status": "subscribed"}],
                  "postal_addresses": [{"postal_code": "M5V 2T6", "country": "CA"}]}
        self.person_id = _uuid(self.post("/people", {"person": person, "add_tags": ["reader"]}))
        self.signature_id = _uuid(self.post(f"/petitions/{self.petition_id}/signatures",
                                            {"person": person, "comments": "Yes."}))
        self.attendance_id = _uuid(self.post(f"/events/{self.event_id}/attendances",
                                             {"person": person}))
        tag = self.session.get(f"{self.api}/tags", timeout=10).json()["_embedded"]["osdi:tags"][0]
        self.tag_id = _uuid(tag)
        taggings = self.session.get(f"{self.api}/tags/{self.tag_id}/taggings", timeout=10).json()
        self.tagging_id = _uuid(taggings["_embedded"]["osdi:taggings"][0])

    def post(self, path, body):
        response = self.session.post(self.api + path, json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def ids(self):
        """Each path parameter of the document, and the seeded record it can name."""
        return {"person_id": self.person_id, "petition_id": self.petition_id,
                "signature_id": self.signature_id, "event_id": self.event_id,
                "attendance_id": self.attendance_id, "tag_id": self.tag_id,
                "tagging_id": self.tagging_id, "list_id": self.list_id,
                "item_id": self.person_id}


def _schemathesis_config(ids):
    """Path ids are the seeded records' nine times in ten; made-up ones (a 404) otherwise."""
    lines = []
    for name, value in ids.items():
        lines += [f"[dictionaries.{name}]", f'values = ["{value}"]', ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.9 }}' for name in ids]
    return "\n".join(lines) + "\n"


def test_every_operation_answers_as_the_openapi_document_says(api_server, schema_database,
                                                              tmp_path):
    base, folder = api_server
    seeded = Seeded(base, schema_database, tmp_path / "seed")
    config = tmp_path / "schemathesis.toml"
    config.write_text(_schemathesis_config(seeded.ids()))
    command = [
        str(VENV_BIN / "schemathesis"), "--config-file", str(config), "run",
        f"{base}/api/v2/openapi.json",
        "--header", f"{TOKEN_HEADER}: {seeded.token}",
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
        "--phases", "examples,coverage,fuzzing",
        "--workers", "1", "--request-timeout", "10",
        "--generation-database", "none", "--no-color",
        "--report", "junit", "--report-junit-path", str(tmp_path / "junit.xml"),
    ]
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, timeout=180,
                         cwd=tmp_path, check=False)
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    print(output[-6000:])
    print(f"schemathesis took {elapsed:.0f} s")
    server_log = (folder / "web.log").read_text(errors="replace")
    assert run.returncode == 0, output[-20000:] + "\n--- server log ---\n" + server_log[-5000:]
    assert "Traceback" not in server_log, server_log[-5000:]
