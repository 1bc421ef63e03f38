"""Periodic jobs, run by ``celery beat``. The embedded mode has no beat: it needs none,
as its jobs run in-process the moment they are dispatched."""


def beat_schedule(config):
    return {
        "sweep-outbox": {
            "task": "placard.mail.sweep_outbox",
            "schedule": float(config["OUTBOX_SWEEP_SECONDS"]),
        },
        "recount-signatures": {
            "task": "placard.petitions.recount",
            "schedule": float(config["RECOUNT_SECONDS"]),
        },
        "purge-expired-signatures": {
            "task": "placard.signatures.purge_expired",
            "schedule": 6 * 3600.0,
        },
    }
