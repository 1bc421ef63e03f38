"""Real PostgreSQL and Redis servers for the test suite.

The suite prefers servers that are already running (a developer machine, CI);
when none answers it starts a throwaway one from the locally installed
binaries, so a plain ``python3 dev.py test`` works without any setup.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

__all__ = [
    "ServiceUnavailable",
    "create_database",
    "free_port",
    "postgres_server",
    "redis_server",
    "start_redis",
    "stop_process",
]

POSTGRES_INSTALL = "apt-get install postgresql"
REDIS_INSTALL = "apt-get install redis-server"

# initdb refuses to run as root, so a root test run hands the throwaway
# cluster to this account (the one Debian's postgresql package creates).
POSTGRES_OS_USER = "postgres"


class ServiceUnavailable(RuntimeError):
    """Neither the configured server nor a throwaway one could be reached."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------- PostgreSQL


def _sqlalchemy_url(url: str) -> str:
    # The app only ships the psycopg 3 driver; a bare postgresql:// URL would
    # make SQLAlchemy reach for psycopg2.
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        scheme = "postgresql+psycopg"
    return f"{scheme}://{rest}"


def _libpq_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _postgres_bindir() -> str | None:
    """Directory holding both initdb and pg_ctl, preferring PATH."""
    candidates = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(os.path.dirname(os.path.realpath(initdb)))
    # Debian keeps server binaries off PATH; take the newest major version.
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: _version_key(p.split("/")[-2]), reverse=True)
    candidates.extend(versioned)
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, b), os.X_OK) for b in ("initdb", "pg_ctl")):
            return bindir
    return None


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _run_as_kwargs(owner: pwd.struct_passwd | None) -> dict:
    if owner is None:
        return {}
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def _postgres_owner(tmp: str) -> pwd.struct_passwd | None:
    """Account to run the throwaway cluster as, or None for the current user."""
    if os.geteuid() != 0:
        return None
    try:
        owner = pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError as exc:
        raise ServiceUnavailable(
            "PostgreSQL: running as root and there is no "
            f"{POSTGRES_OS_USER!r} user to own a throwaway cluster"
        ) from exc
    # mkdtemp makes a 0700 folder, so the cluster's owner needs to own it to
    # create the data directory, socket and log inside.
    os.chown(tmp, owner.pw_uid, owner.pw_gid)
    return owner


def _tail(path: str, limit: int = 2000) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()[-limit:]
    except OSError:
        return ""


def _start_cluster(bindir: str, tmp: str, owner: pwd.struct_passwd | None) -> int:
    """initdb + pg_ctl start in ``tmp``; returns the port it listens on."""
    data = os.path.join(tmp, "data")
    log = os.path.join(tmp, "server.log")
    as_owner = _run_as_kwargs(owner)
    # C.UTF-8 matches the Debian clusters the suite otherwise runs on (so
    # case folding of non-ASCII text behaves the same); plain C is the
    # fallback for systems whose libc lacks that locale.
    for locale_args in (["--locale", "C.UTF-8"], ["--no-locale"]):
        init = subprocess.run(
            [
                os.path.join(bindir, "initdb"),
                "--pgdata",
                data,
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                *locale_args,
                "--no-sync",
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
            **as_owner,
        )
        if init.returncode == 0:
            break
    else:
        raise ServiceUnavailable(f"PostgreSQL: initdb failed in {tmp}:\n{init.stdout}{init.stderr}")
    with open(os.path.join(data, "postgresql.conf"), "a", encoding="utf-8") as conf:
        # Durability is pointless for a cluster deleted after the run and
        # fsync dominates test time otherwise.
        conf.write(
            "\n# throwaway test cluster\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{tmp}'\n"
            "fsync = off\n"
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
            "max_connections = 200\n"
        )

    # Another process can grab a free port between our probe and the bind,
    # so retry on a fresh port a few times before giving up.
    for _ in range(3):
        port = free_port()
        start = subprocess.run(
            [
                os.path.join(bindir, "pg_ctl"),
                "--pgdata",
                data,
                "--log",
                log,
                "--options",
                f"-p {port}",
                "--wait",
                "--timeout",
                "60",
                "start",
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
            **as_owner,
        )
        if start.returncode == 0:
            return port
    raise ServiceUnavailable(
        f"PostgreSQL: throwaway cluster in {tmp} did not start:\n{start.stdout}{start.stderr}{_tail(log)}"
    )


def _stop_cluster(bindir: str, tmp: str, owner: pwd.struct_passwd | None) -> None:
    data = os.path.join(tmp, "data")
    result = subprocess.run(
        [os.path.join(bindir, "pg_ctl"), "--pgdata", data, "--mode", "immediate", "--wait", "stop"],
        cwd=tmp,
        capture_output=True,
        text=True,
        **_run_as_kwargs(owner),
    )
    if result.returncode != 0:
        # The postmaster is ours, so killing it by its recorded PID is safe.
        pidfile = os.path.join(data, "postmaster.pid")
        with contextlib.suppress(OSError, ValueError), open(pidfile, encoding="ascii") as fh:
            os.kill(int(fh.readline().strip()), signal.SIGKILL)


def _wait_for_postgres(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not _postgres_answers(url):
        if time.monotonic() > deadline:
            raise ServiceUnavailable(f"PostgreSQL: throwaway server at {url} never answered")
        time.sleep(0.2)


@contextlib.contextmanager
def postgres_server(configured_url: str) -> Iterator[str]:
    """Yield a SQLAlchemy URL of a PostgreSQL server whose user may create databases.

    Uses ``configured_url`` when it answers, otherwise runs a throwaway
    cluster for the duration of the ``with`` block.
    """
    if _postgres_answers(configured_url):
        yield _sqlalchemy_url(configured_url)
        return

    bindir = _postgres_bindir()
    if bindir is None:
        raise ServiceUnavailable(
            f"PostgreSQL is not answering at {configured_url} and no initdb/pg_ctl "
            f"was found to start a throwaway server; install it with "
            f"`{POSTGRES_INSTALL}` or point the suite at a running server"
        )

    tmp = tempfile.mkdtemp(prefix="placard-pg-")
    owner = None
    started = False
    try:
        try:
            owner = _postgres_owner(tmp)
            port = _start_cluster(bindir, tmp, owner)
            started = True
            url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
            _wait_for_postgres(url)
        except ServiceUnavailable as exc:
            raise ServiceUnavailable(
                f"{exc}\n(PostgreSQL was not answering at {configured_url}; "
                f"`{POSTGRES_INSTALL}` provides a server)"
            ) from exc
        yield url
    finally:
        if started:
            _stop_cluster(bindir, tmp, owner)
        shutil.rmtree(tmp, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    """(Re)create database ``name`` on the server of ``base_url``; return its URL."""
    with psycopg.connect(_libpq_url(base_url), autocommit=True, connect_timeout=5) as conn:
        # FORCE ends sessions a previous, crashed run may have left behind.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(_sqlalchemy_url(base_url))
    return urlunsplit(parts._replace(path=f"/{name}"))


# -------------------------------------------------------------------- Redis


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _without_db(url: str) -> str:
    # Callers pick their own database number per test session.
    return urlunsplit(urlsplit(url)._replace(path="")).rstrip("/")


def _redis_binary() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    for path in ("/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"):
        if os.access(path, os.X_OK):
            return path
    return None


def start_redis(port: int, timeout: float = 15.0) -> subprocess.Popen:
    """Start a throwaway redis-server on 127.0.0.1:``port`` and wait until it answers.

    The caller owns the process; end it with :func:`stop_process`, which also
    removes its scratch folder. Starting again on the same port after a stop
    brings back an empty server, which is how tests simulate a Redis restart.
    """
    binary = _redis_binary()
    if binary is None:
        raise ServiceUnavailable(f"Redis: no redis-server binary found; install it with `{REDIS_INSTALL}`")
    scratch = tempfile.mkdtemp(prefix="placard-redis-")
    log_path = os.path.join(scratch, "redis.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                scratch,
                "--loglevel",
                "warning",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=scratch,
        )
    proc.scratch_dir = scratch  # type: ignore[attr-defined]

    url = f"redis://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while not _redis_answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            output = _tail(log_path)
            stop_process(proc)
            raise ServiceUnavailable(
                f"Redis: throwaway redis-server on port {port} did not answer:\n{output}"
            )
        time.sleep(0.05)
    return proc


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """End a process started by the suite (SIGTERM, then SIGKILL) and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    scratch = getattr(proc, "scratch_dir", None)
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def redis_server(configured_url: str) -> Iterator[str]:
    """Yield ``redis://host:port`` (no database number) of a Redis server.

    Uses ``configured_url`` when it answers, otherwise runs a throwaway
    redis-server for the duration of the ``with`` block.
    """
    if _redis_answers(configured_url):
        yield _without_db(configured_url)
        return

    if _redis_binary() is None:
        raise ServiceUnavailable(
            f"Redis is not answering at {configured_url} and no redis-server was "
            f"found to start a throwaway one; install it with `{REDIS_INSTALL}` "
            f"or point the suite at a running server"
        )
    port = free_port()
    try:
        proc = start_redis(port)
    except ServiceUnavailable as exc:
        raise ServiceUnavailable(f"{exc}\n(Redis was not answering at {configured_url})") from exc
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_process(proc)
