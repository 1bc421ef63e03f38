"""An organizer writes the petitions of a campaign, and edits them after people signed."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaign.campaigns.models import Campaign, CampaignStatus, SlugRedirect
from campaign.extensions import db
from campaign.petitions.models import (
    COUNT_SHARDS,
    Petition,
    PetitionCountShard,
    PetitionStatus,
    PetitionVersion,
)
from campaign.signatures.models import Signature
from campaign.signatures.services import sign_petition
from tests.factories import make_campaign, make_petition, signer
from tests.factories_accounts import login, make_user


@pytest.fixture
def world(app):
    with app.app_context():
        user = make_user(email="ana@example.org")
        campaign = make_campaign(slug="peace")
        campaign.organizers.append(user)
        db.session.commit()
        return {"user": user.id, "campaign": campaign.id}


@pytest.fixture
def client(app, world):
    client = app.test_client()
    login(client, world["user"])
    return client


def petition_form(**overrides):
    data = {"title": "Sign the treaty", "slug": "", "target": "The President", "body": "We ask for *peace*.",
            "goal": "5000", "deadline_date": "", "deadline_time": "", "timezone": "UTC",
            "required_fields": ["postal_code"], "consent_wording": "", "status": "open"}
    data.update(overrides)
    return data


def create(client, world, **overrides):
    return client.post(f"/organize/campaigns/{world['campaign']}/petitions/new",
                       data=petition_form(**overrides))


def the_petition(app, slug="sign-the-treaty"):
    with app.app_context():
        petition = db.session.scalars(select(Petition).where(Petition.slug == slug)).one()
        db.session.expunge(petition)
        return petition


def test_an_organizer_creates_a_petition_with_its_settings_and_count_rows(app, client, world):
    response = create(client, world, deadline_date="2031-07-27", deadline_time="18:30",
                      timezone="America/Toronto", required_fields=["postal_code", "comment"],
                      consent_wording="Send me news of the peace campaign", signers_choose_demands="y")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/organize/campaigns/{world['campaign']}/edit#petitions")
    petition = the_petition(app)
    assert (petition.title, petition.target, petition.goal) == ("Sign the treaty", "The President", 5000)
    # 18:30 in Toronto in summer (UTC−4) is 22:30 UTC.
    assert petition.deadline_at == datetime(2031, 7, 27, 22, 30, tzinfo=UTC)
    assert petition.required_fields == ["postal_code", "comment"]
    assert petition.consent_wording == "Send me news of the peace campaign"
    assert petition.signers_choose_demands is True
    assert petition.status == PetitionStatus.OPEN and petition.current_version == 1
    with app.app_context():
        shards = db.session.scalars(select(PetitionCountShard.confirmed)
                                    .where(PetitionCountShard.petition_id == petition.id)).all()
    assert shards == [0] * COUNT_SHARDS
    assert "Sign the treaty" in client.get(f"/organize/campaigns/{world['campaign']}/edit").text


def test_the_edit_page_shows_the_deadline_in_the_time_zone_last_chosen(app, client, world):
    create(client, world, deadline_date="2031-01-15", timezone="Asia/Seoul")
    petition = the_petition(app)
    assert petition.deadline_at == datetime(2031, 1, 15, 14, 59, tzinfo=UTC)  # 23:59 in Seoul (UTC+9)
    page = client.get(f"/organize/petitions/{petition.id}/edit").text
    assert 'value="2031-01-15"' in page and 'value="23:59"' in page
    assert '<option selected value="Asia/Seoul">' in page


def test_a_deadline_in_the_hour_the_clocks_skip_is_refused(app, client, world):
    response = create(client, world, deadline_date="2031-03-09", deadline_time="02:30",
                      timezone="America/Toronto")
    assert response.status_code == 422
    assert "does not exist in that time zone" in response.text


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": ""}, "Please give the petition a title."),
    ({"target": ""}, "Please say who the petition is addressed to."),
    ({"goal": "lots"}, "Please enter a whole number"),
    ({"goal": "0"}, "Please choose a goal between"),
    ({"deadline_time": "12:00"}, "Please choose a date as well."),
    ({"timezone": "Mars/Olympus_Mons"}, "Not a valid choice"),
    ({"required_fields": ["email"]}, "valid choice"),
])
def test_a_petition_form_with_mistakes_is_shown_again_with_them(app, client, world, fields, message):
    response = create(client, world, **fields)
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(select(Petition.id)) is None


def test_editing_a_petition_nobody_signed_changes_it_in_place(app, client, world):
    create(client, world)
    petition = the_petition(app)
    client.post(f"/organize/petitions/{petition.id}/edit", data=petition_form(body="New text"))
    edited = the_petition(app)
    assert edited.body == "New text" and edited.current_version == 1 and edited.text_edited_at is None
    with app.app_context():
        assert db.session.scalar(select(PetitionVersion.id)) is None


def test_editing_the_text_after_a_signature_keeps_the_wording_the_signer_saw(app, client, world):
    create(client, world)
    petition = the_petition(app)
    with app.app_context():
        db.session.get(Campaign, world["campaign"]).status = CampaignStatus.PUBLISHED
        db.session.commit()
        sign_petition(db.session.get(Petition, petition.id), signer())
        db.session.commit()

    # Other settings change in place.
    client.post(f"/organize/petitions/{petition.id}/edit", data=petition_form(goal="9000"))
    assert the_petition(app).current_version == 1

    response = client.post(f"/organize/petitions/{petition.id}/edit",
                           data=petition_form(title="Sign the peace treaty", body="We demand *peace*."),
                           follow_redirects=True)
    assert "the earlier version is listed below" in response.text
    edited = the_petition(app, "sign-the-peace-treaty")
    assert edited.current_version == 2 and edited.text_edited_at is not None
    with app.app_context():
        version = db.session.scalars(select(PetitionVersion)).one()
        recorded = db.session.scalar(select(Signature.petition_version))
    assert (version.version, version.title, version.target, version.body) == (
        1, "Sign the treaty", "The President", "We ask for *peace*.")
    assert recorded == version.version
    page = response.text
    assert "Earlier wordings" in page and "Version 1, replaced on" in page
    assert "We ask for <em>peace</em>." in page

    client.post(f"/organize/petitions/{edited.id}/edit",
                data=petition_form(title="Sign the peace treaty", body="Third text"))
    with app.app_context():
        assert db.session.scalars(select(PetitionVersion.version).order_by(PetitionVersion.version)).all() \
            == [1, 2]


def test_a_renamed_petition_answers_its_old_address_with_a_301(app, client, world):
    with app.app_context():
        petition = make_petition(campaign=db.session.get(Campaign, world["campaign"]), slug="old-petition")
        db.session.commit()
        petition_id = petition.id
    client.post(f"/organize/petitions/{petition_id}/edit", data=petition_form(slug="new-petition"))
    moved = client.get("/petitions/old-petition")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/petitions/new-petition")
    assert client.get("/petitions/new-petition").status_code == 200
    assert client.get("/petitions/never-was").status_code == 404
    with app.app_context():
        assert db.session.execute(select(SlugRedirect.kind, SlugRedirect.old_slug)).one() == (
            "petition", "old-petition")


def test_petition_slugs_are_unique_across_campaigns(app, client, world):
    with app.app_context():
        make_petition(slug="sign-the-treaty")
        db.session.commit()
    create(client, world)
    assert the_petition(app, "sign-the-treaty-2").campaign_id == world["campaign"]


def test_closing_a_petition_stops_signatures(app, client, world):
    create(client, world)
    petition = the_petition(app)
    client.post(f"/organize/petitions/{petition.id}/edit", data=petition_form(status="closed"))
    assert the_petition(app).status == PetitionStatus.CLOSED


def test_a_new_petition_page_offers_every_time_zone(app, client, world):
    page = client.get(f"/organize/campaigns/{world['campaign']}/petitions/new").text
    for zone in ("America/Toronto", "Asia/Seoul", "Europe/Paris", "UTC"):
        assert f'value="{zone}"' in page
    assert "data-guess-timezone" in page
