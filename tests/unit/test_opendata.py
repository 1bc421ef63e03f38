"""The public daily counts of a petition, as CSV and JSON."""

import csv
import io
import itertools
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.petitions.models import Petition
from campaign.signatures.models import Signature, SignatureDemand, SignatureStatus, Supporter
from tests.factories import make_campaign, make_petition

_numbers = itertools.count(1)


def add_signature(petition, confirmed_at, *, demands=(), status=SignatureStatus.CONFIRMED):
    """A signature with personal details that must never appear in the open data."""
    number = next(_numbers)
    supporter = Supporter(email=f"secret{number}@example.org",
                          email_key=f"secret{number}@example.org")
    signature = Signature(petition=petition, supporter=supporter, status=status,
                          first_name="Hypatia", last_name=f"Private{number}",
                          postal_code="H2X 1Y4", country="CA", comment="My private comment",
                          confirmed_at=confirmed_at if status != SignatureStatus.PENDING else None)
    db.session.add(signature)
    db.session.flush()
    db.session.add_all(SignatureDemand(signature_id=signature.id, demand_id=demand_id)
                       for demand_id in demands)
    return signature


def at(day, hour=12, minute=0, second=0):
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def choosing(app):
    """Petition "treaty", whose signers choose demands: 2 confirmed on 1 March (one just
    before midnight UTC), 1 on 2 March (just after), none on 3 March, 1 on 4 March;
    a pending and an invalidated signature that do not count."""
    with app.app_context():
        campaign = make_campaign(slug="peace")
        first, second = (demand.id for demand in campaign.demands)
        petition = make_petition(campaign=campaign, slug="treaty", title="Sign the treaty",
                                 signers_choose_demands=True)
        add_signature(petition, at(1, 9), demands=[first, second])
        add_signature(petition, at(1, 23, 59, 59), demands=[first])
        add_signature(petition, at(2, 0, 0, 0), demands=[second])
        add_signature(petition, at(4, 18), demands=[first, second])
        add_signature(petition, None, demands=[first], status=SignatureStatus.PENDING)
        add_signature(petition, at(2, 10), demands=[first, second],
                      status=SignatureStatus.INVALIDATED)
        db.session.commit()


def read_csv(response):
    return list(csv.reader(io.StringIO(response.text)))


def test_the_csv_has_a_row_per_day_with_demand_and_cumulative_columns(client, choosing):
    response = client.get("/petitions/treaty/counts.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=treaty-counts.csv"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert read_csv(response) == [
        ["date", "confirmed", "cumulative", "First demand", "Second demand"],
        ["2025-03-01", "2", "2", "2", "1"],
        ["2025-03-02", "1", "3", "0", "1"],
        ["2025-03-03", "0", "3", "0", "0"],
        ["2025-03-04", "1", "4", "1", "1"],
    ]


def test_the_json_has_the_same_figures(client, choosing):
    response = client.get("/petitions/treaty/counts.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    document = response.get_json()
    assert document["petition"] == "treaty" and document["title"] == "Sign the treaty"
    assert document["total_confirmed"] == 4
    assert datetime.fromisoformat(document["generated_at"]).tzinfo is not None
    assert document["days"] == [
        {"date": "2025-03-01", "confirmed": 2, "cumulative": 2,
         "demands": {"First demand": 2, "Second demand": 1}},
        {"date": "2025-03-02", "confirmed": 1, "cumulative": 3,
         "demands": {"First demand": 0, "Second demand": 1}},
        {"date": "2025-03-03", "confirmed": 0, "cumulative": 3,
         "demands": {"First demand": 0, "Second demand": 0}},
        {"date": "2025-03-04", "confirmed": 1, "cumulative": 4,
         "demands": {"First demand": 1, "Second demand": 1}},
    ]


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_no_personal_data_is_in_the_open_data(client, choosing, suffix):
    body = client.get(f"/petitions/treaty/counts.{suffix}").text
    for personal in ("secret", "@example.org", "Hypatia", "Private", "H2X", "private comment",
                     '"CA"', ",CA"):
        assert personal not in body
    assert not re.search(r"\b127\.0\.0\.1\b", body)


def test_without_demand_choice_there_are_no_demand_columns(app, client):
    with app.app_context():
        petition = make_petition(slug="plain")
        add_signature(petition, at(5))
        db.session.commit()
    assert read_csv(client.get("/petitions/plain/counts.csv")) == [
        ["date", "confirmed", "cumulative"], ["2025-03-05", "1", "1"]]
    document = client.get("/petitions/plain/counts.json").get_json()
    assert document["days"] == [{"date": "2025-03-05", "confirmed": 1, "cumulative": 1,
                                 "demands": {}}]


def test_a_petition_without_confirmed_signatures_has_a_header_and_no_days(app, client):
    with app.app_context():
        make_petition(slug="new")
        db.session.commit()
    assert read_csv(client.get("/petitions/new/counts.csv")) == [["date", "confirmed", "cumulative"]]
    document = client.get("/petitions/new/counts.json").get_json()
    assert document["days"] == [] and document["total_confirmed"] == 0


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_a_draft_campaigns_petition_and_an_unknown_one_are_not_found(app, client, suffix):
    with app.app_context():
        petition = make_petition(campaign=make_campaign(status="draft"), slug="hidden")
        add_signature(petition, at(1))
        db.session.commit()
    assert client.get(f"/petitions/hidden/counts.{suffix}").status_code == 404
    assert client.get(f"/petitions/nowhere/counts.{suffix}").status_code == 404


def test_an_archived_campaigns_petition_keeps_its_open_data(app, client):
    with app.app_context():
        petition = make_petition(campaign=make_campaign(status="archived"), slug="past")
        add_signature(petition, at(1))
        db.session.commit()
    assert client.get("/petitions/past/counts.json").get_json()["total_confirmed"] == 1


def test_the_files_are_computed_once_per_cache_period(app, client, choosing):
    first = client.get("/petitions/treaty/counts.json").get_json()
    with app.app_context():
        add_signature(db.session.scalars(select(Petition).filter_by(slug="treaty")).one(), at(6))
        db.session.commit()
    assert client.get("/petitions/treaty/counts.json").get_json() == first

    app.config["OPEN_DATA_CACHE_SECONDS"] = 0
    assert client.get("/petitions/treaty/counts.json").get_json()["total_confirmed"] == 5


def test_demand_texts_cannot_become_spreadsheet_formulas(app, client):
    with app.app_context():
        campaign = make_campaign()
        campaign.demands[0].text = '=HYPERLINK("http://evil.example","x")'
        make_petition(campaign=campaign, slug="formula", signers_choose_demands=True)
        db.session.commit()
    header = read_csv(client.get("/petitions/formula/counts.csv"))[0]
    assert header[3].startswith("'=")


def test_the_petition_page_links_to_both_files(client, choosing):
    page = client.get("/petitions/treaty").text
    assert "Download the daily counts" in page
    assert 'href="/petitions/treaty/counts.csv"' in page
    assert 'href="/petitions/treaty/counts.json"' in page
