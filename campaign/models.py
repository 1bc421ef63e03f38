"""Every model in one namespace, for the shell, Alembic and tests."""

from campaign.campaigns.models import Campaign, CampaignStatus, Demand
from campaign.mail.models import EmailStatus, OutboundEmail
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.petitions.models import Petition, PetitionCountShard, PetitionStatus
from campaign.signatures.models import Signature, SignatureStatus, Supporter

__all__ = [
    "Campaign", "CampaignStatus", "Demand", "EmailStatus", "OutboundEmail", "Petition",
    "PetitionCountShard", "PetitionStatus", "Signature", "SignatureStatus", "Subscription",
    "SubscriptionStatus", "Supporter",
]
