"""Placard: advocacy campaigns, petitions, events and mailing lists."""

import logging
import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """Build the application. ``config`` (a mapping) overrides every other source."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("PLACARD_INSTANCE_PATH") \
        or str(ROOT / "instance")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder="static")
    os.makedirs(app.instance_path, exist_ok=True)

    from campaign import config as settings

    app.config.update(settings.load(app.instance_path, config))
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    # Alembic announces each of its plugins at INFO on every command.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    _register_extensions(app)
    _register_blueprints(app)
    _register_request_hooks(app)

    from campaign.cli import register_commands
    from campaign.errors import register_error_handlers
    from campaign.events.views import rsvp_form_after_csrf_failure
    from campaign.petitions.views import sign_form_after_csrf_failure
    from campaign.templating import register_template_helpers

    register_error_handlers(app, on_csrf_error=lambda error: rsvp_form_after_csrf_failure()
                            or sign_form_after_csrf_failure())
    register_template_helpers(app)
    register_commands(app)
    return app


def _register_extensions(app):
    import campaign.models  # noqa: F401 - every table known to the metadata and to Alembic
    from campaign import jobs
    from campaign.accounts.session import init_login
    from campaign.database import configure_sqlite
    from campaign.extensions import babel, csrf, db, limiter, migrate
    from campaign.i18n import select_locale

    db.init_app(app)
    configure_sqlite(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    app.config["RATELIMIT_SWALLOW_ERRORS"] = True
    # Rate-limit headers would cost one more Redis round trip on every limited request.
    app.config["RATELIMIT_HEADERS_ENABLED"] = False
    app.config["RATELIMIT_KEY_PREFIX"] = app.config.get("RATELIMIT_KEY_PREFIX", "placard")
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    init_login(app)
    jobs.init_app(app)


def _register_blueprints(app):
    from campaign.accounts.admin import bp as admin_bp
    from campaign.accounts.views import bp as accounts_bp
    from campaign.api.docs import bp as api_docs_bp
    from campaign.api.manage import bp as api_manage_bp
    from campaign.api.views import bp as api_bp
    from campaign.api.webhook_pages import bp as webhooks_manage_bp
    from campaign.campaigns.admin import bp as admin_campaigns_bp
    from campaign.campaigns.manage import manage_bp as campaigns_manage_bp
    from campaign.campaigns.views import bp as campaigns_bp
    from campaign.events.manage import bp as events_manage_bp
    from campaign.events.views import bp as events_bp
    from campaign.exports.views import admin_bp as admin_exports_bp
    from campaign.exports.views import bp as exports_manage_bp
    from campaign.health import bp as health_bp
    from campaign.i18n import bp as i18n_bp
    from campaign.mail.views import bp as devmail_bp
    from campaign.mailing.admin import bp as admin_mailing_bp
    from campaign.mailing.manage import bp as mailing_manage_bp
    from campaign.mailing.views import bp as mailing_bp
    from campaign.media import bp as media_bp
    from campaign.petitions.manage import manage_bp as petitions_manage_bp
    from campaign.petitions.opendata import bp as opendata_bp
    from campaign.petitions.views import bp as petitions_bp
    from campaign.privacy.admin import bp as admin_privacy_bp
    from campaign.privacy.me import bp as privacy_me_bp
    from campaign.privacy.views import bp as privacy_bp
    from campaign.signatures.manage import bp as signatures_manage_bp
    from campaign.signatures.paper_views import bp as paper_bp
    from campaign.signatures.views import bp as signatures_bp

    for blueprint in (campaigns_bp, petitions_bp, signatures_bp, health_bp, i18n_bp,
                      devmail_bp, accounts_bp, admin_bp, campaigns_manage_bp,
                      signatures_manage_bp, admin_campaigns_bp, petitions_manage_bp, media_bp,
                      opendata_bp, events_bp, events_manage_bp, mailing_bp, admin_mailing_bp,
                      mailing_manage_bp, exports_manage_bp, admin_exports_bp, privacy_bp, paper_bp,
                      admin_privacy_bp, privacy_me_bp, api_bp, api_manage_bp, webhooks_manage_bp,
                      api_docs_bp):
        app.register_blueprint(blueprint)


def _register_request_hooks(app):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from campaign.security_headers import add_security_headers

    if app.config["TRUSTED_PROXIES"]:
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    app.after_request(add_security_headers)
    if app.config["EMBEDDED_SCHEDULER"]:
        from campaign.scheduler import start_embedded_scheduler

        # Started by the first request, so that CLI commands (migrations, demo data)
        # never run periodic jobs.
        app.before_request(lambda: start_embedded_scheduler(app) and None)
