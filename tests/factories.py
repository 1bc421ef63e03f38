"""Plain factory functions: each makes one valid object, overridable field by field."""

import itertools

from campaign.campaigns.models import Campaign, CampaignStatus, Demand
from campaign.db import utcnow
from campaign.extensions import db
from campaign.petitions.models import Petition, PetitionStatus
from campaign.petitions.services import create_count_shards
from campaign.signatures.services import SignerDetails

_sequence = itertools.count(1)


def make_campaign(**overrides):
    number = next(_sequence)
    values = {"slug": f"campaign-{number}", "title": f"Campaign {number}",
              "summary": "A campaign for testing.", "body": "Some **bold** text.",
              "status": CampaignStatus.PUBLISHED, "published_at": utcnow()}
    values.update(overrides)
    campaign = Campaign(**values)
    campaign.demands = [Demand(position=0, text="First demand"),
                        Demand(position=1, text="Second demand")]
    db.session.add(campaign)
    db.session.flush()
    return campaign


def make_petition(campaign=None, **overrides):
    number = next(_sequence)
    values = {"slug": f"petition-{number}", "title": f"Petition {number}",
              "target": "The Decision Maker", "body": "We ask for peace.", "goal": 100,
              "status": PetitionStatus.OPEN}
    values.update(overrides)
    petition = Petition(campaign=campaign or make_campaign(), **values)
    db.session.add(petition)
    db.session.flush()
    create_count_shards(petition)
    db.session.flush()
    return petition


def signer(**overrides):
    number = next(_sequence)
    values = {"first_name": "Ada", "last_name": "Lovelace", "email": f"ada{number}@example.org",
              "postal_code": "M5V 2T6", "country": "CA", "locale": "en",
              "ip_address": "127.0.0.1"}
    values.update(overrides)
    return SignerDetails(**values)


def sign_form(petition_id, **overrides):
    """The fields a browser posts to sign petition ``petition_id``, with their form prefix."""
    values = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org",
              "postal_code": "M5V 2T6", "country": "CA"}
    values.update(overrides)
    return {f"p{petition_id}-{name}": value for name, value in values.items()}
