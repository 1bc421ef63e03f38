"""The public campaign pages."""

from flask import Blueprint, abort, redirect, request, url_for

from campaign.campaigns.services import (
    find_redirected_slug,
    find_visible_campaign,
    list_published_campaigns,
)
from campaign.events.services import upcoming_campaign_events
from campaign.pagecache import render_public_page
from campaign.petitions.services import campaign_demand_counts, confirmed_counts, displayed_goal
from campaign.petitions.views import render_sign_page, sign_form_for

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
            # A renamed campaign's old address answers with its new one.
            new_slug = find_redirected_slug("campaign", slug)
            if new_slug is None:
                abort(404)
            abort(redirect(url_for(".show", slug=new_slug, **request.args), 301))
        counts = confirmed_counts(p.id for p in campaign.petitions)
        source = request.args.get("source", "")
        return {
            "campaign": campaign, "counts": counts,
            "forms": {p.id: sign_form_for(p, formdata=None, source=source)
                      for p in campaign.petitions},
            "goals": {p.id: displayed_goal(counts[p.id], p.goal) for p in campaign.petitions},
            "demand_counts": campaign_demand_counts(campaign),
            "events": upcoming_campaign_events(campaign.id),
        }

    return render_sign_page("campaigns/show.html", load=load)
