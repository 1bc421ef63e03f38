"""An organizer prints a delivery pack for a petition: its text, its count, where signers
live and who they are, without an email address; nobody else's organizers may see it."""

import itertools
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.accounts import sudo
from campaign.accounts.models import UserRole
from campaign.db import utcnow
from campaign.exports.delivery_pack import delivery_pack, postal_area
from campaign.exports.models import ExportRecord
from campaign.extensions import db
from campaign.petitions.services import change_confirmed_count
from campaign.signatures.models import Signature, SignatureStatus, Supporter
from tests.factories import make_campaign, make_petition
from tests.factories_accounts import login, make_user

_numbers = itertools.count(1)


def add_signature(petition, *, status=SignatureStatus.CONFIRMED, email=None, minutes=0, **fields):
    """A signature as signing (and, if confirmed, confirming) would leave it."""
    number = next(_numbers)
    email = email or f"signer{number}@example.org"
    created_at = utcnow() - timedelta(days=1) + timedelta(minutes=minutes)
    values = {"first_name": "Ada", "last_name": f"Lovelace{number}", "postal_code": "M5V 2T6",
              "country": "CA"}
    values.update(fields)
    signature = Signature(petition_id=petition.id, supporter=Supporter(email=email, email_key=email),
                          status=status, created_at=created_at,
                          confirmed_at=created_at if status == SignatureStatus.CONFIRMED else None,
                          **values)
    db.session.add(signature)
    db.session.flush()
    if status == SignatureStatus.CONFIRMED:
        change_confirmed_count(petition.id, +1)
    return signature


@pytest.fixture
def world(app):
    with app.test_request_context():
        organizer, other, admin = make_user(), make_user(), make_user(role=UserRole.ADMIN)
        campaign = make_campaign(title="Clean Water Now")
        campaign.organizers.append(organizer)
        make_campaign().organizers.append(other)
        petition = make_petition(campaign=campaign, title="Fix the pipes", target="The Mayor of Springfield",
                                 body="We ask for **clean water**.\n\n<script>alert(2)</script>")
        add_signature(petition, first_name="Grace", last_name="Hopper", email="grace@example.org",
                      postal_code="m5v 2t6", minutes=1)
        add_signature(petition, first_name="Alan", last_name="Turing", email="alan@example.org",
                      postal_code="H2X 1Y4", minutes=2)
        add_signature(petition, first_name="Marie", last_name="Curie", email="marie@example.org",
                      postal_code="75005", country="FR", minutes=3)
        add_signature(petition, first_name="Nameless", last_name="Area", postal_code="",
                      country="US", minutes=4)
        add_signature(petition, first_name="<script>alert(1)</script>", last_name="Evil", minutes=5)
        add_signature(petition, first_name="Pending", last_name="Person", email="pending@example.org",
                      status=SignatureStatus.PENDING, minutes=6)
        add_signature(petition, first_name="Invalid", last_name="Person", email="invalid@example.org",
                      status=SignatureStatus.INVALIDATED, minutes=7)
        db.session.commit()
        return {"organizer": organizer.id, "other": other.id, "admin": admin.id,
                "petition": petition.id}


def pack_url(world):
    return f"/organize/petitions/{world['petition']}/delivery-pack"


def get_pack(app, world, who="organizer", *, fresh=True):
    """The pack as ``who`` sees it, having typed their password just now if ``fresh``."""
    client = app.test_client()
    login(client, world[who])
    if fresh:
        with client.session_transaction() as session:
            session[sudo.SESSION_KEY] = int(time.time())
    return client.get(pack_url(world))


def table(html, table_id):
    """The text of each row of the table ``table_id``, tags removed, spaces collapsed."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_the_pack_shows_the_petition_its_count_and_its_tables(app, world):
    response = get_pack(app, world)
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Fix the pipes" in html
    assert "The Mayor of Springfield" in html
    assert "<strong>clean water</strong>" in html
    assert "5 confirmed signatures" in html
    assert table(html, "by-country") == ["Country Signatures", "Canada 3", "France 1",
                                         "United States 1"]
    assert table(html, "by-area") == ["Area Country Signatures", "M5V Canada 2", "H2X Canada 1",
                                      "750 France 1", "Other or no postal code 1"]
    assert 'href="/static/css/print.css"' in html


def test_the_signers_are_listed_in_signing_order_without_emails_or_uncounted_signatures(app, world):
    html = get_pack(app, world).get_data(as_text=True)

    rows = table(html, "signers")
    assert rows[1:] == ["1 Grace Hopper M5V, Canada", "2 Alan Turing H2X, Canada",
                        "3 Marie Curie 750, France", "4 Nameless Area United States",
                        "5 &lt;script&gt;alert(1)&lt;/script&gt; Evil M5V, Canada"]
    assert "@example.org" not in html
    assert "Pending" not in html
    assert "Invalid" not in html


def test_a_signer_name_and_the_petition_text_cannot_inject_markup(app, world):
    html = get_pack(app, world).get_data(as_text=True)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_pack_is_never_cached(app, world):
    response = get_pack(app, world)

    assert response.headers["Cache-Control"] == "no-store"
    assert response.is_streamed


def test_the_pack_asks_for_the_password_again_when_it_was_typed_long_ago(app, world):
    response = get_pack(app, world, fresh=False)

    assert response.status_code in (302, 303)
    assert "/confirm-password" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalars(select(ExportRecord)).all() == []


def test_each_pack_is_recorded_in_the_export_log_without_personal_data(app, world):
    get_pack(app, world)

    with app.app_context():
        record = db.session.scalars(select(ExportRecord)).one()
        assert (record.kind, record.format, record.row_count) == ("delivery_pack", "html", 5)
        assert (record.actor_id, record.petition_id) == (world["organizer"], world["petition"])
        assert "@" not in repr(record.filters) + record.columns


def test_an_admin_may_see_the_pack(app, world):
    assert get_pack(app, world, "admin").status_code == 200


def test_an_organizer_of_another_campaign_gets_a_404(app, world):
    assert get_pack(app, world, "other").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(app, world):
    response = app.test_client().get(pack_url(world))

    assert response.status_code in (302, 303)
    assert "/organize/login" in response.headers["Location"]


def test_the_petition_page_links_to_the_pack(app, world):
    client = app.test_client()
    login(client, world["organizer"])
    html = client.get(f"/organize/petitions/{world['petition']}/edit").get_data(as_text=True)

    assert pack_url(world) in html


def test_country_names_follow_the_reader_s_language(app, world):
    with app.test_request_context():
        from campaign.petitions.models import Petition

        pack = delivery_pack(db.session.get(Petition, world["petition"]), locale="fr_CA")
        assert [row.name for row in pack.countries] == ["Canada", "France", "États-Unis"]
        assert pack.count == pack.listed == 5
        assert [signer.country_name for signer in pack.signers][-2] == "États-Unis"


@pytest.mark.parametrize(("postal_code", "area"), [("m5v 2t6", "M5V"), ("K1A0B1", "K1A"),
                                                   ("75 005", "75"), ("", "")])
def test_the_postal_area_is_the_first_three_characters_upper_cased(postal_code, area):
    assert postal_area(postal_code) == area
