"""Every model in one namespace, for the shell, Alembic and tests."""

from campaign.accounts.models import AccountToken, AuditEntry, TokenPurpose, User, UserRole
from campaign.api.models import (
    ApiToken,
    PersonProfile,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    api_token_campaigns,
)
from campaign.campaigns.models import (
    Campaign,
    CampaignStatus,
    Demand,
    SlugRedirect,
    campaign_organizers,
)
from campaign.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus
from campaign.exports.models import ExportRecord, ExportStatus
from campaign.mail.models import EmailStatus, OutboundEmail
from campaign.mailing.models import (
    Delivery,
    DeliveryStatus,
    Mailing,
    MailingStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from campaign.petitions.models import Petition, PetitionCountShard, PetitionStatus, PetitionVersion
from campaign.privacy.models import LinkPurpose, SupporterLink
from campaign.signatures.models import (
    DemandCountShard,
    Signature,
    SignatureDemand,
    SignatureStatus,
    Supporter,
)
from campaign.tags.models import Tag, Tagging

__all__ = [
    "AccountToken",
    "ApiToken",
    "AuditEntry",
    "Campaign",
    "CampaignStatus",
    "Delivery",
    "DeliveryStatus",
    "Demand",
    "DemandCountShard",
    "EmailStatus",
    "Event",
    "EventKind",
    "EventStatus",
    "ExportRecord",
    "ExportStatus",
    "LinkPurpose",
    "Mailing",
    "MailingStatus",
    "OutboundEmail",
    "PersonProfile",
    "Petition",
    "PetitionCountShard",
    "PetitionStatus",
    "PetitionVersion",
    "Rsvp",
    "RsvpStatus",
    "Signature",
    "SignatureDemand",
    "SignatureStatus",
    "SlugRedirect",
    "Subscription",
    "SubscriptionStatus",
    "Supporter",
    "SupporterLink",
    "Suppression",
    "SuppressionReason",
    "Tag",
    "Tagging",
    "TokenPurpose",
    "User",
    "UserRole",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "api_token_campaigns",
    "campaign_organizers",
]
