"""Periodic jobs, run by ``celery beat`` in production and, in the embedded mode, by a
thread of the web process (campaign.scheduler), from this one table."""


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
        "send-event-reminders": {
            "task": "placard.events.send_reminders",
            "schedule": float(config["EVENT_REMINDER_SECONDS"]),
        },
        "dispatch-mailings": {
            "task": "placard.mailing.dispatch",
            "schedule": float(config["MAILING_DISPATCH_SECONDS"]),
        },
        "purge-stale-rsvps": {
            "task": "placard.events.purge_stale_rsvps",
            "schedule": 6 * 3600.0,
        },
        "discard-old-ip-hashes": {
            "task": "placard.privacy.discard_ip_hashes",
            "schedule": 6 * 3600.0,
        },
        "sweep-webhooks": {
            "task": "placard.webhooks.sweep",
            "schedule": float(config["WEBHOOK_SWEEP_SECONDS"]),
        },
        "anonymise-closed-petitions": {
            "task": "placard.privacy.anonymise_closed_petitions",
            "schedule": 6 * 3600.0,
        },
    }
