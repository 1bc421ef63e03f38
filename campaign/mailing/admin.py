"""Administrators' view of the consent record: /admin/subscribers, and lifting a suppression."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaign.accounts.decorators import admin_required
from campaign.extensions import db
from campaign.mailing.records import MAX_QUERY_LENGTH, search_consent_records
from campaign.mailing.unsubscribe import SOFT_BOUNCE_LIMIT, lift_suppression
from campaign.signatures.moderation import REASON_MAX_LENGTH
from campaign.text import clean_paragraphs

bp = Blueprint("admin_mailing", __name__, url_prefix="/admin")


@bp.after_request
def keep_personal_data_private(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/subscribers")
@admin_required
def subscribers():
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    number = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    page, unmatched = search_consent_records(query, number)
    return render_template("admin/subscribers.html", query=query, page=page, unmatched=unmatched,
                           soft_bounce_limit=SOFT_BOUNCE_LIMIT, reason_max=REASON_MAX_LENGTH)


@bp.post("/subscribers/lift-suppression")
@admin_required
def lift_suppression_view():
    email = request.form.get("email", "").strip()[:MAX_QUERY_LENGTH]
    reason = clean_paragraphs(request.form.get("reason", ""))
    back = url_for(".subscribers", q=email) if email else url_for(".subscribers")
    if len(reason) > REASON_MAX_LENGTH:
        flash(_("Please keep the reason under %(max)d characters.", max=REASON_MAX_LENGTH))
        return redirect(back, 303)
    lifted = email and lift_suppression(email, actor=current_user, reason=reason)
    db.session.commit()
    flash(_("Mailings can reach %(email)s again.", email=email) if lifted
          else _("Nothing changed: this address is not suppressed."))
    return redirect(back, 303)
