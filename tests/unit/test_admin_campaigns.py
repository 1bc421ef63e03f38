"""Administrators list every campaign, unpublish one with a reason, and read the audit log;
nobody else finds these pages."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.accounts.audit import record
from campaign.accounts.models import AuditEntry, UserRole
from campaign.campaigns.models import Campaign, CampaignStatus
from campaign.db import utcnow
from campaign.extensions import db
from campaign.signatures.moderation import ReasonRequired, unpublish_campaign
from tests.factories import make_campaign
from tests.factories_accounts import make_user
from tests.unit.test_moderation import login


@pytest.fixture
def world(app):
    with app.test_request_context():
        admin = make_user(role=UserRole.ADMIN, name="Alice Admin")
        organizer_a = make_user(name="Ann Organizer")
        organizer_b = make_user(name="Bob Organizer")
        campaign_a = make_campaign(title="Clean air now", slug="clean-air")
        campaign_a.organizers.append(organizer_a)
        campaign_b = make_campaign(title="Quiet streets", status=CampaignStatus.DRAFT)
        campaign_b.organizers.append(organizer_b)
        db.session.commit()
        return {"admin": admin.id, "a": organizer_a.id, "b": organizer_b.id,
                "admin_id": admin.id, "campaign_a": campaign_a.id, "campaign_b": campaign_b.id}


def test_organizers_and_visitors_do_not_find_the_admin_pages(client, world):
    login(client, world["a"])
    assert client.get("/admin/campaigns").status_code == 404
    assert client.get("/admin/audit").status_code == 404
    assert client.post(f"/admin/campaigns/{world['campaign_a']}/unpublish",
                       data={"reason": "Mine"}).status_code == 404
    anonymous = client.application.test_client()
    response = anonymous.get("/admin/campaigns")
    assert response.status_code == 302 and "/organize/login" in response.headers["Location"]


def test_an_administrator_sees_every_campaign_with_status_and_organizers(client, world):
    page = login(client, world["admin"]).get("/admin/campaigns")
    assert page.status_code == 200
    for text in ("Clean air now", "Quiet streets", "Published", "Draft", "Ann Organizer",
                 "Bob Organizer"):
        assert text in page.text, text
    # Only a public campaign can be unpublished.
    assert f'/admin/campaigns/{world["campaign_a"]}/unpublish' in page.text
    assert f'/admin/campaigns/{world["campaign_b"]}/unpublish' not in page.text


def test_unpublishing_takes_the_campaign_down_with_its_reason_and_an_audit_entry(app, client, world):
    assert client.get("/campaigns/clean-air").status_code == 200
    login(client, world["admin"])
    response = client.post(f"/admin/campaigns/{world['campaign_a']}/unpublish",
                           data={"reason": "Hate speech in the body"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/campaigns#campaign-{world['campaign_a']}")
    with app.app_context():
        campaign = db.session.get(Campaign, world["campaign_a"])
        assert campaign.status == CampaignStatus.DRAFT
        assert campaign.unpublished_reason == "Hate speech in the body"
        [entry] = db.session.scalars(select(AuditEntry)).all()
        assert (entry.actor_id, entry.action, entry.subject_type, entry.subject_id,
                entry.campaign_id, entry.reason) == (
            world["admin_id"], "campaign.unpublish", "campaign", world["campaign_a"],
            world["campaign_a"], "Hate speech in the body")
    assert client.get("/campaigns/clean-air").status_code == 404
    page = client.get("/admin/campaigns")
    assert "The campaign is unpublished." in page.text
    assert "Unpublished: Hate speech in the body" in page.text


def test_unpublishing_needs_a_reason(app, client, world):
    login(client, world["admin"])
    page = client.post(f"/admin/campaigns/{world['campaign_a']}/unpublish", data={"reason": "  "},
                       follow_redirects=True)
    assert "Please give a reason" in page.text
    with app.app_context():
        assert db.session.get(Campaign, world["campaign_a"]).status == CampaignStatus.PUBLISHED
        assert db.session.scalars(select(AuditEntry)).all() == []
        with pytest.raises(ReasonRequired):
            unpublish_campaign(None, db.session.get(Campaign, world["campaign_a"]), "")


def test_unpublishing_a_draft_changes_and_records_nothing(app, client, world):
    login(client, world["admin"])
    page = client.post(f"/admin/campaigns/{world['campaign_b']}/unpublish", data={"reason": "x"},
                       follow_redirects=True)
    assert "Nothing changed" in page.text
    with app.app_context():
        assert db.session.get(Campaign, world["campaign_b"]).unpublished_reason == ""
        assert db.session.scalars(select(AuditEntry)).all() == []
    assert client.post("/admin/campaigns/999999/unpublish", data={"reason": "x"}).status_code == 404


def test_the_audit_log_lists_who_did_what_to_which_campaign_and_why_newest_first(app, client, world):
    login(client, world["admin"])
    client.post(f"/admin/campaigns/{world['campaign_a']}/unpublish", data={"reason": "Spam"})
    with app.app_context():
        entry = record(None, "account.deactivate", "user", 7, reason="Left the team")
        entry.at = utcnow() - timedelta(days=1)
        db.session.commit()
    page = client.get("/admin/audit")
    assert page.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.DOTALL)[1:]
    assert len(rows) == 2
    newest, oldest = rows
    for text in ("Alice Admin", "Campaign unpublished", f"Campaign #{world['campaign_a']}",
                 "Clean air now", "Spam", "<time datetime="):
        assert text in newest, text
    for text in ("account.deactivate", "Account #7", "Left the team", "A deleted account or the system"):
        assert text in oldest, text


def test_the_audit_log_pages_by_fifty(app, client, world):
    with app.app_context():
        start = utcnow() - timedelta(hours=2)
        for number in range(60):
            entry = record(None, "test.action", "campaign", number, reason=f"reason-{number:02}")
            entry.at = start + timedelta(minutes=number)
        db.session.commit()
    login(client, world["admin"])
    first = client.get("/admin/audit")
    reasons = re.findall(r"reason-(\d\d)", first.text)
    assert len(reasons) == 50 and reasons[0] == "59" and reasons[-1] == "10"
    assert "Page 1 of 2" in first.text
    second = client.get("/admin/audit?page=2")
    assert re.findall(r"reason-(\d\d)", second.text) == [f"{n:02}" for n in range(9, -1, -1)]


def test_organizers_read_only_their_own_campaigns_entries(app, client, world):
    login(client, world["admin"])
    client.post(f"/admin/campaigns/{world['campaign_a']}/unpublish", data={"reason": "Spam A"})
    with app.app_context():
        record(None, "test.action", "campaign", world["campaign_b"], campaign_id=world["campaign_b"],
               reason="Entry of B")
        db.session.commit()

    organizer = login(client.application.test_client(), world["a"])
    page = organizer.get(f"/organize/campaigns/{world['campaign_a']}/audit")
    assert page.status_code == 200
    assert "Spam A" in page.text and "Entry of B" not in page.text
    assert organizer.get(f"/organize/campaigns/{world['campaign_b']}/audit").status_code == 404
    # Administrators read any campaign's entries there too.
    assert client.get(f"/organize/campaigns/{world['campaign_b']}/audit").status_code == 200
