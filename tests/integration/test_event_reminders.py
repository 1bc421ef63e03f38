"""Reminders reach each attendee once: when the job runs twice, and when a worker is
killed in the middle of a run (checked at the SMTP server)."""

import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from campaign.db import utcnow
from campaign.events.models import Rsvp
from campaign.extensions import db
from campaign.jobs import celery_client
from tests.factories_events import make_event, make_rsvp
from tests.support.services import stop_process

VENV_BIN = Path(sys.executable).parent


def _event_due_for_its_first_reminder(app, attendees):
    """A published event starting in 23 hours, with ``attendees`` confirmed two days ago."""
    tag = uuid.uuid4().hex[:8]
    addresses = [f"remind-{tag}-{number}@example.org" for number in range(attendees)]
    with app.test_request_context():
        event = make_event(starts_at=utcnow().replace(microsecond=0) + timedelta(hours=23))
        rsvp_ids = [make_rsvp(event, address, confirmed_at=utcnow() - timedelta(days=2)).id
                    for address in addresses]
        db.session.commit()
    return addresses, rsvp_ids


def _reminders_received(smtp, address):
    return [message for message in smtp.messages_to(address) if "Reminder" in message["Subject"]]


def test_the_reminder_job_run_twice_sends_each_attendee_one_reminder(stack, stack_app, smtp):
    addresses, _ids = _event_due_for_its_first_reminder(stack_app, attendees=4)
    client = celery_client(stack_app)
    for _ in range(2):
        client.send_task("placard.events.send_reminders", queue=stack.queue)
    for address in addresses:
        smtp.wait_for(lambda message, address=address: address in message.envelope_to, timeout=30)
    time.sleep(3)  # room for a second reminder to arrive, if one were coming
    assert [len(_reminders_received(smtp, address)) for address in addresses] == [1] * 4


def _start_worker(stack, queue, log_path):
    env = dict(stack.env, CELERY_QUEUE=queue, CELERY_VISIBILITY_TIMEOUT="2")
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "worker.app", "worker", "-Q", queue, "-P", "solo",
         "--without-gossip", "--without-mingle", "--loglevel", "INFO", "-n", f"{queue}@%h"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    process.log_file = log
    return process


def _wait_for_a_reminder_run_blocked_on_a_lock(app, timeout=30):
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            blocked = db.session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'UPDATE rsvps SET reminded_early_at%'"))
            db.session.rollback()
            if blocked:
                return
            time.sleep(0.1)
    raise AssertionError("the reminder job never reached its claim")


def test_a_worker_killed_in_the_middle_of_a_run_costs_no_reminder_and_sends_none_twice(
        stack, stack_app, smtp, tmp_path):
    addresses, rsvp_ids = _event_due_for_its_first_reminder(stack_app, attendees=3)
    queue = f"reminders-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "worker.log"

    # Hold one attendee's row, so the job stops in the middle of its transaction...
    with stack_app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        connection.execute(select(Rsvp.id).where(Rsvp.id == rsvp_ids[1]).with_for_update())
        worker = _start_worker(stack, queue, log_path)
        try:
            celery_client(stack_app).send_task("placard.events.send_reminders", queue=queue)
            _wait_for_a_reminder_run_blocked_on_a_lock(stack_app)
            # ...and kill the worker there, as a crash or an OOM kill would.
            worker.kill()
            worker.wait(timeout=10)
        finally:
            transaction.rollback()
            connection.close()

    with stack_app.app_context():
        claimed = db.session.scalars(select(Rsvp.reminded_early_at).where(Rsvp.id.in_(rsvp_ids))).all()
        assert claimed == [None] * 3, "nothing the killed run did may remain"
    assert all(not _reminders_received(smtp, address) for address in addresses)

    # A new worker, and the scheduler's next tick, finish the job. (The killed run's
    # message, never acknowledged, also comes back once the visibility timeout has
    # passed: it must find nothing left to send.)
    worker = _start_worker(stack, queue, log_path)
    celery_client(stack_app).send_task("placard.events.send_reminders", queue=queue)
    try:
        for address in addresses:
            try:
                smtp.wait_for(lambda message, address=address: address in message.envelope_to,
                              timeout=60)
            except AssertionError as error:
                raise AssertionError(f"{error}\nworker log:\n"
                                     + log_path.read_text(errors="replace")[-4000:]) from None
        time.sleep(3)
        assert [len(_reminders_received(smtp, address)) for address in addresses] == [1] * 3
    finally:
        stop_process(worker)
        worker.log_file.close()
