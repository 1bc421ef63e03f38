"""Leaving a mailing list, and the bounce webhook.

``GET /unsubscribe/<token>`` shows; ``POST`` unsubscribes at once, and is also the
RFC 8058 one-click target that mail clients post to (no cookie, no CSRF token).
Mail scanners that prefetch links only ever GET, so a GET never unsubscribes.
"""

import hmac
import logging

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from campaign.campaigns.models import Campaign
from campaign.extensions import csrf, db
from campaign.mailing.models import SubscriptionStatus
from campaign.mailing.notices import NoticeError, apply_notices, parse_notices_json
from campaign.mailing.unsubscribe import (
    find_subscription_by_token,
    unsubscribe,
    unsubscribe_everywhere,
)
from campaign.signatures.models import Supporter

log = logging.getLogger(__name__)

bp = Blueprint("mailing", __name__)

# 1000 notices with long details fit; a larger batch should be split.
WEBHOOK_MAX_BYTES = 2 * 1024 * 1024


@bp.after_request
def keep_tokens_private(response):
    # The token is in the address: never pass it on in a Referer header, and
    # never keep the page in a shared cache.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_problem():
    return render_template("mailing/link_problem.html"), 404


def _page(subscription, token, state):
    campaign = db.session.get(Campaign, subscription.campaign_id)
    return render_template("mailing/unsubscribe.html", campaign=campaign, token=token,
                           state=state)


@bp.get("/unsubscribe/<token>", endpoint="unsubscribe")
def show(token):
    subscription = find_subscription_by_token(token)
    if subscription is None:
        return _link_problem()
    subscribed = subscription.status == SubscriptionStatus.SUBSCRIBED
    return _page(subscription, token, "subscribed" if subscribed else "already")


# Exempt from CSRF: RFC 8058 clients post without our cookie or form token. The
# token in the address is what authorises the request, not a session, so a CSRF
# token would protect nothing here; it would only fail visitors whose page sat
# open past the form token's lifetime.
@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_post(token):
    subscription = find_subscription_by_token(token)
    if subscription is None:
        return _link_problem()
    unsubscribe(subscription)
    db.session.commit()
    return _page(subscription, token, "done")


# Exempt for the same reason: the link's token, not the visitor's session, is the
# authority, and anyone holding it can already unsubscribe with one POST.
@bp.post("/unsubscribe/<token>/all")
@csrf.exempt
def unsubscribe_all(token):
    subscription = find_subscription_by_token(token)
    if subscription is None:
        return _link_problem()
    unsubscribe_everywhere(db.session.get(Supporter, subscription.supporter_id))
    db.session.commit()
    return render_template("mailing/unsubscribed_all.html")


def _json_error(message, status, headers=None):
    return jsonify(error=message), status, headers or {}


def _authorised(expected):
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Bytes: compare_digest refuses str with non-ASCII characters.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


@bp.post("/webhooks/bounces")
@csrf.exempt
def bounce_webhook():
    """Bounce and complaint notices from the mail provider (shape: mailing.notices)."""
    expected = current_app.config.get("BOUNCE_WEBHOOK_TOKEN") or ""
    if not expected:
        abort(404)
    if not _authorised(expected):
        return _json_error("missing or wrong bearer token", 401,
                           {"WWW-Authenticate": 'Bearer realm="bounces"'})
    if request.mimetype != "application/json":
        return _json_error("Content-Type must be application/json", 415)
    request.max_content_length = WEBHOOK_MAX_BYTES
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _json_error(f"the body is larger than {WEBHOOK_MAX_BYTES} bytes; "
                           "send the notices in smaller batches", 413)
    try:
        notices = parse_notices_json(body)
    except NoticeError as wrong:
        return _json_error(str(wrong), 400)
    apply_notices(notices)
    db.session.commit()
    log.info("bounce webhook: %d notices applied", len(notices))
    return jsonify(applied=len(notices))
