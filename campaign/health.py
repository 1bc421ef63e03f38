"""Liveness and readiness probes for load balancers and orchestrators."""

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from campaign.extensions import csrf, db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = {"database": _check_database()}
    if not current_app.config["TASKS_EAGER"]:
        checks["broker"] = _check_broker()
    ready = all(result == "ok" for result in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _check_database():
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:
        db.session.rollback()
        return f"error: {type(error).__name__}"


def _check_broker():
    url = current_app.config["CELERY_BROKER_URL"]
    if not url.startswith(("redis://", "rediss://")):
        return "ok"
    timeout = current_app.config["BROKER_PUBLISH_TIMEOUT"]
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        client.ping()
        client.close()
        return "ok"
    except Exception as error:
        return f"error: {type(error).__name__}"


csrf.exempt(bp)
