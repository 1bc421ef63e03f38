"""An organizer writes a campaign: details, address, demands, share image, status."""

import io
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign.accounts.models import AuditEntry, User, UserRole
from campaign.campaigns.models import Campaign, CampaignStatus, Demand, SlugRedirect
from campaign.campaigns.services import (
    CampaignDetails,
    add_demand,
    create_campaign,
    move_demand,
    remove_demand,
    slugify,
)
from campaign.extensions import db
from campaign.petitions.models import Petition, PetitionStatus
from campaign.petitions.services import change_confirmed_count
from tests.factories import make_campaign, make_petition
from tests.factories_accounts import login, make_user


def tiny_png():
    """A real 1×1 PNG, built by hand so the test needs no imaging library."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture
def organizer(app):
    with app.app_context():
        user = make_user(email="ana@example.org")
        db.session.commit()
        return user.id


@pytest.fixture
def client(app, organizer):
    client = app.test_client()
    login(client, organizer)
    return client


def post_campaign(client, url="/organize/campaigns/new", **fields):
    data = {"title": "Peace Treaty Now", "slug": "", "summary": "End the war.", "body": "Sign **now**."}
    data.update(fields)
    return client.post(url, data=data, content_type="multipart/form-data")


def campaign_at(app, slug):
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).where(Campaign.slug == slug)).one_or_none()
        if campaign is None:
            return None
        return {"id": campaign.id, "status": campaign.status, "title": campaign.title,
                "share_image": campaign.share_image,
                "organizers": [user.id for user in campaign.organizers],
                "demands": [(d.position, d.text) for d in campaign.demands]}


def _user(user_id):
    return db.session.get(User, user_id)


def demand_ids(app, campaign_id):
    with app.app_context():
        return db.session.scalars(select(Demand.id).where(Demand.campaign_id == campaign_id)
                                  .order_by(Demand.position)).all()


def test_a_new_campaign_is_a_draft_organized_by_its_creator_and_on_their_dashboard(app, client, organizer):
    response = post_campaign(client)
    assert response.status_code == 303
    created = campaign_at(app, "peace-treaty-now")
    assert response.headers["Location"].endswith(f"/organize/campaigns/{created['id']}/edit")
    assert created["status"] == CampaignStatus.DRAFT
    assert created["organizers"] == [organizer]
    dashboard = client.get("/organize/")
    assert "Peace Treaty Now" in dashboard.text and "Draft" in dashboard.text
    assert 'href="/organize/campaigns/new"' in dashboard.text
    # A draft is nobody else's business.
    assert client.get("/campaigns/peace-treaty-now").status_code == 404


def test_markdown_is_stored_as_written(app, client):
    post_campaign(client, body="Hello <b>there</b> **friend**")
    with app.app_context():
        assert db.session.scalar(select(Campaign.body)) == "Hello <b>there</b> **friend**"


def test_the_dashboard_shows_each_petitions_confirmed_count(app, client, organizer):
    with app.app_context():
        campaign = make_campaign(title="Counted campaign")
        campaign.organizers.append(_user(organizer))
        petition = make_petition(campaign=campaign, title="Counted petition")
        change_confirmed_count(petition.id, 1234)
        make_campaign(title="Somebody else's campaign")
        db.session.commit()
    page = client.get("/organize/").text
    assert "Counted petition" in page and "1,234" in page
    assert "Somebody else" not in page


def test_an_administrators_dashboard_lists_every_campaign(app):
    with app.app_context():
        admin = make_user(role=UserRole.ADMIN)
        make_campaign(title="Anyone's campaign")
        db.session.commit()
    client = app.test_client()
    login(client, admin)
    assert "Anyone&#39;s campaign" in client.get("/organize/").text


@pytest.mark.parametrize(("title", "slug"), [
    ("Peace Treaty Now!", "peace-treaty-now"),
    ("Éloïse’s café — à Montréal", "eloises-cafe-a-montreal"),
    ("Straße & Smørrebrød", "strasse-smorrebrod"),
    ("  --Already--slugged--  ", "already-slugged"),
    ("和平", "campaign"),
    ("x" * 200, "x" * 74),
])
def test_slugs_are_ascii_lower_case_words_joined_by_hyphens(title, slug):
    assert slugify(title, "campaign") == slug


def test_a_taken_slug_gets_the_next_free_number(app, client):
    for _ in range(3):
        assert post_campaign(client).status_code == 303
    for slug in ("peace-treaty-now", "peace-treaty-now-2", "peace-treaty-now-3"):
        assert campaign_at(app, slug) is not None


def test_a_typed_slug_is_kept_lower_cased_and_checked_against_the_pattern(app, client):
    assert post_campaign(client, slug="  My-Own-Address ").status_code == 303
    assert campaign_at(app, "my-own-address") is not None
    for bad in ("with space", "under_score", "trailing-", "double--hyphen", "accentué"):
        response = post_campaign(client, slug=bad)
        assert response.status_code == 422, bad
        assert 'id="slug-error"' in response.text


def test_a_renamed_campaign_answers_its_old_address_with_a_301(app, client):
    post_campaign(client, title="Old name")
    created = campaign_at(app, "old-name")
    with app.app_context():
        db.session.get(Campaign, created["id"]).status = CampaignStatus.PUBLISHED
        db.session.commit()
    response = post_campaign(client, url=f"/organize/campaigns/{created['id']}/edit",
                             title="New name", slug="new-name")
    assert response.status_code == 303
    moved = client.get("/campaigns/old-name?source=poster")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/campaigns/new-name?source=poster")
    assert client.get("/campaigns/new-name").status_code == 200
    # Nobody else can take the old address while it leads somewhere.
    post_campaign(client, title="Old name")
    assert campaign_at(app, "old-name-2") is not None
    # Its own old address may be taken back; the redirect then goes.
    post_campaign(client, url=f"/organize/campaigns/{created['id']}/edit", title="x", slug="old-name")
    assert campaign_at(app, "old-name")["id"] == created["id"]
    with app.app_context():
        assert db.session.scalars(select(SlugRedirect.old_slug)).all() == ["new-name"]


def test_demands_are_added_edited_moved_and_removed_with_buttons(app, client):
    post_campaign(client)
    campaign_id = campaign_at(app, "peace-treaty-now")["id"]
    base = f"/organize/campaigns/{campaign_id}/demands"
    for text in ("Sign a peace treaty", "Troops out", "Make Canada a zone for peace"):
        assert client.post(base, data={"text": text}).status_code == 303
    first, second, third = demand_ids(app, campaign_id)

    client.post(f"{base}/{third}", data={"action": "up", "text": "ignored"})
    client.post(f"{base}/{first}", data={"action": "down"})
    assert [text for _, text in campaign_at(app, "peace-treaty-now")["demands"]] == [
        "Make Canada a zone for peace", "Sign a peace treaty", "Troops out"]

    client.post(f"{base}/{second}", data={"action": "save", "text": "U.S. troops out of Korea"})
    client.post(f"{base}/{first}", data={"action": "remove"})
    assert campaign_at(app, "peace-treaty-now")["demands"] == [
        (0, "Make Canada a zone for peace"), (1, "U.S. troops out of Korea")]

    page = client.get(f"/organize/campaigns/{campaign_id}/edit").text
    assert "U.S. troops out of Korea" in page and "Move up" in page and "Move down" in page


def test_an_empty_demand_is_refused_with_a_message(app, client):
    post_campaign(client)
    campaign_id = campaign_at(app, "peace-treaty-now")["id"]
    response = client.post(f"/organize/campaigns/{campaign_id}/demands", data={"text": "  "},
                           follow_redirects=True)
    assert "Please write the demand." in response.text
    assert campaign_at(app, "peace-treaty-now")["demands"] == []


def test_moving_demands_keeps_positions_unique_and_contiguous(ctx):
    campaign = create_campaign(CampaignDetails(title="Order"), creator=make_user())
    demands = [add_demand(campaign, f"Demand {n}") for n in range(5)]
    # Every swap would collide half-way without the temporary offset.
    assert move_demand(demands[4], -1) and move_demand(demands[4], -1) and move_demand(demands[4], -1)
    assert not move_demand(demands[0], -1)
    remove_demand(demands[2])
    db.session.commit()
    rows = db.session.execute(select(Demand.position, Demand.text).where(Demand.campaign_id == campaign.id)
                              .order_by(Demand.position)).all()
    assert [tuple(row) for row in rows] == [(0, "Demand 0"), (1, "Demand 4"), (2, "Demand 1"),
                                            (3, "Demand 3")]


def test_publishing_makes_the_campaign_public_and_archiving_closes_its_petitions(app, client):
    post_campaign(client, title="Going public")
    campaign_id = campaign_at(app, "going-public")["id"]
    with app.app_context():
        make_petition(campaign=db.session.get(Campaign, campaign_id), title="Its petition")
        db.session.commit()
    assert "Going public" not in client.get("/").text

    client.post(f"/organize/campaigns/{campaign_id}/status", data={"status": "published"})
    assert campaign_at(app, "going-public")["status"] == CampaignStatus.PUBLISHED
    assert "Going public" in client.get("/").text
    assert client.get("/campaigns/going-public").status_code == 200

    client.post(f"/organize/campaigns/{campaign_id}/status", data={"status": "archived"})
    with app.app_context():
        assert db.session.scalars(select(Petition.status)).all() == [PetitionStatus.CLOSED]
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["campaign.create", "campaign.publish", "campaign.archive"]
    # Still readable as a record, no longer listed.
    assert client.get("/campaigns/going-public").status_code == 200
    assert "Going public" not in client.get("/").text


def test_an_archived_campaign_goes_back_through_draft(app, client, organizer):
    with app.app_context():
        campaign = make_campaign(slug="old-fight", status=CampaignStatus.ARCHIVED)
        campaign.organizers.append(_user(organizer))
        db.session.commit()
        campaign_id = campaign.id
    response = client.post(f"/organize/campaigns/{campaign_id}/status", data={"status": "published"},
                           follow_redirects=True)
    assert "cannot go to that status" in response.text
    assert campaign_at(app, "old-fight")["status"] == CampaignStatus.ARCHIVED
    client.post(f"/organize/campaigns/{campaign_id}/status", data={"status": "draft"})
    client.post(f"/organize/campaigns/{campaign_id}/status", data={"status": "published"})
    assert campaign_at(app, "old-fight")["status"] == CampaignStatus.PUBLISHED


def test_only_an_administrator_republishes_a_campaign_they_took_down(app, client, organizer):
    with app.app_context():
        campaign = make_campaign(slug="taken-down", status=CampaignStatus.DRAFT,
                                 unpublished_reason="Breaks the rules.")
        campaign.organizers.append(_user(organizer))
        admin = make_user(role=UserRole.ADMIN)
        db.session.commit()
        campaign_id = campaign.id
    page = client.post(f"/organize/campaigns/{campaign_id}/status", data={"status": "published"},
                       follow_redirects=True).text
    assert "Only an administrator" in page and "Breaks the rules." in page
    assert campaign_at(app, "taken-down")["status"] == CampaignStatus.DRAFT
    admin_client = app.test_client()
    login(admin_client, admin)
    admin_client.post(f"/organize/campaigns/{campaign_id}/status", data={"status": "published"})
    assert campaign_at(app, "taken-down")["status"] == CampaignStatus.PUBLISHED


def test_a_real_png_becomes_the_share_image_served_with_nosniff(app, client):
    response = post_campaign(client, share_image=(io.BytesIO(tiny_png()), "poster.png"))
    assert response.status_code == 303
    name = campaign_at(app, "peace-treaty-now")["share_image"]
    assert re.fullmatch(r"[0-9a-f]{32}\.png", name)
    served = client.get(f"/media/{name}")
    assert served.status_code == 200 and served.data == tiny_png()
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"

    with app.app_context():
        db.session.scalars(select(Campaign)).one().status = CampaignStatus.PUBLISHED
        db.session.commit()
    public = client.get("/campaigns/peace-treaty-now").text
    assert f'<meta property="og:image" content="http://localhost/media/{name}">' in public

    campaign_id = campaign_at(app, "peace-treaty-now")["id"]
    post_campaign(client, url=f"/organize/campaigns/{campaign_id}/edit", slug="peace-treaty-now",
                  remove_share_image="y")
    assert campaign_at(app, "peace-treaty-now")["share_image"] == ""
    assert client.get(f"/media/{name}").status_code == 404


@pytest.mark.parametrize(("content", "filename", "message"), [
    (b"just some text, honestly", "poster.png", "Please choose a PNG, JPEG or WebP image."),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "poster.svg",
     "Please choose a PNG, JPEG or WebP image."),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024), "huge.png", "larger than 2 MB"),
])
def test_anything_but_a_small_png_jpeg_or_webp_is_refused(app, client, content, filename, message):
    response = post_campaign(client, share_image=(io.BytesIO(content), filename))
    assert response.status_code == 422
    assert message in response.text
    assert campaign_at(app, "peace-treaty-now") is None
    media = Path(app.instance_path) / "media"
    assert not media.is_dir() or not list(media.iterdir())


def test_media_names_that_are_not_ours_are_not_found(client):
    for name in ("../config.py", "secret_key", "abc.png", "0" * 32 + ".svg"):
        assert client.get(f"/media/{name}").status_code == 404


def test_the_preview_button_shows_the_sanitised_text_without_saving(app, client):
    response = post_campaign(client, body="**bold** <script>alert(1)</script>", preview="1")
    assert response.status_code == 200
    assert "<strong>bold</strong>" in response.text
    assert "<script>alert(1)" not in response.text
    assert campaign_at(app, "peace-treaty-now") is None


def test_the_live_preview_answers_sanitised_html(client):
    response = client.post("/organize/preview",
                           data={"text": "[x](javascript:alert(1)) <img src=x onerror=alert(1)> *ok*"})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert "<em>ok</em>" in html
    assert runnable(html) == []


PAYLOADS = [
    "<script>alert('XSS')</script>",
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "[click me](JaVaScRiPt:alert(1))",
    '<a href="https://example.org" style="color:red" onclick="alert(1)">styled</a>',
    "<p style=\"background:url(javascript:alert(1))\">hi</p>",
]


class _RunnableFinder(HTMLParser):
    """Collects the elements and attributes of a page that could run script or restyle it.

    Parsed, not matched with a pattern, so escaped text that merely looks like
    a tag (in a paragraph, or in a meta description) is not mistaken for one."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        own_script = tag == "script" and dict(attrs).get("src", "").startswith("/static/js/")
        if tag in {"script", "iframe", "object", "embed", "style", "svg", "math", "base", "img"} \
                and not own_script:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}")
            if name in {"href", "src", "action", "formaction"} and re.match(
                    r"\s*(javascript|vbscript|data):", value or "", re.I):
                self.found.append(f"{tag} {name}={value}")


def runnable(html):
    finder = _RunnableFinder()
    finder.feed(html)
    return finder.found


def test_the_checker_finds_what_it_looks_for():
    assert runnable('<p>&lt;script&gt;</p><meta content="&lt;p style=x">') == []
    assert runnable('<a href=" JavaScript:x" style="a" onclick="b">') == [
        "a href= JavaScript:x", "a style", "a onclick"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_organizer_markdown_never_runs_on_the_public_pages(app, client, payload):
    post_campaign(client, title="XSS", slug="xss", summary=payload, body=payload)
    campaign_id = campaign_at(app, "xss")["id"]
    client.post(f"/organize/campaigns/{campaign_id}/demands", data={"text": payload})
    client.post(f"/organize/campaigns/{campaign_id}/petitions/new",
                data={"title": "XSS petition", "slug": "xss-petition", "target": payload, "body": payload,
                      "goal": "100", "timezone": "UTC", "status": "open", "consent_wording": payload})
    client.post(f"/organize/campaigns/{campaign_id}/status", data={"status": "published"})
    for path in ("/", "/campaigns/xss", "/petitions/xss-petition"):
        html = client.get(path).text
        assert "XSS" in html, path
        assert runnable(html) == [], path
