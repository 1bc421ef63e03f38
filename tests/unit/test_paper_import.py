"""An organizer imports the paper sheets signed at a picket, as a CSV file."""

import io

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import AuditEntry
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.petitions.services import confirmed_counts
from campaign.security import new_token
from campaign.signatures.models import Signature, SignatureStatus, Supporter
from campaign.signatures.paper import COLUMNS
from campaign.signatures.services import confirm_signature, sign_petition
from tests.factories import make_campaign, make_petition, signer
from tests.factories_accounts import login, make_user

HEADER = ",".join(COLUMNS)


@pytest.fixture
def world(app):
    with app.app_context():
        organizer = make_user(email="ana@example.org")
        other = make_user(email="bob@example.org")
        petition = make_petition(campaign=make_campaign())
        petition.campaign.organizers.append(organizer)
        make_campaign().organizers.append(other)
        details = signer(email="known@example.org", first_name="Known", last_name="Person")
        sign_petition(petition, details)
        db.session.flush()
        signature = db.session.scalars(select(Signature)).one()
        token, signature.confirm_token_hash = new_token()
        confirm_signature(token)
        unnamed = signer(email="named@example.org", first_name="Léa", last_name="Martin",
                         postal_code="75011")
        sign_petition(petition, unnamed)
        db.session.commit()
        return {"organizer": organizer.id, "other": other.id, "petition": petition.id}


@pytest.fixture
def client(app, world):
    client = app.test_client()
    login(client, world["organizer"])
    return client


def upload(client, world, content, *, label="Market, 3 May", event="", encoding="utf-8"):
    data = content.encode(encoding) if isinstance(content, str) else content
    return client.post(f"/organize/petitions/{world['petition']}/paper",
                       data={"file": (io.BytesIO(data), "sheets.csv"), "label": label,
                             "event": event},
                       content_type="multipart/form-data")


def count(app, world):
    with app.app_context():
        return confirmed_counts([world["petition"]])[world["petition"]]


def paper_signatures(app):
    with app.app_context():
        return db.session.scalars(select(Signature).where(Signature.source.like("paper:%"))
                                  .order_by(Signature.id)).all()


def csv_of(*rows):
    return "\n".join([HEADER, *rows]) + "\n"


GOOD = "Zoé,Durand,zoe@example.org,M5V 2T6,CA,Bravo,non"


def test_good_rows_are_imported_and_duplicates_listed(app, client, world, outbox):
    before = count(app, world)
    response = upload(client, world, csv_of(
        GOOD,
        "Max,Muster,,10115,Germany,,",
        "Again,Known,KNOWN@example.org,M5V 2T6,CA,,",      # signed already (address)
        "léa,MARTIN,,75011,FR,,",                            # signed already (names + postal code)
        "Zoé,Durand,zoe@example.org,M5V 2T6,CA,,",           # repeated in the file
        "Max,Muster,,10115,DE,,",                            # repeated in the file, no address
    ))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Imported 2 signatures. Skipped 4 duplicates." in page
    for row in ("<td>4</td>", "<td>5</td>", "<td>6</td>", "<td>7</td>"):
        assert row in page
    assert "already signed the petition" in page and "earlier row of the file" in page
    assert count(app, world) == before + 2
    imported = paper_signatures(app)
    assert [(s.first_name, s.country, s.status) for s in imported] == [
        ("Zoé", "CA", SignatureStatus.CONFIRMED), ("Max", "DE", SignatureStatus.CONFIRMED)]
    assert all(s.source == "paper: Market, 3 May" and s.confirmed_at for s in imported)
    with app.app_context():
        keys = [db.session.get(Supporter, s.supporter_id).email_key for s in imported]
        assert keys[0] == "zoe@example.org" and keys[1].startswith("paper:")
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "signatures.paper_import")).one()
        assert "imported 2, skipped 4" in entry.reason
    assert outbox.to("zoe@example.org") == []


@pytest.mark.parametrize("bad_row, reason", [
    ("Bad,Email,not-an-address,M5V 2T6,CA,,", "The email address is not valid"),
    (",Nameless,,M5V 2T6,CA,,", "The first name is missing."),
    ("Far,Away,,M5V 2T6,Atlantis,,", "The country “Atlantis” is not known"),
    ("Yes,Maybe,,M5V 2T6,CA,,perhaps", "The mailing consent must be"),
])
def test_one_invalid_row_even_the_last_blocks_the_whole_file(app, client, world, bad_row, reason):
    before = count(app, world)
    response = upload(client, world, csv_of(GOOD, "Max,Muster,,10115,DE,,", bad_row))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "<td>4</td>" in page and reason in page
    assert paper_signatures(app) == []
    assert count(app, world) == before


def test_consent_email_only_to_addresses_with_consent_and_confirming_subscribes(
        app, client, world, outbox):
    before_mail = len(outbox.messages())
    upload(client, world, csv_of(
        "Zoé,Durand,zoe@example.org,M5V 2T6,CA,,oui",
        "Paul,Dupont,paul@example.org,M5V 2T6,CA,,",
        "Nadia,Sans,,M5V 2T6,CA,,x",
    ), label="Picket at the town hall")
    messages = outbox.messages()
    assert len(messages) == before_mail + 1
    assert len(outbox.to("zoe@example.org")) == 1
    text = outbox.text(outbox.to("zoe@example.org")[0])
    assert "on paper (Picket at the town hall)" in text
    link = outbox.link(outbox.to("zoe@example.org")[0], path="/paper/consent/")
    path = link.removeprefix("http://localhost")

    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 200
    counted = count(app, world)
    assert anonymous.post(path).status_code == 200
    assert count(app, world) == counted
    with app.app_context():
        subscription = db.session.scalars(
            select(Subscription).join(Supporter, Subscription.supporter_id == Supporter.id)
            .where(Supporter.email_key == "zoe@example.org")).one()
        assert subscription.status == SubscriptionStatus.SUBSCRIBED
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
    # The link works once: an old email cannot re-subscribe someone who left.
    assert anonymous.post(path).status_code == 404


def test_consent_link_of_a_web_signature_does_nothing(app, world):
    anonymous = app.test_client()
    assert anonymous.post("/paper/consent/made-up").status_code == 404
    assert anonymous.get("/paper/consent/made-up").status_code == 404


@pytest.mark.parametrize("content, encoding", [
    ("\ufeff" + csv_of("Zoé,Durand,zoe@example.org,M5V 2T6,CA,,"), "utf-8"),
    (csv_of("Zoé,Durand,zoe@example.org,M5V 2T6,CA,,").replace(",", ";"), "utf-8"),
    (csv_of("Zoé,Durand,zoe@example.org,M5V 2T6,Côte d’Ivoire,,"), "cp1252"),
    (csv_of("Zoé,Durand,zoe@example.org,M5V 2T6,Allemagne,,").replace("\n", "\r\n"), "cp1252"),
])
def test_excel_flavours_are_read(app, client, world, content, encoding):
    response = upload(client, world, content, encoding=encoding)
    assert response.status_code == 200, response.get_data(as_text=True)
    [imported] = paper_signatures(app)
    assert imported.first_name == "Zoé"
    assert imported.country in {"CA", "CI", "DE"}


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (b"\n\n", "The file is empty."),
    (HEADER.encode() + b"\n", "no signatures below its header row"),
    (b"name,mail\nAda,ada@example.org\n", "The first row must name the columns"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "This is not a CSV file"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "This is not a CSV file"),
])
def test_unreadable_files_get_a_clear_message(app, client, world, content, message):
    response = upload(client, world, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert paper_signatures(app) == []


def test_an_event_or_a_label_is_needed(app, client, world):
    response = upload(client, world, csv_of(GOOD), label="")
    assert response.status_code == 422
    assert "Please choose the event or type a short label." in response.get_data(as_text=True)


def test_the_event_names_the_source(app, client, world):
    from tests.factories_events import make_event
    with app.app_context():
        from campaign.petitions.models import Petition
        petition = db.session.get(Petition, world["petition"])
        event = make_event(campaign=petition.campaign, title="Rally " + "x" * 120)
        db.session.commit()
        event_id = event.id
    assert upload(client, world, csv_of(GOOD), label="", event=str(event_id)).status_code == 200
    [imported] = paper_signatures(app)
    assert imported.source == ("paper: Rally " + "x" * 120)[:100]


def test_formula_like_names_are_stored_as_text_and_shown_escaped(app, client, world):
    response = upload(client, world, csv_of(
        '=cmd,"<b>Bold</b>",,M5V 2T6,CA,,', "=cmd,\"<b>Bold</b>\",,M5V 2T6,CA,,"))
    page = response.get_data(as_text=True)
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page and "<b>Bold</b>" not in page
    [imported] = paper_signatures(app)
    assert (imported.first_name, imported.last_name) == ("=cmd", "<b>Bold</b>")


def test_the_page_and_template_for_the_organizer(app, client, world):
    page = client.get(f"/organize/petitions/{world['petition']}/paper")
    assert page.status_code == 200
    assert "mailing_consent" in page.get_data(as_text=True)
    template = client.get(f"/organize/petitions/{world['petition']}/paper/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    lines = template.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == HEADER and len(lines) == 2
    # The template itself imports.
    assert upload(client, world, template.get_data()).status_code == 200
    assert len(paper_signatures(app)) == 1


def test_organizer_of_another_campaign_gets_404(app, world):
    client = app.test_client()
    login(client, world["other"])
    base = f"/organize/petitions/{world['petition']}/paper"
    assert client.get(base).status_code == 404
    assert client.get(base + "/template.csv").status_code == 404
    assert upload(client, world, csv_of(GOOD)).status_code == 404
    assert paper_signatures(app) == []


def test_ten_thousand_rows_import_in_one_go(app, client, world):
    rows = [f"First{n},Last{n},{f'p{n}@example.org' if n % 2 else ''},H0H 0H0,CA,,"
            f"{'yes' if n % 1000 == 1 else ''}" for n in range(10_000)]
    before = count(app, world)
    response = upload(client, world, csv_of(*rows))
    assert response.status_code == 200
    assert count(app, world) == before + 10_000


def test_a_form_without_the_event_field_uses_the_label(app, client, world):
    response = client.post(f"/organize/petitions/{world['petition']}/paper",
                           data={"file": (io.BytesIO(csv_of(GOOD).encode()), "s.csv"),
                                 "label": "Station"},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert paper_signatures(app)[0].source == "paper: Station"
