from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.campaigns.models import enum_column
from campaign.db import TimestampMixin, UTCDateTime
from campaign.extensions import db

TOKEN_NAME_MAX = 100
WEBHOOK_URL_MAX = 500

# The campaigns a token is limited to, when it is not given all of its owner's.
api_token_campaigns = Table(
    "api_token_campaigns", db.metadata,
    Column("token_id", ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class ApiToken(TimestampMixin, db.Model):
    """A key to the API, acting as its owner within its campaigns.

    Only the SHA-256 hash of the secret is kept; the organizer sees the secret
    once, when it is made. ``prefix`` (the secret's first characters) lets them
    tell their tokens apart in the list. A token never sees more than its owner:
    an owner who loses a campaign, or is deactivated, takes the token with them.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    all_campaigns: Mapped[bool] = mapped_column(Boolean, default=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user = relationship("User")
    campaigns = relationship("Campaign", secondary=api_token_campaigns, order_by="Campaign.title")

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class WebhookEndpoint(TimestampMixin, db.Model):
    """An organizer's HTTPS address that hears of each new confirmed signature and attendance
    in one campaign. Turned off after too many failures in a row; its owner is told."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                nullable=True)
    url: Mapped[str] = mapped_column(String(WEBHOOK_URL_MAX))
    # Kept in clear: each delivery is signed with it (HMAC-SHA256), as the receiver checks.
    secret: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[str] = mapped_column(String(200), default="")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    campaign = relationship("Campaign")
    user = relationship("User")


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"        # gave up: retries used up, or the endpoint was turned off
    DISCARDED = "discarded"  # what it told of is gone (erased supporter, deleted record)


class WebhookDelivery(db.Model):
    """One notice to one endpoint: which record, and how sending it went. The body is built
    when it is sent, from the record as it is then, so an erased supporter is never sent."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # "signature" or "attendance"
    record_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[WebhookDeliveryStatus] = mapped_column(
        enum_column(WebhookDeliveryStatus, "webhook_delivery_status"),
        default=WebhookDeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class PersonProfile(TimestampMixin, db.Model):
    """What one campaign's API clients said of a person: their names, postal address and
    language, as that campaign knows them.

    Supporters are shared by every campaign (one record per email address), so the
    API never writes another campaign's view of a person, and never shows a token
    what a person told another campaign: it reads this, else what the person gave
    the token's own petitions and events.
    """

    __tablename__ = "person_profiles"
    __table_args__ = (UniqueConstraint("campaign_id", "supporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True)
    given_name: Mapped[str] = mapped_column(String(100), default="")
    family_name: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    locale: Mapped[str] = mapped_column(String(8), default="")
