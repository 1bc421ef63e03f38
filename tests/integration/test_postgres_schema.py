"""The migrations build exactly the schema the models describe, on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from campaign.extensions import db


def test_migrations_match_the_models(make_production_app, database_url):
    app = make_production_app()
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, db.metadata) == []


def test_rate_limits_are_shared_through_redis(make_production_app, redis_url):
    import redis

    from tests.factories import sign_form
    from tests.integration.helpers import create_petition

    redis.Redis.from_url(redis_url).flushdb()
    app = make_production_app(SIGN_RATE_LIMIT="2 per minute", WTF_CSRF_ENABLED=False,
                              CELERY_BROKER_URL="redis://127.0.0.1:1/0", BROKER_PUBLISH_TIMEOUT=0.2)
    petition = create_petition(app)
    statuses = []
    for number in range(3):
        # A fresh client each time: the limit follows the address, not a cookie.
        statuses.append(app.test_client().post(
            f"/petitions/{petition['slug']}/sign",
            data=sign_form(petition["id"], email=f"limit{number}@example.org")).status_code)
    assert statuses == [303, 303, 429]
    assert any(b"petitions.sign" in key for key in redis.Redis.from_url(redis_url).keys("*"))


def test_a_connection_the_server_dropped_is_replaced_without_an_error(make_production_app,
                                                                      database_url, monkeypatch):
    import psycopg

    from campaign import database

    # Check every checkout, as after an idle spell, so the test need not wait.
    monkeypatch.setattr(database, "IDLE_CHECK_SECONDS", 0)
    from sqlalchemy import text

    app = make_production_app(CELERY_BROKER_URL="redis://127.0.0.1:1/0",
                              SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    client = app.test_client()
    assert client.get("/readyz").json["checks"]["database"] == "ok"
    with app.app_context():
        pooled_pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.rollback()

    # What a database restart does to the pool's connection (only this app's: the
    # other tests' servers share the database).
    admin_url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pooled_pid,))

    assert client.get("/readyz").json["checks"]["database"] == "ok"
    assert client.get("/").status_code == 200
