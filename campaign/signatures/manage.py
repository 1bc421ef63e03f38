"""Organizers' pages for a petition's signatures, its numbers and its campaign's audit log."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from campaign.accounts.access import (
    find_managed_signature,
    managed_campaign_or_404,
    managed_petition_or_404,
)
from campaign.accounts.decorators import organizer_required
from campaign.extensions import db
from campaign.i18n import country_choices
from campaign.petitions.charts import daily_signatures_chart
from campaign.petitions.services import campaign_demand_counts
from campaign.petitions.stats import petition_numbers
from campaign.signatures.moderation import (
    AUDIT_ACTION_LABELS,
    REASON_MAX_LENGTH,
    STATUS_FILTERS,
    ReasonRequired,
    ReasonTooLong,
    hide_comment,
    invalidate_signature,
    list_audit_entries,
    list_signatures,
    restore_signature,
    show_comment,
)

bp = Blueprint("signatures_manage", __name__, url_prefix="/organize")

REASON_ERRORS = {
    ReasonRequired: _l("Please give a reason: it is kept in the audit log."),
    ReasonTooLong: _l("Please keep the reason under %(max)d characters.", max=REASON_MAX_LENGTH),
}


@bp.get("/petitions/<int:petition_id>/signatures")
@organizer_required
def signatures(petition_id):
    petition = managed_petition_or_404(current_user, petition_id)
    query = request.args.get("q", "")[:200]
    status = request.args.get("status", "")
    page = list_signatures(petition, query=query, status=status,
                           page=request.args.get("page", 1, type=int))
    return render_template("signatures/manage/list.html", petition=petition,
                           campaign=petition.campaign, page=page, query=query,
                           status=status if status in STATUS_FILTERS else "",
                           statuses=STATUS_FILTERS, reason_max=REASON_MAX_LENGTH,
                           country_names=dict(country_choices(get_locale())))


@bp.get("/petitions/<int:petition_id>/numbers")
@organizer_required
def numbers(petition_id):
    petition = managed_petition_or_404(current_user, petition_id)
    locale = get_locale()
    figures = petition_numbers(petition.id, locale=locale)
    return render_template("petitions/stats/numbers.html", petition=petition,
                           campaign=petition.campaign, numbers=figures,
                           demand_counts=campaign_demand_counts(petition.campaign),
                           chart=daily_signatures_chart(figures.days, locale),
                           pending_days=current_app.config["PENDING_SIGNATURE_DAYS"])


@bp.get("/campaigns/<int:campaign_id>/audit")
@organizer_required
def campaign_audit(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    page = list_audit_entries(campaign_id=campaign.id, page=request.args.get("page", 1, type=int))
    return render_template("signatures/manage/audit.html", campaign=campaign, page=page,
                           action_labels=AUDIT_ACTION_LABELS)


def _moderate(signature_id, action, done):
    signature = find_managed_signature(current_user, signature_id)
    if signature is None:
        abort(404)
    back = url_for(".signatures", petition_id=signature.petition_id,
                   q=request.form.get("q") or None, status=request.form.get("status") or None,
                   page=request.form.get("page", type=int), _anchor=f"signature-{signature.id}")
    try:
        changed = action(current_user, signature, request.form.get("reason", ""))
    except (ReasonRequired, ReasonTooLong) as error:
        db.session.rollback()
        flash(str(REASON_ERRORS[type(error)]))
    else:
        db.session.commit()
        flash(str(done if changed else _l("Nothing changed: this was already done.")))
    return redirect(back, 303)


@bp.post("/signatures/<int:signature_id>/hide-comment")
@organizer_required
def hide(signature_id):
    return _moderate(signature_id, hide_comment, _l("The comment is hidden from the public."))


@bp.post("/signatures/<int:signature_id>/show-comment")
@organizer_required
def show(signature_id):
    return _moderate(signature_id, show_comment, _l("The comment is shown again."))


@bp.post("/signatures/<int:signature_id>/invalidate")
@organizer_required
def invalidate(signature_id):
    return _moderate(signature_id, invalidate_signature,
                     _l("The signature is invalidated and no longer counted."))


@bp.post("/signatures/<int:signature_id>/restore")
@organizer_required
def restore(signature_id):
    return _moderate(signature_id, restore_signature, _l("The signature is restored."))
