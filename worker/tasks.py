"""One Celery task per job of ``campaign.jobs.JOBS``: the adapter, not the logic.

Every task takes ids only, acknowledges late (a worker killed mid-task leaves
the message to be redelivered) and relies on its job being idempotent, so a
redelivery does no harm. A job that answers ``retry`` (a temporary SMTP
failure) is retried with exponential backoff and jitter.
"""

import logging

from campaign.jobs import JOBS, run_job
from campaign.mail.services import SendOutcome

log = logging.getLogger(__name__)

RETRY_BACKOFF_MAX_SECONDS = 600
MAX_RETRIES = 8
# Jobs Celery must never retry itself: webhook deliveries keep their own schedule of
# attempts in the database, run by the periodic sweep, and a second retry mechanism
# could send the same notice twice at once.
NO_CELERY_RETRY = {"placard.webhooks.deliver", "placard.webhooks.sweep"}


class RetryLater(Exception):
    """A job asked to be tried again later."""


def register_tasks(celery):
    for name in JOBS:
        if name in NO_CELERY_RETRY:
            celery.task(_task_body(name), name=name, bind=True, acks_late=True, max_retries=0)
            continue
        celery.task(
            _task_body(name), name=name, bind=True, acks_late=True,
            autoretry_for=(RetryLater, ConnectionError), retry_backoff=5,
            retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS, retry_jitter=True,
            max_retries=MAX_RETRIES,
        )


def _task_body(name):
    def run(self, *args):
        outcome = run_job(name, *args)
        if outcome == SendOutcome.RETRY and name not in NO_CELERY_RETRY:
            raise RetryLater(f"{name}{args!r} asked to be retried")
        return outcome

    run.__name__ = name.rsplit(".", 1)[-1]
    run.__qualname__ = run.__name__
    return run
