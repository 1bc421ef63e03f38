"""The embedded mode's stand-in for celery beat: a daemon thread of the web process that
runs the periodic jobs of ``worker.schedule`` in-process, and the jobs handed to it
(:meth:`EmbeddedScheduler.submit`) that must not hold up the request that asked for
them: those that wait on someone else's server (see ``campaign.jobs.BACKGROUND_JOBS``).

Every periodic job is idempotent, so a second process doing the same (the
development server's reloader runs two) does no harm.
"""

import logging
import queue
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
        self.wake = threading.Event()
        self.submitted = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="placard-scheduler", daemon=True)

    def stop(self):
        self.stopped.set()
        self.wake.set()
        self.thread.join(timeout=10)

    def submit(self, name, args):
        """Run job ``name(*args)`` on this thread, soon, instead of in the caller's request."""
        self.submitted.put((name, args))
        self.wake.set()

    def _run(self, name, args, why_harmless):
        from campaign.jobs import run_job

        with self.app.app_context():
            try:
                run_job(name, *args)
            except Exception:
                log.exception("job %s%r failed on the scheduler's thread; %s", name, args, why_harmless)

    def _run_submitted(self):
        while not self.stopped.is_set():
            try:
                name, args = self.submitted.get_nowait()
            except queue.Empty:
                return
            self._run(name, args, "its sweep retries it")

    def _loop(self):
        next_run = {name: time.monotonic() + min(interval, FIRST_RUN_SECONDS)
                    for name, interval in self.entries}
        while not self.stopped.is_set():
            self.wake.wait(TICK_SECONDS)
            self.wake.clear()
            self._run_submitted()
            for name, interval in self.entries:
                if self.stopped.is_set():
                    return
                if time.monotonic() < next_run[name]:
                    continue
                next_run[name] = time.monotonic() + interval
                self._run(name, (), f"it runs again in {interval}s")


def start_embedded_scheduler(app):
    """Start the scheduler once per app, if EMBEDDED_SCHEDULER is on. Returns it, or None."""
    if not app.config.get("EMBEDDED_SCHEDULER") or "placard_scheduler" in app.extensions:
        return None
    from worker.schedule import beat_schedule

    entries = [(entry["task"], entry["schedule"]) for entry in beat_schedule(app.config).values()]
    scheduler = app.extensions["placard_scheduler"] = EmbeddedScheduler(app, entries)
    scheduler.thread.start()
    return scheduler
