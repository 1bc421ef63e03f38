"""Settings: embedded defaults, then ``instance/config.py``, then the environment,
then the mapping passed to ``create_app`` (tests).

Every name read here is listed, with its default, in ``.env.example``.
"""

import os
import secrets
from pathlib import Path

from sqlalchemy.pool import StaticPool

# Secret keys that must never reach production: the documented placeholder and
# anything that looks like one.
PLACEHOLDER_SECRET_KEYS = {"", "change-me", "dev", "secret", "changeme"}


def _env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_hours(name):
    """A comma-separated list of hours, e.g. "24,2"; empty means none."""
    parts = [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]
    return tuple(float(part) for part in parts)


def _normalise_database_url(url):
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def defaults():
    """The embedded defaults: SQLite, in-process tasks, a file outbox."""
    return {
        "PLACARD_MODE": "embedded",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///placard.sqlite",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "CELERY_QUEUE": "placard",
        "CELERY_VISIBILITY_TIMEOUT": 3600,
        "TASKS_EAGER": True,
        "MAIL_TRANSPORT": "outbox",
        "MAIL_FROM": "Placard <noreply@placard.localhost>",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 25,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 10,
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "CONFIRM_TOKEN_HOURS": 72,
        "PENDING_SIGNATURE_DAYS": 30,
        # Days a signature keeps the keyed hash of its IP address (for spotting abuse).
        "IP_HASH_DAYS": 30,
        # Days after a petition closes before its signatures lose the signers' names,
        # addresses and comments (counts and per-area figures stay).
        "CLOSED_PETITION_DAYS": 183,
        # An address for data-protection requests, printed on /privacy; empty: none.
        "PRIVACY_CONTACT": "",
        # Minutes a link to a supporter's own page (or to confirm an erasure) works, and
        # minutes the page stays open after following one.
        "SUPPORTER_LINK_MINUTES": 60,
        "SUPPORTER_SESSION_MINUTES": 60,
        "RESEND_INTERVAL_SECONDS": 60,
        "OUTBOX_SWEEP_SECONDS": 30,
        "OUTBOX_SWEEP_MIN_AGE_SECONDS": 60,
        "RECOUNT_SECONDS": 300,
        "PAGE_CACHE_SECONDS": 5,
        "SIGN_RATE_LIMIT": "20 per minute; 200 per hour",
        "RSVP_RATE_LIMIT": "20 per minute; 200 per hour",
        # Hours before an event's start that its confirmed attendees are reminded (at most two).
        "EVENT_REMINDER_HOURS": (24, 2),
        "EVENT_REMINDER_SECONDS": 300,
        # Run the periodic jobs (sweep, reminders, purges) on a thread of the web process:
        # the embedded mode's stand-in for celery beat. Defaults to on in embedded mode.
        "EMBEDDED_SCHEDULER": None,
        "LOGIN_RATE_LIMIT_PER_IP": "20 per minute; 100 per hour",
        "LOGIN_RATE_LIMIT_PER_ACCOUNT": "5 per minute; 30 per hour",
        "RATELIMIT_STORAGE_URI": "memory://",
        "BROKER_PUBLISH_TIMEOUT": 2.0,
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        # Bounds every request body (share images are at most 2 MB) before any view runs.
        "MAX_CONTENT_LENGTH": 3 * 1024 * 1024,
        # Every message a visitor can see is our own (and translated); loading
        # WTForms' catalogs on each form would only cost time.
        "WTF_I18N_ENABLED": False,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": False,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ("en", "fr_CA"),
        "ORGANISATION_NAME": "Placard",
        # Address whose mail is piped to `flask mailing unsubscribe-mail`; empty: no mailto
        # in List-Unsubscribe.
        "UNSUBSCRIBE_MAILTO": "",
        # Bearer token of POST /webhooks/bounces; empty: the webhook does not exist (404).
        "BOUNCE_WEBHOOK_TOKEN": "",
        # The sender's postal address, printed in every mailing's footer (CASL requires it).
        "ORGANISATION_ADDRESS": "",
        # Mailings: messages per second per batch job (0: as fast as the server takes them),
        # recipients claimed at a time, seconds a batch job runs before handing over,
        # batch jobs run side by side per mailing, seconds a claim lasts if its worker dies,
        # and how often the periodic dispatch looks at scheduled and sending mailings.
        "MAILING_RATE_PER_WORKER": 0.0,
        "MAILING_BATCH_SIZE": 200,
        "MAILING_BATCH_SECONDS": 60,
        "MAILING_PARALLEL_BATCHES": 2,
        "MAILING_CLAIM_SECONDS": 600,
        "MAILING_DISPATCH_SECONDS": 10,
        # The queue mailing batches go to; empty means CELERY_QUEUE. A separate queue lets
        # dedicated workers send mailings while confirmations keep their own.
        "CELERY_MAILING_QUEUE": "",
        # Exports of supporters' data: minutes a typed password stays good for them, and
        # the rows from which the campaign's other organizers are told of one by email.
        "EXPORT_FRESH_MINUTES": 15,
        "EXPORT_NOTICE_ROWS": 1000,
        # Webhooks: seconds to wait for an endpoint's answer; seconds before the first retry
        # (doubled each time, at most an hour); attempts per notice before it is given up;
        # failed attempts in a row before an endpoint is turned off (its owner is told); how
        # often the periodic sweep sends the retries that are due. Private addresses
        # (loopback, LAN, link-local) and http:// are refused unless allowed: tests only.
        "WEBHOOK_TIMEOUT_SECONDS": 10,
        "WEBHOOK_RETRY_SECONDS": 30,
        "WEBHOOK_MAX_ATTEMPTS": 8,
        "WEBHOOK_DISABLE_AFTER_FAILURES": 20,
        "WEBHOOK_SWEEP_SECONDS": 10,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False,
        # Requests per API token (per address without one), as Flask-Limiter reads limits.
        # Action Network allows 4 a second; a sync tool written for it stays under this.
        "API_RATE_LIMIT": "5 per second; 20000 per hour",
        "TRUSTED_PROXIES": 0,
        "LOG_LEVEL": "INFO",
    }


def from_environment():
    """Settings given in the environment, converted to their types."""
    env = os.environ
    found = {}
    database_url = env.get("DATABASE_URL")
    if database_url:
        found["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(database_url)
    redis_url = env.get("REDIS_URL")
    if redis_url:
        found["REDIS_URL"] = redis_url
    mode = env.get("PLACARD_MODE") or ("production" if redis_url else None)
    if mode:
        found["PLACARD_MODE"] = mode
    for name in ("SECRET_KEY", "CELERY_BROKER_URL", "MAIL_FROM", "SMTP_HOST", "SMTP_USERNAME",
                 "LOGIN_RATE_LIMIT_PER_IP", "LOGIN_RATE_LIMIT_PER_ACCOUNT",
                 "SMTP_PASSWORD", "PUBLIC_URL", "SIGN_RATE_LIMIT", "RATELIMIT_STORAGE_URI",
                 "RSVP_RATE_LIMIT", "ORGANISATION_ADDRESS", "CELERY_MAILING_QUEUE",
                 "MAIL_TRANSPORT", "ORGANISATION_NAME", "LOG_LEVEL", "CELERY_QUEUE",
                 "UNSUBSCRIBE_MAILTO", "BOUNCE_WEBHOOK_TOKEN", "PRIVACY_CONTACT",
                 "API_RATE_LIMIT"):
        if env.get(name):
            found[name] = env[name]
    for name in ("SMTP_PORT", "SMTP_TIMEOUT", "CONFIRM_TOKEN_HOURS", "PENDING_SIGNATURE_DAYS",
                 "RESEND_INTERVAL_SECONDS", "OUTBOX_SWEEP_SECONDS", "OUTBOX_SWEEP_MIN_AGE_SECONDS",
                 "RECOUNT_SECONDS", "TRUSTED_PROXIES", "CELERY_VISIBILITY_TIMEOUT",
                 "PAGE_CACHE_SECONDS", "EVENT_REMINDER_SECONDS", "MAILING_BATCH_SIZE",
                 "MAILING_BATCH_SECONDS", "MAILING_PARALLEL_BATCHES", "MAILING_CLAIM_SECONDS",
                 "MAILING_DISPATCH_SECONDS", "EXPORT_FRESH_MINUTES", "EXPORT_NOTICE_ROWS",
                 "IP_HASH_DAYS", "CLOSED_PETITION_DAYS", "SUPPORTER_LINK_MINUTES",
                 "SUPPORTER_SESSION_MINUTES", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_RETRY_SECONDS",
                 "WEBHOOK_MAX_ATTEMPTS", "WEBHOOK_DISABLE_AFTER_FAILURES", "WEBHOOK_SWEEP_SECONDS"):
        if env.get(name):
            found[name] = _env_int(name, None)
    if env.get("MAILING_RATE_PER_WORKER"):
        found["MAILING_RATE_PER_WORKER"] = float(env["MAILING_RATE_PER_WORKER"])
    if env.get("BROKER_PUBLISH_TIMEOUT"):
        found["BROKER_PUBLISH_TIMEOUT"] = float(env["BROKER_PUBLISH_TIMEOUT"])
    if env.get("EVENT_REMINDER_HOURS"):
        found["EVENT_REMINDER_HOURS"] = _env_hours("EVENT_REMINDER_HOURS")
    for name in ("SMTP_STARTTLS", "SESSION_COOKIE_SECURE", "TASKS_EAGER", "EMBEDDED_SCHEDULER",
                 "WEBHOOK_ALLOW_PRIVATE_ADDRESSES"):
        if env.get(name):
            found[name] = _env_bool(name, False)
    return found


def load(instance_path, overrides=None):
    """Merge every source of settings, derive the rest and refuse unsafe production set-ups."""
    config = defaults()
    explicit = {}
    instance_file = Path(instance_path) / "config.py"
    if instance_file.exists():
        namespace = {}
        exec(compile(instance_file.read_text(), str(instance_file), "exec"), namespace)  # noqa: S102
        explicit.update({k: v for k, v in namespace.items() if k.isupper()})
    explicit.update(from_environment())
    explicit.update(overrides or {})
    config.update(explicit)

    production = config["PLACARD_MODE"] == "production"
    if "TASKS_EAGER" not in explicit:
        config["TASKS_EAGER"] = not production
    if "MAIL_TRANSPORT" not in explicit:
        config["MAIL_TRANSPORT"] = "smtp" if production else "outbox"
    if config.get("EMBEDDED_SCHEDULER") is None:
        config["EMBEDDED_SCHEDULER"] = not production and not config.get("TESTING")
    if not config.get("CELERY_BROKER_URL"):
        config["CELERY_BROKER_URL"] = config.get("REDIS_URL") or "memory://"
    if "RATELIMIT_STORAGE_URI" not in explicit and config.get("REDIS_URL"):
        config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"]
    config.setdefault("OUTBOX_DIR", os.path.join(instance_path, "outbox"))

    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        # The busy timeout makes a second writer wait its turn instead of failing
        # with "database is locked"; WAL itself is switched on at connect time.
        options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        if uri in {"sqlite://", "sqlite:///:memory:"}:
            # One shared connection, or each session would see its own empty database.
            options["poolclass"] = StaticPool
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, **explicit.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    else:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            # Connections are checked before use only after sitting idle (see
            # campaign.database): a check on every checkout cost a round trip per request.
            "pool_pre_ping": False, "pool_size": 10, "max_overflow": 20, "pool_recycle": 1800,
            **config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        }

    secret = config.get("SECRET_KEY")
    if production:
        if not secret or secret.lower() in PLACEHOLDER_SECRET_KEYS or len(secret) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a long random value in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
    elif not secret:
        config["SECRET_KEY"] = _instance_secret_key(instance_path)
    if "SESSION_COOKIE_SECURE" not in explicit:
        config["SESSION_COOKIE_SECURE"] = config["PUBLIC_URL"].startswith("https://")
    return config


def _instance_secret_key(instance_path):
    """A key generated once into the instance folder, so sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
