"""The public campaign pages."""

from flask import Blueprint, abort, render_template, request

from campaign.campaigns.services import find_visible_campaign, list_published_campaigns
from campaign.petitions.services import confirmed_counts, displayed_goal
from campaign.petitions.views import sign_form_for

bp = Blueprint("campaigns", __name__)


@bp.get("/")
def index():
    campaigns = list_published_campaigns()
    counts = confirmed_counts(p.id for c in campaigns for p in c.petitions)
    return render_template("campaigns/index.html", campaigns=campaigns, counts=counts)


@bp.get("/campaigns/<slug>")
def show(slug):
    campaign = find_visible_campaign(slug)
    if campaign is None:
        abort(404)
    counts = confirmed_counts(p.id for p in campaign.petitions)
    source = request.args.get("source", "")
    forms = {p.id: sign_form_for(p, source=source) for p in campaign.petitions}
    goals = {p.id: displayed_goal(counts[p.id], p.goal) for p in campaign.petitions}
    return render_template("campaigns/show.html", campaign=campaign, counts=counts, forms=forms,
                           goals=goals)
