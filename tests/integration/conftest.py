"""The production stack, for real: PostgreSQL, Redis, a Celery worker and beat,
gunicorn, and an SMTP server on loopback.

The configured servers are used when they answer (TEST_POSTGRES_URL,
TEST_REDIS_URL); otherwise throwaway ones are started from the installed
binaries. When neither is possible the suite fails, naming what to install.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests

from campaign import create_app
from campaign.extensions import db
from tests.conftest import TEST_SECRET_KEY
from tests.support.services import (
    create_database,
    free_port,
    postgres_server,
    redis_server,
    stop_process,
)
from tests.support.smtp import SmtpSink

VENV_BIN = Path(sys.executable).parent
REDIS_DB = 13


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def postgres_base_url():
    with postgres_server(os.environ.get("TEST_POSTGRES_URL",
                                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")) as url:
        yield url


@pytest.fixture(scope="session")
def redis_base_url():
    with redis_server(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(redis_base_url):
    url = f"{redis_base_url}/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="session")
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def database_url(postgres_base_url, tmp_path_factory):
    """``placard_test``, built by the Alembic migrations (not create_all), so they are tested too."""
    url = create_database(postgres_base_url, "placard_test")
    from flask_migrate import upgrade

    app = create_app(_base_config(url, "redis://127.0.0.1:1/0", tmp_path_factory.mktemp("migrate"),
                                  smtp_port=1))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _base_config(database_url, redis_url, instance_path, smtp_port, **overrides):
    config = {
        "PLACARD_MODE": "production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "INSTANCE_PATH": str(instance_path),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "SIGN_RATE_LIMIT": "100000 per minute",
        "RSVP_RATE_LIMIT": "100000 per minute",
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def stack(database_url, redis_url, smtp, tmp_path_factory):
    """gunicorn, a Celery worker and Celery beat in production mode, as separate processes."""
    folder = tmp_path_factory.mktemp("stack")
    port = free_port()
    queue = f"placard-test-{uuid.uuid4().hex[:8]}"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PLACARD_", "DATABASE_URL", "REDIS_URL", "SMTP_", "CELERY_"))}
    env.update({
        "PLACARD_MODE": "production",
        "PLACARD_INSTANCE_PATH": str(folder),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CELERY_QUEUE": queue,
        "SIGN_RATE_LIMIT": "100000 per minute",
        "RSVP_RATE_LIMIT": "100000 per minute",
        "RESEND_INTERVAL_SECONDS": "0",
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_SWEEP_MIN_AGE_SECONDS": "2",
        "PAGE_CACHE_SECONDS": "1",
        # Webhook receivers in the tests listen on loopback, and retry in seconds.
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "WEBHOOK_RETRY_SECONDS": "1",
        "WEBHOOK_SWEEP_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    })
    processes = []

    def start(name, *command):
        log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        processes.append((name, subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                 cwd=Path(__file__).parents[2]), log))

    start("web", str(VENV_BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "2", "-k", "gthread",
          "--threads", "8", "campaign:create_app()")
    start("worker", str(VENV_BIN / "celery"), "-A", "worker.app", "worker", "-Q", queue,
          "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
          "-n", f"{queue}@%h")
    start("beat", str(VENV_BIN / "celery"), "-A", "worker.app", "beat", "--loglevel", "INFO",
          "--schedule", str(folder / "beat-schedule"))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base, processes, folder)
        _wait_for_worker(folder)
        yield Stack(base=base, queue=queue, env=env, folder=folder, redis_url=redis_url)
    finally:
        for _name, process, log in processes:
            stop_process(process)
            log.close()


class Stack:
    def __init__(self, base, queue, env, folder, redis_url):
        self.base, self.queue, self.env = base, queue, env
        self.folder, self.redis_url = folder, redis_url

    def log(self, name):
        return (self.folder / f"{name}.log").read_text(errors="replace")


def _wait_until_ready(base, processes, folder, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process, _log in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n" +
                                   (folder / f"{name}.log").read_text(errors="replace")[-3000:])
        try:
            if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("the web server did not become ready")


def _wait_for_worker(folder, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "ready." in (folder / "worker.log").read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError("the Celery worker did not start:\n" +
                       (folder / "worker.log").read_text(errors="replace")[-3000:])


@pytest.fixture(scope="session")
def stack_app(stack, database_url, smtp):
    """An in-process app on the stack's database, broker and queue: for setting up and checking."""
    app = create_app(_base_config(database_url, stack.redis_url, stack.folder / "inproc",
                                  smtp_port=smtp.port, CELERY_QUEUE=stack.queue,
                                  PUBLIC_URL=stack.base, RESEND_INTERVAL_SECONDS=0))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_production_app(database_url, redis_url, smtp, tmp_path):
    """An in-process production app on the test database, with settings of the test's choosing."""
    apps = []

    def build(**overrides):
        app = create_app(_base_config(database_url, redis_url, tmp_path / f"app{len(apps)}",
                                      smtp_port=smtp.port, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()
