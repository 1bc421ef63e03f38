"""The public campaign pages."""

from flask import Blueprint, abort, request

from campaign.campaigns.services import find_visible_campaign, list_published_campaigns
from campaign.pagecache import render_public_page
from campaign.petitions.services import confirmed_counts, displayed_goal
from campaign.petitions.views import sign_form_for

bp = Blueprint("campaigns", __name__)


@bp.get("/")
def index():
    def load():
        campaigns = list_published_campaigns()
        return {"campaigns": campaigns,
                "counts": confirmed_counts(p.id for c in campaigns for p in c.petitions)}

    return render_public_page("campaigns/index.html", load=load)


@bp.get("/campaigns/<slug>")
def show(slug):
    def load():
        campaign = find_visible_campaign(slug)
        if campaign is None:
            abort(404)
        counts = confirmed_counts(p.id for p in campaign.petitions)
        source = request.args.get("source", "")
        return {
            "campaign": campaign, "counts": counts,
            "forms": {p.id: sign_form_for(p, formdata=None, source=source)
                      for p in campaign.petitions},
            "goals": {p.id: displayed_goal(counts[p.id], p.goal) for p in campaign.petitions},
        }

    return render_public_page("campaigns/show.html", load=load)
