"""The embedded mode's stand-in for celery beat: a daemon thread of the web process that
runs the periodic jobs of ``worker.schedule`` in-process.

Every periodic job is idempotent, so a second process doing the same (the
development server's reloader runs two) does no harm.
"""

import logging
import threading
import time

log = logging.getLogger(__name__)

# The thread wakes this often to see what is due.
TICK_SECONDS = 5.0
# The first runs wait at most this long after start-up.
FIRST_RUN_SECONDS = 30.0


class EmbeddedScheduler:
    def __init__(self, app, entries):
        self.app, self.entries = app, entries
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="placard-scheduler", daemon=True)

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=10)

    def _loop(self):
        from campaign.jobs import run_job

        next_run = {name: time.monotonic() + min(interval, FIRST_RUN_SECONDS)
                    for name, interval in self.entries}
        while not self.stopped.wait(TICK_SECONDS):
            for name, interval in self.entries:
                if time.monotonic() < next_run[name]:
                    continue
                next_run[name] = time.monotonic() + interval
                with self.app.app_context():
                    try:
                        run_job(name)
                    except Exception:
                        log.exception("periodic job %s failed; it runs again in %ss", name, interval)


def start_embedded_scheduler(app):
    """Start the scheduler once per app, if EMBEDDED_SCHEDULER is on. Returns it, or None."""
    if not app.config.get("EMBEDDED_SCHEDULER") or "placard_scheduler" in app.extensions:
        return None
    from worker.schedule import beat_schedule

    entries = [(entry["task"], entry["schedule"]) for entry in beat_schedule(app.config).values()]
    scheduler = app.extensions["placard_scheduler"] = EmbeddedScheduler(app, entries)
    scheduler.thread.start()
    return scheduler
