"""Administrators exercising a supporter's rights on their behalf (a request by post or
by phone): a copy of their data, or their erasure. Both start from /admin/subscribers."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaign.accounts.audit import record
from campaign.accounts.decorators import admin_required
from campaign.extensions import db
from campaign.privacy.access import send_data_copy
from campaign.privacy.erasure import erase_supporter
from campaign.signatures.models import Supporter

bp = Blueprint("admin_privacy", __name__, url_prefix="/admin")


def _supporter_or_404(supporter_id):
    supporter = db.session.get(Supporter, supporter_id)
    if supporter is None or not supporter.email:
        abort(404)
    return supporter


@bp.post("/supporters/<int:supporter_id>/send-data")
@admin_required
def send_data(supporter_id):
    supporter = _supporter_or_404(supporter_id)
    send_data_copy(supporter)
    record(current_user, "supporter.data_sent", "supporter", supporter.id)
    db.session.commit()
    flash(_("A copy of everything held on %(email)s is on its way to that address.",
            email=supporter.email))
    return redirect(url_for("admin_mailing.subscribers", q=supporter.email), 303)


@bp.post("/supporters/<int:supporter_id>/erase")
@admin_required
def erase(supporter_id):
    supporter = _supporter_or_404(supporter_id)
    if request.form.get("confirm") != "yes":
        flash(_("Nothing was erased: please tick the box to confirm."))
        return redirect(url_for("admin_mailing.subscribers", q=supporter.email), 303)
    erase_supporter(supporter, actor=current_user)
    db.session.commit()
    flash(_("The supporter and everything that named them were erased."))
    return redirect(url_for("admin_mailing.subscribers"), 303)
