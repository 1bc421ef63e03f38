"""The Celery application: ``celery -A worker.app worker`` and ``celery -A worker.app beat``.

It is built from the same ``create_app()`` as the web side, so both read one
configuration. Tasks are registered from ``campaign.jobs.JOBS``: a job cannot
exist on one side and not the other.
"""

from celery import Celery, Task

from campaign import create_app
from campaign.jobs import celery_settings
from worker.schedule import beat_schedule


def make_celery(flask_app):
    class FlaskTask(Task):
        # Each task runs in its own app context, hence its own database session.
        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery("placard", task_cls=FlaskTask)
    celery.conf.update(celery_settings(flask_app.config))
    celery.conf.update(
        # Keep reconnecting for as long as Redis is away, then carry on consuming.
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        broker_channel_error_retry=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        beat_schedule=beat_schedule(flask_app.config),
        timezone="UTC",
    )
    celery.flask_app = flask_app
    flask_app.extensions["celery"] = celery

    from worker.tasks import register_tasks

    register_tasks(celery)
    return celery


flask_app = create_app()
app = celery = make_celery(flask_app)
