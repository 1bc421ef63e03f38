"""The privacy notice, written from the settings that decide what is kept and for how long."""

from flask import Blueprint, current_app, render_template

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
def notice():
    config = current_app.config
    return render_template(
        "privacy/notice.html",
        organisation=config["ORGANISATION_NAME"],
        address=config["ORGANISATION_ADDRESS"],
        pending_days=config["PENDING_SIGNATURE_DAYS"],
        confirm_hours=config["CONFIRM_TOKEN_HOURS"],
        ip_hash_days=config["IP_HASH_DAYS"],
        closed_days=config["CLOSED_PETITION_DAYS"],
        contact=config["PRIVACY_CONTACT"])
