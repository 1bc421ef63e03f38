"""A mailing to 2,000 subscribers through real Celery workers and a real SMTP server:
each arrives exactly once, even when workers are killed in the middle and the jobs
are run twice."""

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import func, insert, select

from campaign.db import utcnow
from campaign.extensions import db
from campaign.jobs import celery_client
from campaign.mailing.compose import MailingDetails, create_mailing
from campaign.mailing.models import Delivery, DeliveryStatus, Mailing, MailingStatus, Subscription
from campaign.mailing.sending import start_mailing
from campaign.signatures.models import Supporter
from tests.factories import make_campaign
from tests.support.services import stop_process

VENV_BIN = Path(sys.executable).parent
SUBSCRIBERS = 2000


def _campaign_with_subscribers(app, tag, subscribers=SUBSCRIBERS):
    with app.test_request_context():
        campaign = make_campaign()
        now = utcnow()
        db.session.execute(insert(Supporter), [
            {"email": f"list-{tag}-{number}@example.org", "email_key": f"list-{tag}-{number}@example.org",
             "first_name": f"Reader{number}", "last_name": "", "postal_code": "", "country": "CA",
             "locale": "en", "created_at": now, "updated_at": now} for number in range(subscribers)])
        supporter_ids = db.session.scalars(
            select(Supporter.id).where(Supporter.email_key.like(f"list-{tag}-%"))).all()
        db.session.execute(insert(Subscription), [
            {"supporter_id": supporter_id, "campaign_id": campaign.id, "status": "subscribed",
             "consent_wording": "Keep me informed", "consent_at": now,
             "consent_source": "petition:test", "created_at": now, "updated_at": now}
            for supporter_id in supporter_ids])
        db.session.commit()
        return campaign.id


def _start_worker(stack, queue, log_path, name, **settings):
    env = {**stack.env, "CELERY_QUEUE": queue, "MAILING_BATCH_SIZE": "50", "MAILING_CLAIM_SECONDS": "3",
           "MAILING_BATCH_SECONDS": "5", "MAILING_PARALLEL_BATCHES": "2", "CELERY_VISIBILITY_TIMEOUT": "5",
           **settings}
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "worker.app", "worker", "-Q", queue, "-P", "solo",
         "--without-gossip", "--without-mingle", "--loglevel", "INFO", "-n", f"{name}-{queue}@%h"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    process.log_file = log
    return process


def _logs(folder):
    return "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(folder.glob("*.log")))


def test_a_mailing_reaches_each_subscriber_exactly_once_through_worker_crashes(
        stack, stack_app, make_production_app, smtp, tmp_path):
    tag = uuid.uuid4().hex[:8]
    queue = f"mailing-{tag}"
    campaign_id = _campaign_with_subscribers(stack_app, tag)
    app = make_production_app(CELERY_QUEUE=queue, PUBLIC_URL=stack.base, MAILING_PARALLEL_BATCHES=2,
                              MAILING_BATCH_SECONDS=5, MAILING_CLAIM_SECONDS=3)

    def ours():
        return [message for message in smtp.messages
                if message.envelope_to and message.envelope_to[0].startswith(f"list-{tag}-")]

    workers = [_start_worker(stack, queue, tmp_path / f"worker-{n}.log", f"w{n}") for n in range(2)]
    try:
        with app.test_request_context():
            from campaign.campaigns.models import Campaign

            mailing = create_mailing(db.session.get(Campaign, campaign_id), MailingDetails(
                subject="News for {{ first_name }}", body="The petition was delivered."), author=None)
            db.session.commit()
            assert start_mailing(mailing) == SUBSCRIBERS
            db.session.commit()  # publishes the batch jobs
            mailing_id = mailing.id

        # Kill a worker outright three times in the middle of the send (each kill lands
        # wherever that worker happens to be: claiming, writing, marking, committing)...
        client = celery_client(app)
        for kill in range(1, 4):
            deadline = time.monotonic() + 60
            while len(ours()) < SUBSCRIBERS * kill // 5:
                if time.monotonic() > deadline:
                    raise AssertionError("the mailing did not go on:\n" + _logs(tmp_path))
                time.sleep(0.005)
            victim = kill % 2
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait(timeout=10)
            # ...run the jobs twice more, as a redelivery or a second scheduler would...
            for name in ("placard.mailing.send_batch", "placard.mailing.send_batch",
                         "placard.mailing.dispatch", "placard.mailing.dispatch"):
                client.send_task(name, args=[mailing_id] if name.endswith("send_batch") else [],
                                 queue=queue)
            # ...and bring a worker back.
            workers[victim] = _start_worker(stack, queue, tmp_path / f"worker-{victim}.log",
                                            f"w{victim}-{kill}")

        deadline = time.monotonic() + 120
        while True:
            with app.app_context():
                settled = db.session.scalar(select(func.count()).where(
                    Delivery.mailing_id == mailing_id, Delivery.status == DeliveryStatus.SENT))
                status = db.session.get(Mailing, mailing_id).status
            if settled == SUBSCRIBERS and status == MailingStatus.SENT:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{settled} of {SUBSCRIBERS} sent, mailing {status}:\n"
                                     + _logs(tmp_path))
            # The scheduler's periodic dispatch revives the dead worker's claims.
            client.send_task("placard.mailing.dispatch", queue=queue)
            time.sleep(1)
        time.sleep(2)  # room for a duplicate to arrive, if one were coming

        received = ours()
        recipients = [message.envelope_to[0] for message in received]
        assert len(recipients) == SUBSCRIBERS, f"{len(recipients)} messages for {SUBSCRIBERS} people"
        assert len(set(recipients)) == SUBSCRIBERS
        assert len({message["Message-ID"] for message in received}) == SUBSCRIBERS
        with app.app_context():
            assert db.session.get(Mailing, mailing_id).recipient_count == len(received)
    finally:
        for worker in workers:
            stop_process(worker)
            worker.log_file.close()


def test_a_batch_that_runs_out_of_time_hands_over_to_the_next_without_the_scheduler(
        stack, stack_app, make_production_app, smtp, tmp_path):
    """Batches last MAILING_BATCH_SECONDS; a long mailing must go on at once, not wait
    for the periodic dispatch (none runs here) to ask for more."""
    tag = uuid.uuid4().hex[:8]
    queue = f"mailing-{tag}"
    subscribers = 600
    campaign_id = _campaign_with_subscribers(stack_app, tag, subscribers)
    app = make_production_app(CELERY_QUEUE=queue, PUBLIC_URL=stack.base, MAILING_PARALLEL_BATCHES=1)
    worker = _start_worker(stack, queue, tmp_path / "worker.log", "relay", MAILING_BATCH_SECONDS="1",
                           MAILING_BATCH_SIZE="20", MAILING_PARALLEL_BATCHES="1",
                           MAILING_RATE_PER_WORKER="200")
    try:
        with app.test_request_context():
            from campaign.campaigns.models import Campaign

            mailing = create_mailing(db.session.get(Campaign, campaign_id), MailingDetails(
                subject="Relay", body="Still going."), author=None)
            db.session.commit()
            start_mailing(mailing)
            db.session.commit()
            mailing_id = mailing.id

        deadline = time.monotonic() + 90
        while True:
            with app.app_context():
                status = db.session.get(Mailing, mailing_id).status
            if status == MailingStatus.SENT:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"mailing {status}:\n" + _logs(tmp_path))
            time.sleep(0.2)
        recipients = [message.envelope_to[0] for message in smtp.messages
                      if message.envelope_to and message.envelope_to[0].startswith(f"list-{tag}-")]
        assert sorted(recipients) == sorted(f"list-{tag}-{n}@example.org" for n in range(subscribers))
        # At 200 messages a second, 600 take three batches of one second, each asked
        # for by the one before.
        batches = (tmp_path / "worker.log").read_text().count("Task placard.mailing.send_batch[")
        assert batches // 2 >= 3, _logs(tmp_path)  # "received" and "succeeded" lines
    finally:
        stop_process(worker)
        worker.log_file.close()
