"""Configuration, error pages, languages, probes, security headers and the developer's outbox."""

import re
import time

import pytest
from sqlalchemy import select

from campaign import create_app
from campaign.extensions import db
from campaign.jobs import dispatch_after_commit
from campaign.mail.models import OutboundEmail
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_petition, sign_form, signer


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for secret in (None, "change-me", "short"):
        config = {"PLACARD_MODE": "production", "INSTANCE_PATH": str(tmp_path)}
        if secret:
            config["SECRET_KEY"] = secret
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app(config)


def test_production_reads_its_settings_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://user@db.internal/placard")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("SIGN_RATE_LIMIT", "5 per minute")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["PLACARD_MODE"] == "production"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://user@db.internal/placard"
    assert app.config["CELERY_BROKER_URL"] == "redis://cache.internal:6379/0"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/0"
    assert app.config["TASKS_EAGER"] is False and app.config["MAIL_TRANSPORT"] == "smtp"
    assert app.config["SIGN_RATE_LIMIT"] == "5 per minute"


def test_embedded_mode_generates_and_keeps_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["TASKS_EAGER"] and first.config["MAIL_TRANSPORT"] == "outbox"
    assert first.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///placard.sqlite"


def test_jobs_dispatch_only_after_commit_and_never_after_rollback(ctx, outbox):
    petition = make_petition()
    db.session.commit()
    from campaign.signatures.services import sign_petition

    sign_petition(petition, signer(email="rolled@example.org"))
    db.session.rollback()
    assert outbox.messages() == []
    db.session.commit()
    assert outbox.messages() == []


def test_a_dead_broker_neither_fails_nor_hangs_the_request(make_app):
    app = make_app(TASKS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:9/0",
                   BROKER_PUBLISH_TIMEOUT=1.0)
    with app.app_context():
        petition_id = make_petition(slug="dead-broker").id
        db.session.commit()
    data = sign_form(petition_id)
    started = time.monotonic()
    response = app.test_client().post("/petitions/dead-broker/sign", data=data)
    assert response.status_code == 303
    assert time.monotonic() - started < 5
    with app.app_context():
        assert db.session.scalars(select(OutboundEmail.status)).one() == "pending"


def test_dispatching_an_unknown_job_is_a_programming_error(ctx):
    with pytest.raises(KeyError):
        dispatch_after_commit("placard.nope")


@pytest.mark.parametrize(("path", "status", "text"), [
    ("/no-such-page", 404, "Page not found"),
    ("/campaigns/no-such-campaign", 404, "Page not found"),
    ("/petitions/x/check-email", 404, "Page not found"),
])
def test_error_pages_use_the_site_layout(client, path, status, text):
    response = client.get(path)
    assert response.status_code == status
    assert text in response.text and 'class="site-header"' in response.text


def test_a_wrong_method_gets_a_page_not_a_bare_error(client):
    response = client.get("/petitions/x/sign")
    assert response.status_code == 405 and 'class="site-header"' in response.text


def test_an_unexpected_error_gets_the_500_page(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500 and "Something went wrong" in response.text


def test_the_language_follows_the_browser(client):
    page = client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr-CA">' in page.text
    page = client.get("/", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="fr-CA">' in page.text
    page = client.get("/", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in page.text


def test_the_language_switcher_remembers_the_choice(client):
    response = client.get("/language/fr_CA?next=/campaigns/x")
    assert response.status_code == 303 and response.headers["Location"] == "/campaigns/x"
    assert '<html lang="fr-CA">' in client.get("/", headers={"Accept-Language": "en"}).text
    client.get("/language/en?next=/")
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "fr"}).text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_the_language_switcher_is_not_an_open_redirect(client, target):
    response = client.get("/language/fr_CA", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_an_unknown_language_is_not_found(client):
    assert client.get("/language/xx").status_code == 404


def test_health_probes(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok"}


def test_readiness_fails_when_the_broker_is_down(make_app):
    app = make_app(TASKS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:9/0",
                   BROKER_PUBLISH_TIMEOUT=0.5)
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["broker"].startswith("error")


def test_every_page_carries_security_headers(client):
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(client, ctx):
    make_petition(slug="inline")
    db.session.commit()
    for path in ("/", "/petitions/inline"):
        page = client.get(path).text
        assert "<script>" not in page and "style=" not in page and "<style" not in page


def test_the_developers_outbox_lists_and_shows_sent_mail(app, client, ctx, outbox):
    from campaign.signatures.services import sign_petition

    sign_petition(make_petition(), signer(email="dev@example.org"))
    db.session.commit()
    listing = client.get("/dev/mail/")
    assert listing.status_code == 200 and "dev@example.org" in listing.text
    message_page = client.get("/dev/mail/0000000001")
    assert '<a href="http://localhost/confirm/' in message_page.text
    html = client.get("/dev/mail/0000000001/html")
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert client.get("/dev/mail/../../secret_key").status_code == 404


def test_the_developers_outbox_does_not_exist_in_production(make_app):
    app = make_app(PLACARD_MODE="production", MAIL_TRANSPORT="smtp", TASKS_EAGER=False,
                   CELERY_BROKER_URL="memory://")
    assert app.test_client().get("/dev/mail/").status_code == 404


def test_public_pages_are_reused_for_a_few_seconds_with_each_visitors_own_token(make_app):
    app = make_app(PAGE_CACHE_SECONDS=60, WTF_CSRF_ENABLED=True)
    with app.app_context():
        petition_id = make_petition(slug="cached", title="Before").id
        db.session.commit()
    first, second = app.test_client(), app.test_client()
    page_one = first.get("/petitions/cached").text
    with app.app_context():
        from campaign.petitions.models import Petition

        db.session.get(Petition, petition_id).title = "After"
        db.session.commit()
    page_two = second.get("/petitions/cached").text
    token = re.compile(r'csrf_token" type="hidden" value="([^"]+)"')
    assert "Before" in page_two, "the page should come from the cache"
    assert token.search(page_one).group(1) != token.search(page_two).group(1)
    assert "__placard_csrf_token__" not in page_two
    assert "After" in second.get("/petitions/cached?lang=other").text


def test_a_forbidden_page_gets_the_403_page(app):
    from flask import abort

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    response = app.test_client().get("/forbidden")
    assert response.status_code == 403 and "You may not see this page" in response.text


def test_email_addresses_are_normalised_by_email_validator(client, ctx):
    petition = make_petition(slug="normal")
    db.session.commit()
    response = client.post("/petitions/normal/sign",
                           data=sign_form(petition.id, email="  Ada@EXAMPLE.org "))
    assert response.status_code == 303
    from campaign.signatures.models import Supporter

    supporter = db.session.scalars(select(Supporter)).one()
    assert (supporter.email, supporter.email_key) == ("Ada@example.org", "ada@example.org")


def test_french_pages_and_forms_are_translated(client, ctx):
    make_petition(slug="fr")
    db.session.commit()
    page = client.get("/petitions/fr", headers={"Accept-Language": "fr-CA"}).text
    assert "Signer cette pétition" in page and "Courriel" in page


def test_migrations_build_the_models_schema_on_sqlite(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.sqlite'}",
                      "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": TEST_SECRET_KEY})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"render_as_batch": True})
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        upgrade()
