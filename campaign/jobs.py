"""The one registry of background jobs, and how the web side dispatches them.

A job is a plain service function named here. ``worker/`` registers one Celery
task per entry; the web side calls :func:`dispatch_after_commit` with the job's
name. In production the name is published to the broker; in the embedded mode
the same function runs in-process. Either way the job starts only after the
transaction that asked for it has committed, and is dropped if it rolls back.
"""

import importlib
import logging

from celery import Celery
from flask import current_app
from flask_sqlalchemy.session import Session as SessionClass
from sqlalchemy import event

from campaign.extensions import db

log = logging.getLogger(__name__)

JOBS = {
    "placard.mail.send": "campaign.mail.services:send_outbound_email",
    "placard.mail.sweep_outbox": "campaign.mail.services:sweep_outbox",
    "placard.petitions.recount": "campaign.petitions.services:recount_signatures",
    "placard.signatures.purge_expired": "campaign.signatures.services:purge_expired_signatures",
    "placard.events.send_reminders": "campaign.events.rsvps:send_due_reminders",
    "placard.events.purge_stale_rsvps": "campaign.events.rsvps:purge_stale_rsvps",
    "placard.privacy.discard_ip_hashes": "campaign.privacy.retention:discard_old_ip_hashes",
    "placard.privacy.anonymise_closed_petitions": "campaign.privacy.retention:anonymise_closed_petitions",
    "placard.mailing.dispatch": "campaign.mailing.sending:dispatch_mailings",
    "placard.mailing.send_batch": "campaign.mailing.sending:send_batch",
    "placard.webhooks.deliver": "campaign.api.webhooks:deliver_webhook",
    "placard.webhooks.sweep": "campaign.api.webhooks:sweep_webhooks",
}

# Jobs published to another queue than CELERY_QUEUE: the setting that names it (an empty
# setting means CELERY_QUEUE). Bulk mailing must not delay confirmation emails.
JOB_QUEUE_SETTINGS = {"placard.mailing.send_batch": "CELERY_MAILING_QUEUE"}

# Jobs that wait on someone else's server for as long as it takes to answer. In the
# embedded mode they run on the scheduler's thread (campaign.scheduler), so that a
# slow webhook receiver never holds up the supporter's confirmation page.
BACKGROUND_JOBS = frozenset({"placard.webhooks.deliver"})

_PENDING_KEY = "placard_jobs_after_commit"


def job_function(name):
    module_name, _, attribute = JOBS[name].partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def run_job(name, *args):
    """Run one job in the current app context and commit its work (the job owns its transaction)."""
    try:
        result = job_function(name)(*args)
        db.session.commit()
        return result
    except BaseException:
        db.session.rollback()
        raise


def dispatch_after_commit(name, *args):
    """Queue ``name(*args)`` to start once the current transaction commits."""
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}")
    session = db.session()
    pending = session.info.setdefault(_PENDING_KEY, [])
    pending.append((name, args))


def _dispatch_now(app, name, args):
    if app.config["TASKS_EAGER"]:
        background = app.extensions.get("placard_scheduler")
        if background is not None and name in BACKGROUND_JOBS:
            background.submit(name, args)
            return
        # A fresh app context gives the job its own session, so SQLite is not
        # held by the request that asked for the job.
        with app.app_context():
            try:
                run_job(name, *args)
            except Exception:
                log.exception("job %s%r failed in-process; the outbox sweep will retry it", name, args)
        return
    try:
        queue = app.config.get(JOB_QUEUE_SETTINGS.get(name, "")) or app.config["CELERY_QUEUE"]
        celery_client(app).send_task(name, args=list(args), retry=False, queue=queue)
    except Exception:
        # The action has committed: never turn it into an error page. A pending
        # outbox row is picked up again by the periodic sweep.
        log.warning("could not publish job %s%r; left for the sweep", name, args, exc_info=True)


def celery_settings(config):
    """Celery settings shared by the web side's publisher and the worker."""
    timeout = config["BROKER_PUBLISH_TIMEOUT"]
    return {
        "broker_url": config["CELERY_BROKER_URL"],
        "task_default_queue": config["CELERY_QUEUE"],
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_timeout": timeout,
        # Longer than any task may run, so an unacknowledged task is not handed
        # to a second worker while the first still works on it.
        "broker_transport_options": {
            "visibility_timeout": config["CELERY_VISIBILITY_TIMEOUT"],
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        },
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "enable_utc": True,
    }


def celery_client(app):
    client = app.extensions.get("placard_celery_client")
    if client is None:
        client = Celery("placard-web", set_as_current=False)
        client.conf.update(celery_settings(app.config))
        # A publish on a dead broker must fail fast, not retry while the request waits.
        client.conf.broker_connection_retry = False
        client.conf.broker_connection_max_retries = 0
        if client.conf.broker_url.startswith("redis://"):
            client.conf.broker_transport = "campaign.broker:Transport"
        app.extensions["placard_celery_client"] = client
    return client


def init_app(app):
    """Hook dispatch onto every session's commit and rollback (once per process)."""
    if not event.contains(SessionClass, "after_commit", _after_commit):
        event.listen(SessionClass, "after_commit", _after_commit)
        event.listen(SessionClass, "after_rollback", _after_rollback)


def _after_commit(session):
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    app = current_app._get_current_object()
    for name, args in pending:
        _dispatch_now(app, name, args)


def _after_rollback(session):
    session.info.pop(_PENDING_KEY, None)
