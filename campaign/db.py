"""Column and transaction helpers shared by every feature."""

import select
import uuid
from datetime import UTC, date, datetime

from psycopg import pq
from sqlalchemy import DateTime, String, TypeDecorator, func, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import FunctionElement

from campaign.extensions import db


def utcnow():
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite keeps no offset, so values are stored naive in UTC and given their
    zone back on the way out; PostgreSQL uses ``timestamptz`` as it is.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class random_uuid_text(FunctionElement):
    """A fresh random UUID as text, computed by the database: the server default of every
    ``uuid`` column, so that rows written by raw SQL or COPY get one too."""

    type = String()
    inherit_cache = True


@compiles(random_uuid_text, "postgresql")
def _random_uuid_postgresql(element, compiler, **kw):
    return "(gen_random_uuid()::text)"


@compiles(random_uuid_text, "sqlite")
def _random_uuid_sqlite(element, compiler, **kw):
    # Version 4 layout from random bytes: SQLite has no UUID function.
    return ("(lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
            "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
            "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))))")


def new_uuid():
    return str(uuid.uuid4())


class PublicIdMixin:
    """``uuid``: the identifier the API shows (``placard:<uuid>``) and puts in its URLs, so
    that the database's sequential ids, which tell how many rows there are, stay private."""

    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid,
                                      server_default=random_uuid_text())


_statements = {}


def dialect_insert(model):
    """The dialect's ``insert`` (which knows ``ON CONFLICT``) into ``model``'s table.

    On the table, not the mapped class: a Core insert skips the ORM's bulk-insert
    machinery, which cost more than the statement on the sign path.
    """
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model.__table__)


def prepared(key, build):
    """A statement built once per database dialect and reused with fresh parameters.

    Building an INSERT from a dict of values on every call costs more CPU than
    executing it; a statement executed with a parameter dict is built once.
    """
    cache_key = (db.session.get_bind().dialect.name, key)
    statement = _statements.get(cache_key)
    if statement is None:
        statement = _statements[cache_key] = build()
    return statement


def insert_ignoring_conflicts(model, values, returning=None):
    """``INSERT … ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite alike.

    Returns the ``returning`` column of the new row, or None when a row with the
    same unique key was already there (inserted by a concurrent request, say).
    """
    if returning is None:
        statement = prepared(("insert-ignore", model), lambda: dialect_insert(model)
                             .on_conflict_do_nothing())
        return db.session.execute(statement, values).rowcount or None
    statement = prepared(("insert-ignore", model, returning), lambda: dialect_insert(model)
                         .on_conflict_do_nothing().returning(model.__table__.c[returning.key]))
    return db.session.execute(statement, values).scalar_one_or_none()


def utc_day(column):
    """A SQL expression for the UTC calendar day of a timestamp column, on either database."""
    # A literal, not a bound parameter: PostgreSQL accepts the GROUP BY only
    # when it is written exactly as the selected expression.
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.date(column)  # SQLite keeps UTC already (see UTCDateTime)


def utc_iso_text(column):
    """A SQL expression for a timestamp column as ISO 8601 UTC text (``2026-07-27T18:00:00Z``),
    formatted by the database: a large export then skips a Python datetime per cell."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(literal_column("'UTC'"), column),
                            literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"))
    return func.strftime(literal_column("'%Y-%m-%dT%H:%M:%SZ'"), column)


def as_date(value):
    """A day as :func:`utc_day` returned it (a date on PostgreSQL, a string on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


class CommitFailed(Exception):
    """The database refused a COMMIT that :func:`commit_alongside` had already sent."""


def commit_alongside(action):
    """Commit the session's transaction and run ``action()`` at the same moment.

    For a step that must be recorded exactly when it happens outside the
    database (a mailing's final "." to the SMTP server): on PostgreSQL the COMMIT
    is sent, ``action()`` runs while it is in flight, and only then is the answer
    awaited. Once the COMMIT has left this process the server carries it out even
    if the process dies, so a crash can only fall between two socket writes, not
    across a commit's round trip and disk flush. Elsewhere (SQLite), the commit
    comes first. ``action()``'s exception, if any, is raised after the commit's
    answer has been read; a refused COMMIT raises :class:`CommitFailed`.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        db.session.commit()
        action()
        return
    pgconn = connection.connection.driver_connection.pgconn
    pgconn.send_query(b"COMMIT")
    # psycopg's connections are non-blocking: flush what the kernel did not take.
    while pgconn.flush():
        select.select([pgconn.socket], [pgconn.socket], [])
        pgconn.consume_input()
    try:
        action()
    finally:
        failure = None
        while (result := _next_result(pgconn)) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                failure = (result.error_message or b"").decode(errors="replace")
            elif result.command_status != b"COMMIT":
                # An aborted transaction answers COMMIT with ROLLBACK, and no error.
                failure = "the transaction was rolled back"
        if failure is not None:
            db.session.rollback()
            raise CommitFailed(failure.strip())
        # The transaction is over; psycopg sees that and SQLAlchemy's commit only ends
        # its own bookkeeping (psycopg does not send a second COMMIT when idle).
        db.session.commit()


def _next_result(pgconn):
    """libpq's next result, waited for in ``select`` (which lets other threads run):
    libpq's own wait in ``get_result`` would hold the GIL for the whole round trip."""
    pgconn.consume_input()
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    return pgconn.get_result()
