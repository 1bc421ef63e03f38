"""commit_alongside on PostgreSQL: the action runs while the COMMIT is in flight, and
what the database answers is never lost."""

import threading
import time

import pytest
from sqlalchemy import text

from campaign.db import CommitFailed, commit_alongside
from campaign.extensions import db


@pytest.fixture
def app(make_production_app):
    app = make_production_app()
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text(
                "CREATE TABLE IF NOT EXISTS commit_alongside_probe (value integer "
                "UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
            connection.execute(text("DELETE FROM commit_alongside_probe"))
        yield app
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE commit_alongside_probe"))


def _values():
    with db.engine.connect() as connection:
        return connection.scalars(text("SELECT value FROM commit_alongside_probe ORDER BY value")).all()


def test_the_action_runs_and_the_transaction_is_committed(app):
    ran = []
    db.session.execute(text("INSERT INTO commit_alongside_probe VALUES (1)"))
    commit_alongside(lambda: ran.append(True))
    assert ran == [True]
    assert _values() == [1]
    # The session goes on with a new transaction as after any commit.
    db.session.execute(text("INSERT INTO commit_alongside_probe VALUES (2)"))
    db.session.commit()
    assert _values() == [1, 2]


def test_an_action_that_fails_still_leaves_the_commit_done_and_the_session_usable(app):
    db.session.execute(text("INSERT INTO commit_alongside_probe VALUES (3)"))

    def fail():
        raise OSError("connection lost")

    with pytest.raises(OSError, match="connection lost"):
        commit_alongside(fail)
    assert _values() == [3]
    assert db.session.scalar(text("SELECT count(*) FROM commit_alongside_probe")) == 1


def test_a_refused_commit_is_reported_and_nothing_is_kept(app):
    ran = []
    # The deferred constraint is only checked at COMMIT, which the database then refuses.
    db.session.execute(text("INSERT INTO commit_alongside_probe VALUES (4), (4)"))
    with pytest.raises(CommitFailed, match="duplicate key"):
        commit_alongside(lambda: ran.append(True))
    assert ran == [True]
    assert _values() == []
    db.session.execute(text("INSERT INTO commit_alongside_probe VALUES (5)"))
    db.session.commit()
    assert _values() == [5]


def test_an_aborted_transaction_is_not_taken_for_a_commit(app):
    with db.session.connection().begin_nested() as savepoint:
        db.session.execute(text("INSERT INTO commit_alongside_probe VALUES (6)"))
        savepoint.commit()
    # An error outside any savepoint aborts the whole transaction on PostgreSQL.
    raw = db.session.connection().connection.driver_connection
    with pytest.raises(Exception, match="division by zero"):
        raw.execute("SELECT 1 / 0")
    with pytest.raises(CommitFailed, match="rolled back"):
        commit_alongside(lambda: None)
    assert _values() == []


def test_other_threads_run_while_the_commit_is_awaited(app):
    """Mailing workers send from several threads of one process: waiting for one thread's
    COMMIT must not hold the others (libpq's own wait would keep the GIL)."""
    with db.engine.begin() as connection:
        connection.execute(text(
            "CREATE OR REPLACE FUNCTION commit_alongside_slow() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.4); RETURN NULL; END $$"))
        connection.execute(text(
            "CREATE CONSTRAINT TRIGGER commit_alongside_slow AFTER INSERT ON commit_alongside_probe "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_alongside_slow()"))
    wakeups, stop = [], threading.Event()

    def tick():
        while not stop.is_set():
            time.sleep(0.01)
            wakeups.append(time.monotonic())

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        db.session.execute(text("INSERT INTO commit_alongside_probe VALUES (7)"))
        started = time.monotonic()
        commit_alongside(lambda: None)  # the trigger makes the COMMIT last 0.4 s
        finished = time.monotonic()
    finally:
        stop.set()
        ticker.join()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER commit_alongside_slow ON commit_alongside_probe"))
            connection.execute(text("DROP FUNCTION commit_alongside_slow()"))
    assert finished - started >= 0.35
    assert _values() == [7]
    # About 40 wakeups if the thread runs freely; none or one if the wait holds the GIL.
    assert len([moment for moment in wakeups if started < moment < finished]) >= 10
