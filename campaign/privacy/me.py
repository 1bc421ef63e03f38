"""/me: a supporter's own page, opened by a link emailed on request (no password)."""

import json
import time

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from campaign.extensions import db, limiter
from campaign.privacy.access import send_data_copy, supporter_data
from campaign.privacy.forms import SupporterLinkForm
from campaign.privacy.models import LinkPurpose
from campaign.privacy.selfservice import (
    LinkInvalid,
    ask_for_erasure,
    cancel_own_rsvp,
    erase_by_link,
    find_link,
    leave_list,
    send_sign_in_link,
    supporter_overview,
    use_link,
    withdraw_signature,
)
from campaign.signatures.models import Supporter

bp = Blueprint("privacy_me", __name__, url_prefix="/me")

_SESSION_KEY = "supporter"


@bp.after_request
def keep_private(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in_supporter():
    """The supporter whose link opened this browser's page, while it is still open."""
    held = session.get(_SESSION_KEY)
    if not isinstance(held, dict) or held.get("until", 0) < time.time():
        return None
    return db.session.get(Supporter, held.get("id"))


def _supporter_or_sign_in():
    supporter = _signed_in_supporter()
    if supporter is None:
        flash(_("Your page has closed: ask for a new link."))
        abort(redirect(url_for(".home"), 303))
    return supporter


def _link_rate_limit():
    return current_app.config["SIGN_RATE_LIMIT"]


@bp.route("", methods=["GET", "POST"])
@limiter.limit(_link_rate_limit, methods=["POST"])
def home():
    supporter = _signed_in_supporter()
    if supporter is not None:
        signatures, rsvps, subscriptions = supporter_overview(supporter)
        return render_template("privacy/me.html", supporter=supporter, signatures=signatures,
                               rsvps=rsvps, subscriptions=subscriptions)
    form = SupporterLinkForm()
    if form.validate_on_submit():
        send_sign_in_link(form.email.data, locale=str(get_locale()))
        db.session.commit()
        return render_template("privacy/link_sent.html", email=form.email.data)
    return render_template("privacy/ask_link.html", form=form), 422 if form.errors else 200


@bp.get("/link/<token>")
def open_link(token):
    # A GET only shows a button: mail scanners that follow links must not spend them.
    try:
        find_link(token, LinkPurpose.SIGN_IN)
    except LinkInvalid:
        return render_template("privacy/link_invalid.html"), 404
    return render_template("privacy/open_link.html", token=token)


@bp.post("/link/<token>")
def use_sign_in_link(token):
    try:
        supporter_id = use_link(token, LinkPurpose.SIGN_IN)
    except LinkInvalid:
        return render_template("privacy/link_invalid.html"), 404
    db.session.commit()
    session[_SESSION_KEY] = {
        "id": supporter_id,
        "until": time.time() + 60 * current_app.config["SUPPORTER_SESSION_MINUTES"]}
    return redirect(url_for(".home"), 303)


@bp.post("/signatures/<int:signature_id>/withdraw")
def withdraw(signature_id):
    supporter = _supporter_or_sign_in()
    try:
        withdraw_signature(supporter, signature_id)
    except LinkInvalid:
        abort(404)
    db.session.commit()
    flash(_("Your signature was withdrawn."))
    return redirect(url_for(".home"), 303)


@bp.post("/rsvps/<int:rsvp_id>/cancel")
def cancel(rsvp_id):
    supporter = _supporter_or_sign_in()
    try:
        cancel_own_rsvp(supporter, rsvp_id)
    except LinkInvalid:
        abort(404)
    db.session.commit()
    flash(_("Your RSVP was cancelled."))
    return redirect(url_for(".home"), 303)


@bp.post("/subscriptions/<int:subscription_id>/unsubscribe")
def leave(subscription_id):
    supporter = _supporter_or_sign_in()
    try:
        leave_list(supporter, subscription_id)
    except LinkInvalid:
        abort(404)
    db.session.commit()
    flash(_("You left this mailing list."))
    return redirect(url_for(".home"), 303)


@bp.get("/data.json")
def data_download():
    supporter = _supporter_or_sign_in()
    return Response(json.dumps(supporter_data(supporter), ensure_ascii=False, indent=2),
                    mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="placard-data.json"'})


@bp.post("/data")
def data_by_email():
    supporter = _supporter_or_sign_in()
    send_data_copy(supporter)
    db.session.commit()
    flash(_("A copy of your data is on its way to your email address."))
    return redirect(url_for(".home"), 303)


@bp.post("/erase")
def erase():
    supporter = _supporter_or_sign_in()
    ask_for_erasure(supporter)
    db.session.commit()
    flash(_("We emailed you a link: follow it to confirm the erasure."))
    return redirect(url_for(".home"), 303)


@bp.get("/erase/<token>")
def confirm_erasure(token):
    try:
        find_link(token, LinkPurpose.ERASE)
    except LinkInvalid:
        return render_template("privacy/link_invalid.html"), 404
    return render_template("privacy/confirm_erasure.html", token=token)


@bp.post("/erase/<token>")
def erase_confirmed(token):
    try:
        erase_by_link(token)
    except LinkInvalid:
        return render_template("privacy/link_invalid.html"), 404
    db.session.commit()
    session.pop(_SESSION_KEY, None)
    return render_template("privacy/erased.html")


@bp.post("/sign-out")
def sign_out():
    session.pop(_SESSION_KEY, None)
    return redirect(url_for(".home"), 303)
