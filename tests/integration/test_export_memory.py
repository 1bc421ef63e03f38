"""Ana downloads her campaign's 200,000 signatures as CSV from production gunicorn:
every row arrives exactly once, and the worker's memory stays flat while it streams.

The stack's own gunicorn runs two gthread workers and does not say which one
serves a request, so this test starts its own, with the stack's settings and one
sync worker (production's worker class), and reads that worker's peak resident
memory (``VmHWM``) from /proc.
"""

import csv
import io
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from campaign.extensions import db
from tests.factories import make_petition
from tests.factories_accounts import DEFAULT_PASSWORD, make_user
from tests.support.services import free_port, stop_process

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).parents[2]
ROWS = 200_000
COLUMNS = ("first_name", "last_name", "email", "postal_code", "country", "signed_at")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
MAX_PEAK_KB = 150 * 1024
MAX_GROWTH_KB = 60 * 1024
# Accents, an apostrophe, a comma and a double quote: the CSV writer has quoting to do.
FIRST_NAMES = ("Ada", "Zoë", "Kwame", "Mei", "José", "Olga")
LAST_NAMES = ("Lovelace", "O'Brien", "Nguyễn", "Smith, Jr.", 'Kowalczyk "Kowal"', "Okafor")
POSTAL_CODES = ("M5V 2T6", "H2X 1Y4", "", "K1P 5J2")
COUNTRIES = ("CA", "CA", "US", "FR", "CA")


def _signer(tag, number):
    return (FIRST_NAMES[number % len(FIRST_NAMES)], LAST_NAMES[number % len(LAST_NAMES)],
            f"export-{tag}-{number}@example.org", POSTAL_CODES[number % len(POSTAL_CODES)],
            COUNTRIES[number % len(COUNTRIES)], EPOCH + timedelta(seconds=number))


def _memory_kb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@pytest.fixture
def export_server(stack, tmp_path):
    """One production gunicorn sync worker on the stack's database and broker:
    (base address, worker pid, log file)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(stack.env, PUBLIC_URL=base, PLACARD_INSTANCE_PATH=str(tmp_path))
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "sync",
         "--timeout", "120", "campaign:create_app()"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "web.log").read_text(errors="replace")[-3000:]
            try:
                if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the export server did not become ready"
            time.sleep(0.2)
        workers = _children(process.pid)
        assert len(workers) == 1, workers
        yield base, workers[0], tmp_path / "web.log"
    finally:
        stop_process(process)
        log.close()


@pytest.fixture
def seeded_campaign(stack_app):
    """A campaign organized by one organizer, one petition with ROWS confirmed signatures."""
    tag = uuid.uuid4().hex[:10]
    with stack_app.app_context():
        petition = make_petition(title="Export me")
        organizer = make_user(role="organizer", email=f"ana-{tag}@example.org")
        petition.campaign.organizers.append(organizer)
        db.session.commit()
        ids = {"campaign": petition.campaign_id, "petition": petition.id, "user": organizer.id,
               "email": organizer.email}
        connection = db.engine.raw_connection()
        try:
            with connection.cursor() as cursor:
                with cursor.copy("COPY supporters (email, email_key, first_name, last_name, "
                                 "postal_code, country, locale, created_at, updated_at) "
                                 "FROM STDIN") as copy:
                    for number in range(ROWS):
                        first, last, email, postal, country, signed = _signer(tag, number)
                        copy.write_row((email, email, first, last, postal, country, "en",
                                        signed, signed))
                cursor.execute(
                    "INSERT INTO signatures (petition_id, supporter_id, status, first_name, "
                    "last_name, postal_code, country, comment, wants_updates, consent_wording, "
                    "source, locale, created_at, updated_at, confirmed_at, petition_version, "
                    "utm_source, utm_medium, utm_campaign, referrer_host, is_comment_hidden, "
                    "invalidated_reason) "
                    "SELECT %s, id, 'confirmed', first_name, last_name, postal_code, country, '', "
                    "false, '', 'test', 'en', created_at, created_at, created_at, 1, '', '', '', "
                    "'', false, '' FROM supporters WHERE email_key LIKE %s",
                    (ids["petition"], f"export-{tag}-%"))
                assert cursor.rowcount == ROWS
            connection.commit()
        finally:
            connection.close()
    yield tag, ids
    with stack_app.app_context():
        db.session.execute(text("DELETE FROM signatures WHERE petition_id = :id"),
                           {"id": ids["petition"]})
        db.session.execute(text("DELETE FROM supporters WHERE email_key LIKE :pattern"),
                           {"pattern": f"export-{tag}-%"})
        db.session.commit()


def _log_in(base, email, password, log):
    session = requests.Session()
    page = session.get(f"{base}/organize/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, log.read_text(errors="replace")[-3000:]
    response = session.post(f"{base}/organize/login", allow_redirects=False, timeout=30,
                            data={"email": email, "password": password, "next": "",
                                  "csrf_token": token.group(1)})
    assert response.status_code == 303, response.text
    return session


def test_a_200000_row_export_arrives_whole_in_flat_memory(export_server, seeded_campaign, stack_app):
    base, worker, log = export_server
    tag, ids = seeded_campaign
    session = _log_in(base, ids["email"], DEFAULT_PASSWORD, log)
    # Logging in hashed a password with Argon2 (64 MiB for a moment): start the worker's
    # peak again from what it holds now, so that the peak measured is the export's.
    Path(f"/proc/{worker}/clear_refs").write_text("5")
    rss_before = _memory_kb(worker, "VmRSS")

    chunks = []
    with session.get(f"{base}/organize/campaigns/{ids['campaign']}/export.csv", stream=True,
                     timeout=(10, 120),
                     params={"petition": ids["petition"], "status": "confirmed",
                             "columns": ",".join(COLUMNS)}) as response:
        assert response.status_code == 200, log.read_text(errors="replace")[-3000:]
        assert "no-store" in response.headers["Cache-Control"]
        assert response.headers["Content-Type"].startswith("text/csv")
        for chunk in response.iter_content(64 * 1024):
            chunks.append(chunk)
    peak = _memory_kb(worker, "VmHWM")
    # Shown with pytest -s (or -rP): the figures behind the bounds below.
    print(f"\nexport of {ROWS:,} rows: worker RSS {rss_before / 1024:.1f} MB before, "
          f"peak {peak / 1024:.1f} MB during")

    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    received = [(*row[:5], datetime.fromisoformat(row[5])) for row in rows[1:]]
    assert len(received) == ROWS
    assert set(received) == {_signer(tag, number) for number in range(ROWS)}

    assert peak < MAX_PEAK_KB, f"the worker's peak RSS was {peak / 1024:.0f} MB"
    assert peak - rss_before < MAX_GROWTH_KB, (
        f"the worker grew from {rss_before / 1024:.0f} MB to a peak of {peak / 1024:.0f} MB")

    deadline = time.monotonic() + 10
    while True:
        with stack_app.app_context():
            records = db.session.execute(text(
                "SELECT row_count, status FROM export_records "
                "WHERE campaign_id = :campaign AND actor_id = :user"),
                {"campaign": ids["campaign"], "user": ids["user"]}).all()
        if records and records[0][1] != "streaming":
            break
        assert time.monotonic() < deadline, f"the export's record is still {records}"
        time.sleep(0.2)
    assert [tuple(record) for record in records] == [(ROWS, "complete")]
