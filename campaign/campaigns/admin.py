"""Administrators' pages: every campaign, taking one down, and the audit log."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from campaign.accounts.access import managed_campaign_or_404, visible_campaigns
from campaign.accounts.decorators import admin_required
from campaign.campaigns.models import Campaign
from campaign.extensions import db
from campaign.signatures.moderation import (
    AUDIT_ACTION_LABELS,
    REASON_MAX_LENGTH,
    ReasonRequired,
    ReasonTooLong,
    list_audit_entries,
    unpublish_campaign,
)

bp = Blueprint("admin_campaigns", __name__, url_prefix="/admin")


@bp.get("/campaigns")
@admin_required
def campaigns():
    listed = db.session.scalars(
        visible_campaigns(current_user).options(selectinload(Campaign.organizers))).all()
    return render_template("admin/campaigns.html", campaigns=listed, reason_max=REASON_MAX_LENGTH)


@bp.post("/campaigns/<int:campaign_id>/unpublish")
@admin_required
def unpublish(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    back = url_for(".campaigns", _anchor=f"campaign-{campaign.id}")
    try:
        changed = unpublish_campaign(current_user, campaign, request.form.get("reason", ""))
    except ReasonRequired:
        db.session.rollback()
        flash(str(_l("Please give a reason: the organizers will see it.")))
    except ReasonTooLong:
        db.session.rollback()
        flash(str(_l("Please keep the reason under %(max)d characters.", max=REASON_MAX_LENGTH)))
    else:
        db.session.commit()
        flash(str(_l("The campaign is unpublished.") if changed
                  else _l("Nothing changed: this campaign is not published.")))
    return redirect(back, 303)


@bp.get("/audit")
@admin_required
def audit():
    page = list_audit_entries(page=request.args.get("page", 1, type=int))
    return render_template("admin/audit.html", page=page, action_labels=AUDIT_ACTION_LABELS)
