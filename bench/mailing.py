"""How fast a mailing goes out, against the fastest a bare smtplib loop can send here.

    .venv/bin/python bench/mailing.py                  # 100,000 subscribers, 2 workers
    .venv/bin/python bench/mailing.py --subscribers 20000 --workers 2

It re-creates the database ``placard_bench_mailing`` and flushes Redis database 8
(and no other), loads a campaign with N subscribers, and starts an SMTP server
that only counts (bench/smtp_sink.py) on a free loopback port. Then:

1. **bare smtplib**: N messages built beforehand, sent over one connection by a
   plain loop: the ceiling for sending these messages to this server here.
2. **Placard**: a mailing to the N subscribers, sent by ``--workers`` Celery worker
   processes (``-P threads``, ``--threads`` batches each) in production mode, from the moment it is started
   until every delivery is marked sent.

It prints messages per second for both, the ratio, the CPU each process used,
and checks at the server that each subscriber got exactly one message. Every
process it starts is stopped by its PID; everything listens on 127.0.0.1; each
phase is bounded in time.
"""

import argparse
import contextlib
import functools
import json
import os
import secrets
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis
from procstats import cpu_seconds, free_port, say

# CPU of a process and the children it reaped (a worker's pool, a server's helpers).
process_cpu = functools.partial(cpu_seconds, with_reaped_children=True)
BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = ROOT / ".venv" / "bin"
DATABASE = "placard_bench_mailing"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/8"
QUEUE = "placard-bench-mailing"


def postgres_cpu_seconds():
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
            if command.startswith(b"postgres:") and DATABASE.encode() in command:
                total += process_cpu(int(entry))
    return total


def environment(smtp_port, run_dir):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PLACARD_", "FLASK_"))}
    env.update({
        "PLACARD_MODE": "production", "PLACARD_INSTANCE_PATH": str(run_dir),
        "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_URL": "http://127.0.0.1:8000", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
        "CELERY_QUEUE": QUEUE, "MAIL_FROM": "Placard <news@placard.example>",
        "ORGANISATION_ADDRESS": "1 Peace Street, Toronto ON", "LOG_LEVEL": "WARNING",
        "MAILING_BATCH_SECONDS": "120", "MAILING_DISPATCH_SECONDS": "3600",
    })
    return env


def prepare(env, subscribers, log):
    redis.Redis.from_url(REDIS_URL).flushdb()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    subprocess.run([str(VENV_BIN / "flask"), "--app", "campaign", "db", "upgrade"], cwd=ROOT, env=env,
                   stdout=log, stderr=subprocess.STDOUT, check=True, timeout=120)
    with psycopg.connect(DATABASE_URL) as conn:
        campaign_id = conn.execute(
            "INSERT INTO campaigns (slug, title, summary, body, status, published_at, share_image, "
            "unpublished_reason, created_at, updated_at) VALUES ('bench', 'Bench campaign', '', '', "
            "'published', now(), '', '', now(), now()) RETURNING id").fetchone()[0]
        with conn.cursor().copy(
                "COPY supporters (email, email_key, first_name, last_name, postal_code, country, "
                "locale, created_at, updated_at) FROM STDIN") as copy:
            for number in range(subscribers):
                address = f"reader{number}@example.org"
                copy.write_row((address, address, f"Reader {number}", "", "", "CA", "en",
                                "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))
        conn.execute(
            "INSERT INTO subscriptions (supporter_id, campaign_id, status, consent_wording, consent_at, "
            "consent_source, created_at, updated_at) SELECT id, %s, 'subscribed', 'Keep me informed', "
            "now(), 'bench', now(), now() FROM supporters", (campaign_id,))
    return campaign_id


def sink_stats(path):
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        return json.loads(Path(path).read_text())
    return {"messages": 0, "recipients": 0, "message_ids": 0}


def wait_for_sink(path, expected, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = sink_stats(path)
        if stats["messages"] >= expected:
            return stats
        time.sleep(0.2)
    return sink_stats(path)


def bare_phase(env, campaign_id, count, smtp_port, stats_path, sink):
    """Build ``count`` of the mailing's messages, then time sending them with smtplib."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from campaign import create_app
    from campaign.extensions import db
    from campaign.mailing.models import Mailing
    from campaign.mailing.render import MailingSnapshot, MessageWriter, Recipient

    app = create_app()
    with app.app_context():
        mailing = Mailing(campaign_id=campaign_id, subject="News for {{ first_name }}", body=BODY,
                          audience={}, status="draft", sender_name="Ana Organizer")
        db.session.add(mailing)
        db.session.flush()
        writer = MessageWriter(MailingSnapshot.of(mailing))
        payloads = [
            (f"reader{number}@example.org",
             writer.write(Recipient(number + 1, number + 1, f"reader{number}@example.org",
                                    f"Reader {number}", "", "en")))
            for number in range(count)]
        db.session.rollback()
    sink.send_signal(signal.SIGUSR1)
    time.sleep(1)
    before = process_cpu(os.getpid())
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
        for address, payload in payloads:
            smtp.sendmail("news@placard.example", [address], payload)
    elapsed = time.perf_counter() - started
    cpu = process_cpu(os.getpid()) - before
    stats = wait_for_sink(stats_path, count, 30)
    return {"messages": count, "seconds": elapsed, "rate": count / elapsed, "sender_cpu": cpu,
            "sink": stats}


BODY = """\
Dear {{ first_name or "friend" }},

The petition **for a peace treaty** was delivered this week. Thank you for signing.

Next: a picket on **27 July**, the anniversary of the Armistice. Bring a friend.
"""


def placard_phase(env, campaign_id, subscribers, workers, threads, timeout, stats_path, sink, run_dir):
    from campaign import create_app
    from campaign.extensions import db
    from campaign.mailing.models import Mailing
    from campaign.mailing.sending import start_mailing

    processes = []
    for number in range(workers):
        log = open(run_dir / f"worker-{number}.log", "wb")  # noqa: SIM115 - closed below
        processes.append((subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "worker.app", "worker", "-Q", QUEUE, "-P", "threads",
             "--concurrency", str(threads), "--without-gossip", "--without-mingle",
             "--loglevel", "WARNING", "-n", f"bench{number}@%h"],
            cwd=ROOT, env=dict(env, MAILING_PARALLEL_BATCHES=str(workers * threads)), stdout=log,
            stderr=subprocess.STDOUT), log))
    try:
        time.sleep(4)  # the workers connect and start consuming
        sink.send_signal(signal.SIGUSR1)
        time.sleep(1)
        app = create_app({"MAILING_PARALLEL_BATCHES": workers * threads})
        with app.app_context():
            mailing = Mailing(campaign_id=campaign_id, subject="News for {{ first_name }}", body=BODY,
                              audience={}, status="draft", sender_name="Ana Organizer")
            db.session.add(mailing)
            db.session.commit()
            cpu_before = {process.pid: process_cpu(process.pid) for process, _log in processes}
            pg_before = postgres_cpu_seconds()
            started = time.perf_counter()
            frozen = start_mailing(mailing)
            db.session.commit()
            frozen_at = time.perf_counter()
            deadline = started + timeout
            while time.perf_counter() < deadline:
                status = db.session.scalar(db.select(Mailing.status).where(Mailing.id == mailing.id))
                db.session.rollback()
                if status == "sent":
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
            sent = db.session.scalar(db.text(
                "SELECT count(*) FROM deliveries WHERE mailing_id = :id AND status = 'sent'"),
                {"id": mailing.id})
        worker_cpu = sum(process_cpu(process.pid) - cpu_before[process.pid] for process, _log in processes)
        pg_cpu = postgres_cpu_seconds() - pg_before
        stats = wait_for_sink(stats_path, subscribers, 30)
        return {"messages": sent, "frozen": frozen, "seconds": elapsed, "rate": sent / elapsed,
                "freeze_seconds": frozen_at - started, "worker_cpu": worker_cpu, "postgres_cpu": pg_cpu,
                "sink": stats}
    finally:
        for process, log in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            log.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--bare-messages", type=int, default=None,
                        help="messages for the bare loop (default: as many as subscribers)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per worker process (-P threads): batches sent side by side")
    parser.add_argument("--timeout", type=float, default=900, help="longest the mailing may take (s)")
    options = parser.parse_args(argv)
    run_dir = BENCH / "results" / f"mailing-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    smtp_port = free_port()
    stats_path = str(run_dir / "sink.json")
    env = environment(smtp_port, run_dir)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    say(f"mailing benchmark: {options.subscribers:,} subscribers, {options.workers} workers, code {commit}")
    sink_log = open(run_dir / "sink.log", "wb")  # noqa: SIM115 - closed below
    sink = subprocess.Popen([sys.executable, str(BENCH / "smtp_sink.py"), str(smtp_port), stats_path],
                            stdout=sink_log, stderr=subprocess.STDOUT)
    try:
        with open(run_dir / "setup.log", "wb") as log:
            campaign_id = prepare(env, options.subscribers, log)
        time.sleep(1)
        bare_count = options.bare_messages or options.subscribers
        sink_before = process_cpu(sink.pid)
        bare = bare_phase(env, campaign_id, bare_count, smtp_port, stats_path, sink)
        bare["sink_cpu"] = process_cpu(sink.pid) - sink_before
        say(f"\n== bare smtplib loop, one connection: {bare['messages']:,} messages")
        say(f"  {bare['rate']:,.0f} messages/s ({bare['seconds']:.1f} s); "
            f"sender CPU {bare['sender_cpu']:.1f} s, SMTP server CPU {bare['sink_cpu']:.1f} s; "
            f"server received {bare['sink']['messages']:,}")

        sink_before = process_cpu(sink.pid)
        placard = placard_phase(env, campaign_id, options.subscribers, options.workers, options.threads,
                                options.timeout, stats_path, sink, run_dir)
        placard["sink_cpu"] = process_cpu(sink.pid) - sink_before
        sink_stats_now = placard["sink"]
        exact = (sink_stats_now["messages"] == sink_stats_now["recipients"] == sink_stats_now["message_ids"]
                 == options.subscribers == placard["messages"])
        say(f"\n== Placard mailing, {options.workers} Celery worker processes x {options.threads} threads: "
            f"{placard['frozen']:,} recipients")
        say(f"  {placard['rate']:,.0f} messages/s ({placard['seconds']:.1f} s from start, of which "
            f"{placard['freeze_seconds']:.1f} s freezing the audience)")
        say(f"  CPU: workers {placard['worker_cpu']:.1f} s, PostgreSQL {placard['postgres_cpu']:.1f} s, "
            f"SMTP server {placard['sink_cpu']:.1f} s")
        say(f"  server received {sink_stats_now['messages']:,} messages, {sink_stats_now['recipients']:,} "
            f"distinct recipients, {sink_stats_now['message_ids']:,} distinct Message-IDs: "
            f"{'OK, each exactly once' if exact else 'MISMATCH'}")
        say(f"\n  Placard / bare ceiling: {placard['rate'] / bare['rate']:.2f}")
        (run_dir / "results.json").write_text(json.dumps(
            {"commit": commit, "options": vars(options), "bare": bare, "placard": placard, "exact": exact},
            indent=2))
        say(f"results: {run_dir / 'results.json'}")
        return 0 if exact else 1
    finally:
        sink.terminate()
        try:
            sink.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sink.kill()
        sink_log.close()


if __name__ == "__main__":
    sys.exit(main())
