"""Organizers' pages for campaigns, under /organize/."""

from flask import Blueprint, render_template
from flask_login import current_user

from campaign.accounts.access import visible_campaigns
from campaign.accounts.decorators import organizer_required
from campaign.extensions import db

manage_bp = Blueprint("campaigns_manage", __name__, url_prefix="/organize")


@manage_bp.get("/")
@organizer_required
def dashboard():
    campaigns = db.session.scalars(visible_campaigns(current_user)).all()
    return render_template("campaigns/manage/dashboard.html", campaigns=campaigns)
