"""How fast an API client reads a petition's signatures page by page, and records new ones.

    .venv/bin/python bench/api.py                      # 100,000 signatures, 5,000 creates
    .venv/bin/python bench/api.py --quick              # 10,000 and 500: a minute's check
    .venv/bin/python bench/api.py --signatures 50000 --creates 2000 --threads 1

It re-creates the database ``placard_bench_api`` and flushes Redis database 11 (and
no other), runs the migrations, and loads one campaign with one petition signed by N
supporters, every signature confirmed, with one COPY each for supporters and
signatures (their ``uuid`` columns take the database's default) and the petition's
count shards set to N. It makes an administrator and an API token for them
(``campaign.api.tokens.create_token``), serves Placard with gunicorn in production
mode on a free loopback port (``--workers`` sync workers, as docker-compose.yml runs
it; ``API_RATE_LIMIT`` high enough never to refuse), and measures:

1. **list**: ``GET /api/v2/petitions/<id>/signatures?per_page=25&page=P`` for every
   page, by ``--threads`` clients on requests.Sessions (each takes the next page
   number; with one thread that is following ``next``). Every signature must be seen
   exactly once. Prints records/s, requests/s, p50/p95 latency, and the latency of
   the first and the last pages (what a deep OFFSET costs). Then one request alone for
   the first, middle and last page, of the signatures and of ``/api/v2/people``.
2. **create**: ``--creates`` POSTs to the record signature helper with distinct
   addresses and ``triggers.autoresponse.enabled`` false, by the same clients; then
   ``total_signatures`` of ``GET /api/v2/petitions/<id>`` must be N + creates.

It prints the gunicorn workers' peak resident memory (``VmHWM``) and CPU, writes
results.json and the server's log under bench/results/ (ignored by git), stops every
process it started by its PID, and drops its database unless ``--keep-database``.
Everything listens on 127.0.0.1; every phase is bounded by ``--timeout``. On the code
measured in docs/performance.md ("The API") the default run takes about 7 minutes, nearly
all of it the listing's deep pages; ``--quick`` takes under a minute.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import redis
import requests
from export import (
    children,
    code_version,
    copy_signers,
    memory_kb,
    start_gunicorn,
    stop_gunicorn,
)
from procstats import cpu_seconds, free_port, say

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = ROOT / ".venv" / "bin"
DATABASE = "placard_bench_api"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/11"
PER_PAGE = 25
# Pages timed at each end of the listing, to show what a deep OFFSET costs.
EDGE_PAGES = 200


def environment(port, run_dir):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PLACARD_", "FLASK_"))}
    env.update({
        "PLACARD_MODE": "production", "PLACARD_INSTANCE_PATH": str(run_dir / "instance"),
        "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(48), "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "API_RATE_LIMIT": "1000000 per second",
        # Nothing listens there: no worker runs, no email is sent.
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
    })
    return env


def prepare(env, rows, log):
    """A fresh database: one campaign, one petition, ``rows`` confirmed signatures."""
    sys.path.insert(0, str(ROOT))
    from campaign.petitions.models import COUNT_SHARDS

    redis.Redis.from_url(REDIS_URL).flushdb()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    subprocess.run([str(VENV_BIN / "flask"), "--app", "campaign", "db", "upgrade"], cwd=ROOT,
                   env=env, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=120)
    started = time.perf_counter()
    with psycopg.connect(DATABASE_URL) as conn:  # one transaction, committed on leaving
        campaign_id = conn.execute(
            "INSERT INTO campaigns (slug, title, summary, body, status, published_at, share_image, "
            "unpublished_reason, created_at, updated_at) VALUES ('bench-api', 'API campaign', "
            "'', '', 'published', now(), '', '', now(), now()) RETURNING id").fetchone()[0]
        petition_id, petition_uuid = conn.execute(
            "INSERT INTO petitions (campaign_id, slug, title, target, body, goal, status, "
            "required_fields, consent_wording, signers_choose_demands, current_version, created_at, "
            "updated_at) VALUES (%s, 'bench-api', 'API petition', 'The Decision Maker', '', "
            "%s, 'open', '[\"postal_code\"]', '', false, 1, now(), now()) RETURNING id, uuid",
            (campaign_id, rows)).fetchone()
        # The count the API reports comes from these rows, never from a scan.
        conn.execute(
            "INSERT INTO petition_count_shards (petition_id, shard, confirmed) "
            "SELECT %s, shard, CASE WHEN shard = 0 THEN %s ELSE 0 END "
            "FROM generate_series(0, %s) shard", (petition_id, rows, COUNT_SHARDS - 1))
        copy_signers(conn, rows, petition_id)
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("ANALYZE supporters")
        conn.execute("ANALYZE signatures")
    return petition_id, petition_uuid, time.perf_counter() - started


def create_api_token(env):
    """An administrator and an API token of theirs (it sees every campaign: the one here)."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from campaign import create_app
    from campaign.accounts import services
    from campaign.api.tokens import create_token
    from campaign.extensions import db

    app = create_app()
    with app.app_context():
        user, _created = services.create_admin("bench-api@example.org", secrets.token_urlsafe(24))
        secret = create_token(user, "bench")[1]
        db.session.commit()
        db.engine.dispose()
    return secret


def drop_database():
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


# ---------------------------------------------------------------- the two phases


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def run_threads(count, work):
    errors = []

    def guarded(number):
        try:
            work(number)
        except Exception as error:  # reported, and the run fails
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=guarded, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])


def session_for(secret):
    session = requests.Session()
    session.headers.update({"OSDI-API-Token": secret, "Accept": "application/hal+json"})
    return session


def list_phase(base, secret, petition_uuid, expected, threads, timeout):
    url = f"{base}/api/v2/petitions/{petition_uuid}/signatures"
    first = session_for(secret).get(url, params={"per_page": PER_PAGE}, timeout=30).json()
    total_pages = first["total_pages"]
    lock = threading.Lock()
    next_page = iter(range(1, total_pages + 2))  # one past the end: it must be empty
    seen = {}
    latencies = {}  # page -> seconds
    closed = []  # answers that said Connection: close (gunicorn's sync workers keep none alive)
    deadline = time.monotonic() + timeout

    def work(_number):
        session = session_for(secret)
        while True:
            with lock:
                page = next(next_page, None)
            if page is None:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"listing took longer than {timeout} s")
            started = time.perf_counter()
            response = session.get(url, params={"per_page": PER_PAGE, "page": page}, timeout=60)
            body = response.json()
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"page {page} answered {response.status_code}: {body}")
            records = body["_embedded"]["osdi:signatures"]
            if page > total_pages and records:
                raise RuntimeError(f"page {page}, past the end, is not empty")
            if page < total_pages:
                following = parse_qs(urlsplit(body["_links"]["next"]["href"]).query)["page"]
                if following != [str(page + 1)]:
                    raise RuntimeError(f"page {page}'s next link is not page {page + 1}")
            with lock:
                latencies[page] = elapsed
                closed.append(response.headers.get("Connection", "").lower() == "close")
                for record in records:
                    identifier = record["identifiers"][0]
                    seen[identifier] = seen.get(identifier, 0) + 1

    started = time.perf_counter()
    run_threads(threads, work)
    elapsed = time.perf_counter() - started
    values = list(latencies.values())
    ordered_pages = sorted(latencies)
    head = [latencies[page] for page in ordered_pages[:EDGE_PAGES]]
    tail = [latencies[page] for page in ordered_pages[-EDGE_PAGES - 1:-1]]
    return {
        "pages": total_pages, "requests": len(latencies), "records": sum(seen.values()),
        "distinct": len(seen), "duplicates": sum(1 for count in seen.values() if count > 1),
        "complete": len(seen) == expected and all(count == 1 for count in seen.values()),
        "seconds": elapsed, "records_per_second": sum(seen.values()) / elapsed,
        "requests_per_second": len(latencies) / elapsed,
        "p50_ms": percentile(values, 0.5) * 1000, "p95_ms": percentile(values, 0.95) * 1000,
        "first_pages_p50_ms": percentile(head, 0.5) * 1000,
        "last_pages_p50_ms": percentile(tail, 0.5) * 1000,
        "connection_close_share": sum(closed) / max(len(closed), 1),
    }


def create_phase(base, secret, petition_uuid, creates, threads, run, timeout):
    url = f"{base}/api/v2/petitions/{petition_uuid}/signatures"
    lock = threading.Lock()
    numbers = iter(range(creates))
    latencies, statuses = [], {}
    deadline = time.monotonic() + timeout

    def work(_thread):
        session = session_for(secret)
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"creating took longer than {timeout} s")
            body = {"person": {"given_name": "Api", "family_name": f"Signer {number}",
                               "email_addresses": [{"address": f"api-{run}-{number}@example.org"}],
                               "postal_addresses": [{"postal_code": "M5V 2T6", "country": "CA"}]},
                    "triggers": {"autoresponse": {"enabled": False}}}
            started = time.perf_counter()
            response = session.post(url, json=body, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code != 200 or response.json().get("placard:status") != "confirmed":
                raise RuntimeError(f"create {number} answered {response.status_code}: "
                                   f"{response.text[:300]}")

    started = time.perf_counter()
    run_threads(threads, work)
    elapsed = time.perf_counter() - started
    return {"created": statuses.get(200, 0), "statuses": statuses, "seconds": elapsed,
            "records_per_second": statuses.get(200, 0) / elapsed,
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000}


def deep_page_probe(url, secret, pages, repeats=5, **params):
    """The median time of one request for page 1, a middle page and the last page of
    ``url``, asked alone (no other load): what OFFSET and COUNT(*) cost as pages deepen."""
    session = session_for(secret)
    found = {}
    for page in sorted({1, max(1, pages // 2), pages}):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            session.get(url, params={"per_page": PER_PAGE, "page": page, **params},
                        timeout=60).raise_for_status()
            times.append(time.perf_counter() - started)
        found[page] = statistics.median(times) * 1000
    return found


def workers_of(server):
    return children(server[0].pid)


def fmt_mb(kb):
    return "?" if kb is None else f"{kb / 1024:.1f} MB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatures", type=int, default=100_000, help="confirmed signatures seeded")
    parser.add_argument("--creates", type=int, default=5_000, help="signatures POSTed")
    parser.add_argument("--threads", type=int, default=2, choices=(1, 2, 3, 4),
                        help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--timeout", type=float, default=480, help="longest either phase may take (s)")
    parser.add_argument("--quick", action="store_true", help="10,000 signatures and 500 creates")
    parser.add_argument("--keep-database", action="store_true", help="leave placard_bench_api")
    options = parser.parse_args(argv)
    if options.quick:
        options.signatures, options.creates = 10_000, 500
    run = time.strftime("%Y%m%d-%H%M%S")
    run_dir = BENCH / "results" / f"api-{run}"
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = environment(port, run_dir)
    version = code_version()
    say(f"API benchmark: {options.signatures:,} confirmed signatures, {options.creates:,} creates, "
        f"{options.threads} client thread(s), gunicorn -k sync -w {options.workers}, code {version}")
    with open(run_dir / "setup.log", "wb") as log:
        _petition_id, petition_uuid, seed_seconds = prepare(env, options.signatures, log)
    say(f"  seeded in {seed_seconds:.1f} s")
    secret = create_api_token(env)
    server = start_gunicorn(env, port, 30, run_dir / "gunicorn.log", workers=options.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        workers = workers_of(server)
        cpu_before = {pid: cpu_seconds(pid) for pid in workers}
        listed = list_phase(base, secret, petition_uuid, options.signatures, options.threads,
                            options.timeout)
        cpu_list = sum(cpu_seconds(pid) - cpu_before[pid] for pid in workers)
        say(f"\n== list: GET /api/v2/petitions/<id>/signatures?per_page={PER_PAGE}&page=P, "
            f"{listed['pages']:,} pages")
        say(f"  {listed['records_per_second']:,.0f} records/s, {listed['requests_per_second']:,.1f} "
            f"requests/s ({listed['records']:,} records in {listed['seconds']:.1f} s); latency p50 "
            f"{listed['p50_ms']:.1f} ms, p95 {listed['p95_ms']:.1f} ms")
        say(f"  first {EDGE_PAGES} pages p50 {listed['first_pages_p50_ms']:.1f} ms, last "
            f"{EDGE_PAGES} pages p50 {listed['last_pages_p50_ms']:.1f} ms; workers' CPU "
            f"{cpu_list:.1f} s ({cpu_list / max(listed['requests'], 1) * 1000:.1f} ms a request)")
        say(f"  every record once: {'OK' if listed['complete'] else 'NO'} ({listed['distinct']:,} "
            f"distinct, {listed['duplicates']} seen twice, {options.signatures:,} expected); "
            f"{listed['connection_close_share']:.0%} of answers said Connection: close")
        probe = deep_page_probe(f"{base}/api/v2/petitions/{petition_uuid}/signatures", secret,
                                listed["pages"])
        listed["probe_ms"] = probe
        say("  one request alone, median of 5: "
            + ", ".join(f"page {page:,} {ms:.1f} ms" for page, ms in probe.items()))
        # The same signers as people: /people finds them through the token's campaigns.
        people = deep_page_probe(f"{base}/api/v2/people", secret, listed["pages"], repeats=3)
        listed["people_probe_ms"] = people
        say("  GET /api/v2/people alone, median of 3: "
            + ", ".join(f"page {page:,} {ms:.1f} ms" for page, ms in people.items()))
        # A sync tool's usual question: who changed since its last run (here: everyone).
        changed = deep_page_probe(f"{base}/api/v2/people", secret, listed["pages"], repeats=3,
                                  filter="modified_date gt '2000-01-01'")
        listed["people_filtered_probe_ms"] = changed
        say("  GET /api/v2/people?filter=modified_date gt … alone, median of 3: "
            + ", ".join(f"page {page:,} {ms:.1f} ms" for page, ms in changed.items()))

        cpu_before = {pid: cpu_seconds(pid) for pid in workers}
        created = create_phase(base, secret, petition_uuid, options.creates, options.threads, run,
                               options.timeout)
        cpu_create = sum(cpu_seconds(pid) - cpu_before[pid] for pid in workers)
        total = session_for(secret).get(f"{base}/api/v2/petitions/{petition_uuid}",
                                        timeout=30).json()["total_signatures"]
        expected = options.signatures + options.creates
        created["total_signatures"] = total
        created["count_ok"] = total == expected
        say(f"\n== create: POST /api/v2/petitions/<id>/signatures (autoresponse off), "
            f"{options.creates:,} distinct addresses")
        say(f"  {created['records_per_second']:,.0f} records/s ({created['created']:,} in "
            f"{created['seconds']:.1f} s); latency p50 {created['p50_ms']:.1f} ms, p95 "
            f"{created['p95_ms']:.1f} ms; workers' CPU {cpu_create:.1f} s "
            f"({cpu_create / max(created['created'], 1) * 1000:.1f} ms a signature)")
        say(f"  total_signatures afterwards {total:,}, expected {expected:,}: "
            f"{'OK' if created['count_ok'] else 'MISMATCH'}")
        peaks = {pid: memory_kb(pid, "VmHWM") for pid in workers}
        say("\n  gunicorn workers' peak RSS (VmHWM): "
            + ", ".join(fmt_mb(kb) for kb in peaks.values()))
    finally:
        stop_gunicorn(server)
        if not options.keep_database:
            drop_database()
    checks = {"listed_every_record_once": listed["complete"], "count_after_creates": created["count_ok"]}
    (run_dir / "results.json").write_text(json.dumps(
        {"code": version, "options": vars(options), "seed_seconds": seed_seconds, "list": listed,
         "list_worker_cpu": cpu_list, "create": created, "create_worker_cpu": cpu_create,
         "worker_peak_kb": list(peaks.values()), "checks": checks}, indent=2))
    say(f"results: {run_dir / 'results.json'}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
