"""Engine set-up for the embedded SQLite database.

WAL mode lets page views read while a signer writes. A transaction that will
write starts with ``BEGIN IMMEDIATE``: it takes the write lock at once and so
waits its turn (the busy timeout) instead of failing with "database is locked"
when another writer committed after it began reading.
"""

import contextvars
import sqlite3
import time

from flask import request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

# A pooled server connection unused for this long is checked before it is handed
# out, so a database restart costs no request an error; a busy connection is not.
IDLE_CHECK_SECONDS = 10

# True unless the current request only reads (GET/HEAD/OPTIONS).
write_intent = contextvars.ContextVar("placard_sqlite_write_intent", default=True)


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below issue BEGIN, so savepoints and
    # BEGIN IMMEDIATE work (the driver's own transaction handling allows neither).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


@event.listens_for(Engine, "checkout")
def _check_if_idle(dbapi_connection, connection_record, connection_proxy):
    if isinstance(dbapi_connection, sqlite3.Connection):
        return
    now = time.monotonic()
    last_used = connection_record.info.get("placard_last_checkout")
    connection_record.info["placard_last_checkout"] = now
    if last_used is not None and now - last_used < IDLE_CHECK_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception as error:
        # The pool discards this connection and tries a fresh one.
        raise DisconnectionError(str(error)) from error


def configure_sqlite(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    @app.before_request
    def _declare_write_intent():
        write_intent.set(request.method not in {"GET", "HEAD", "OPTIONS"})
