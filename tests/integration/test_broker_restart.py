"""A worker keeps consuming after its Redis goes away and comes back.

Uses a Redis of the test's own on a spare port: the machine's shared Redis is
never stopped.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from campaign.extensions import db
from campaign.jobs import celery_client
from campaign.mail.models import OutboundEmail
from tests.integration.helpers import wait_for_email_status
from tests.support.services import free_port, start_redis, stop_process

VENV_BIN = Path(sys.executable).parent


def _queue_email_without_dispatch(app, address):
    from campaign.mail.services import queue_email
    from tests.factories import make_petition

    with app.test_request_context():
        petition = make_petition()
        email_id = queue_email("test", address, "signature_confirmation", "en",
                            petition={"title": petition.title, "target": petition.target},
                            campaign={"title": petition.campaign.title}, first_name="Ada",
                            confirm_url="http://x/c", discard_url="http://x/d", hours=72)
        # Commit without publishing: this test publishes by hand to its own broker.
        db.session.info.pop("placard_jobs_after_commit", None)
        db.session.commit()
        return email_id


def test_worker_resumes_consuming_after_redis_restarts(stack, make_production_app, smtp, tmp_path):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    queue = f"restart-{uuid.uuid4().hex[:8]}"
    redis_process = start_redis(port)
    app = make_production_app(CELERY_BROKER_URL=broker, REDIS_URL=broker, CELERY_QUEUE=queue,
                              BROKER_PUBLISH_TIMEOUT=2.0)
    env = dict(stack.env, REDIS_URL=broker, CELERY_QUEUE=queue, PLACARD_INSTANCE_PATH=str(tmp_path))
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "worker.app", "worker", "-Q", queue, "-P", "solo",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO", "-n", f"{queue}@%h"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    try:
        first = _queue_email_without_dispatch(app, "before-restart@example.org")
        celery_client(app).send_task("placard.mail.send", args=[first], queue=queue)
        smtp.wait_for(lambda m: "before-restart@example.org" in m.envelope_to, timeout=30)

        stop_process(redis_process)
        time.sleep(1.5)
        redis_process = start_redis(port)

        second = _queue_email_without_dispatch(app, "after-restart@example.org")
        deadline = time.monotonic() + 20
        while True:
            try:
                celery_client(app).send_task("placard.mail.send", args=[second], queue=queue)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        smtp.wait_for(lambda m: "after-restart@example.org" in m.envelope_to, timeout=60)
        wait_for_email_status(app, OutboundEmail.id.in_([first, second]), "sent")
    finally:
        stop_process(worker)
        stop_process(redis_process)
        os.environ.get("CI") and print(log_path.read_text(errors="replace")[-2000:])
