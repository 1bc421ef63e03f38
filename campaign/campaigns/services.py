"""Reading campaigns for the public pages."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campaign.campaigns.models import VISIBLE_CAMPAIGN_STATUSES, Campaign, CampaignStatus
from campaign.extensions import db


def list_published_campaigns():
    return db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.PUBLISHED)
        .options(selectinload(Campaign.demands), selectinload(Campaign.petitions))
        .order_by(Campaign.published_at.desc(), Campaign.id.desc())
    ).all()


def find_visible_campaign(slug):
    """The campaign the public may read at ``slug``, with demands and petitions loaded, or None."""
    return db.session.scalars(
        select(Campaign).where(Campaign.slug == slug,
                               Campaign.status.in_(VISIBLE_CAMPAIGN_STATUSES))
        .options(selectinload(Campaign.demands), selectinload(Campaign.petitions))
    ).one_or_none()
