"""Organizers download their campaigns' signatures as CSV or XLSX: filters, columns,
spreadsheet safety, access, recent-password checks, the audit record and the notice."""

import csv
import io
import time
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import select

from campaign.accounts.models import UserRole
from campaign.exports.audit import record_export
from campaign.exports.csv import BOM
from campaign.exports.models import ExportRecord, ExportStatus
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.signatures.models import Signature, SignatureStatus, Supporter
from tests.factories import make_campaign, make_petition
from tests.factories_accounts import (
    DEFAULT_PASSWORD,
    fast_password_hashing,  # noqa: F401 - a fixture
    login,
    make_user,
)

FORMULAS = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("https://evil.example","x")']


def _sign(petition, email, *, status=SignatureStatus.CONFIRMED, first_name="Ada",
          created_at=datetime(2031, 5, 10, 12, tzinfo=UTC), comment="", subscribed=False):
    supporter = db.session.scalars(select(Supporter).where(Supporter.email_key == email)).first()
    if supporter is None:
        supporter = Supporter(email=email, email_key=email)
        db.session.add(supporter)
        db.session.flush()
    signature = Signature(petition=petition, supporter_id=supporter.id, status=status,
                          first_name=first_name, last_name="Lovelace", postal_code="M5V 2T6",
                          country="CA", comment=comment, source="web", created_at=created_at,
                          confirmed_at=created_at if status == SignatureStatus.CONFIRMED else None)
    db.session.add(signature)
    if subscribed:
        db.session.add(Subscription(supporter_id=supporter.id, campaign_id=petition.campaign_id,
                                    status=SubscriptionStatus.SUBSCRIBED, consent_wording="Yes",
                                    consent_at=created_at, consent_source="test"))
    db.session.flush()
    return signature


@pytest.fixture
def world(app):
    with app.app_context():
        ana = make_user(email="ana@example.org", name="Ana")
        bo = make_user(email="bo@example.org", name="Bo")
        cy = make_user(email="cy@example.org", name="Cy")
        admin = make_user(email="admin@example.org", role=UserRole.ADMIN)
        other = make_user(email="other@example.org")
        campaign = make_campaign(slug="housing")
        campaign.organizers.extend([ana, bo, cy])
        other_campaign = make_campaign(slug="rivers")
        other_campaign.organizers.append(other)
        rent = make_petition(campaign=campaign, slug="rent")
        heat = make_petition(campaign=campaign, slug="heat")
        other_petition = make_petition(campaign=other_campaign, slug="dams")
        _sign(rent, "one@example.org", subscribed=True,
              created_at=datetime(2031, 5, 1, 9, tzinfo=UTC))
        _sign(rent, "two@example.org", first_name="Bea",
              created_at=datetime(2031, 5, 10, 23, 59, tzinfo=UTC))
        _sign(heat, "three@example.org", first_name="Cal",
              created_at=datetime(2031, 5, 20, tzinfo=UTC))
        _sign(rent, "pending@example.org", status=SignatureStatus.PENDING)
        _sign(rent, "gone@example.org", status=SignatureStatus.INVALIDATED)
        _sign(other_petition, "river@example.org")
        db.session.commit()
        return {"ana": ana.id, "bo": bo.id, "cy": cy.id, "admin": admin.id, "other": other.id,
                "campaign": campaign.id, "other_campaign": other_campaign.id, "rent": rent.id,
                "heat": heat.id, "other_petition": other_petition.id}


def fresh_login(client, user_id):
    login(client, user_id)
    with client.session_transaction() as session:
        session["password_at"] = int(time.time())


@pytest.fixture
def client(app, world):
    client = app.test_client()
    fresh_login(client, world["ana"])
    return client


def url(world, fmt="csv", **params):
    return f"/organize/campaigns/{world['campaign']}/export.{fmt}", params


def get_csv(client, world, **params):
    path, query = url(world, **params)
    response = client.get(path, query_string=query)
    assert response.status_code == 200, response.text
    text = response.get_data(as_text=True)
    delimiter = ";" if params.get("excel") else ","
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM)), delimiter=delimiter))


def records(app):
    with app.app_context():
        return db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)).all()


# Filters and columns ----------------------------------------------------------


def test_default_export_is_every_confirmed_signature_with_every_column(client, world):
    rows = get_csv(client, world)
    assert sorted(row["email"] for row in rows) == ["one@example.org", "three@example.org",
                                                    "two@example.org"]
    assert list(rows[0]) == ["first_name", "last_name", "email", "postal_code", "country",
                             "signed_at", "confirmed_at", "status", "comment", "source",
                             "petition", "mailing_consent"]
    first = rows[0]
    assert first["first_name"] == "Ada" and first["petition"] == "rent"
    assert first["status"] == "confirmed" and first["mailing_consent"] == "true"
    assert first["signed_at"].startswith("2031-05-01T09:00")
    assert rows[1]["mailing_consent"] == "false"


def test_response_headers(client, world):
    path, _query = url(world)
    response = client.get(path)
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="housing-signatures-')
    assert disposition.endswith('.csv"')
    assert response.mimetype == "text/csv"
    assert not response.get_data(as_text=True).startswith(BOM)


def test_filters_by_petition_status_dates_and_consent(client, world):
    assert [row["email"] for row in get_csv(client, world, petition=world["heat"])] == [
        "three@example.org"]
    assert [row["email"] for row in get_csv(client, world, status="pending")] == [
        "pending@example.org"]
    assert [row["email"] for row in get_csv(client, world, status="invalidated")] == [
        "gone@example.org"]
    # Both days included, the end day up to its last minute.
    dated = get_csv(client, world, **{"from": "2031-05-10", "to": "2031-05-10"})
    assert [row["email"] for row in dated] == ["two@example.org"]
    assert [row["email"] for row in get_csv(client, world, **{"from": "2031-05-11"})] == [
        "three@example.org"]
    assert [row["email"] for row in get_csv(client, world, consent="1")] == ["one@example.org"]
    # The ends of the calendar are not an error.
    assert len(get_csv(client, world, **{"from": "0001-01-01", "to": "9999-12-31"})) == 3


def test_chosen_columns_only_in_the_order_given(client, world):
    rows = get_csv(client, world, columns="email,first_name", petition=world["heat"])
    assert rows == [{"email": "three@example.org", "first_name": "Cal"}]
    path, _query = url(world)
    response = client.get(path + "?columns=petition&columns=email&petition=" + str(world["heat"]))
    assert response.get_data(as_text=True).splitlines() == ["petition,email", "heat,three@example.org"]


def test_excel_option_adds_a_bom_and_semicolons(client, world):
    path, _query = url(world)
    text = client.get(path, query_string={"excel": "1", "columns": "first_name,email"}).get_data(
        as_text=True)
    assert text.startswith(BOM + "first_name;email\r\n")
    rows = get_csv(client, world, excel="1", columns="first_name,email")
    assert {"first_name": "Ada", "email": "one@example.org"} in rows


def test_csv_parses_back_to_the_same_rows(app, client, world):
    awkward = 'Quote " and, comma\nnew line; semicolon ünïcode'
    with app.app_context():
        from campaign.petitions.models import Petition
        petition = db.session.get(Petition, world["rent"])
        _sign(petition, "awkward@example.org", comment=awkward)
        db.session.commit()
    for excel in ("", "1"):
        rows = get_csv(client, world, excel=excel, columns="email,comment")
        assert {"email": "awkward@example.org", "comment": awkward} in rows


# Spreadsheet formulas ---------------------------------------------------------


@pytest.fixture
def formula_world(app, world):
    with app.app_context():
        from campaign.petitions.models import Petition
        petition = db.session.get(Petition, world["heat"])
        for number, payload in enumerate(FORMULAS):
            _sign(petition, f"f{number}@example.org", first_name=payload, comment=payload)
        db.session.commit()
    return world


def test_formulas_are_neutralised_in_csv(client, formula_world):
    rows = get_csv(client, formula_world, petition=formula_world["heat"],
                   columns="first_name,comment")
    names = [row["first_name"] for row in rows]
    for payload in FORMULAS:
        assert "'" + payload in names
        assert payload not in names
    assert all(row["comment"] == row["first_name"] for row in rows if row["comment"])


def test_xlsx_cells_are_neutralised_strings_not_formulas(client, formula_world):
    path, _query = url(formula_world, fmt="xlsx")
    response = client.get(path, query_string={"petition": formula_world["heat"],
                                              "columns": "first_name,email,signed_at"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    assert response.headers["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["first_name", "email", "signed_at"]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type == "s", (cell.coordinate, cell.value)
    names = [row[0] for row in values[1:]]
    assert all(name == "Cal" or name.startswith("'") for name in names)
    for payload in FORMULAS:
        # The carriage return is stored as Excel's escape, which openpyxl leaves as it is.
        assert "'" + payload.replace("\r", "_x000D_") in names, names
    assert values[1][:2] == ["Cal", "three@example.org"]


# Bad requests -------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    {"status": "all"}, {"from": "2031-13-01"}, {"to": "31/05/2031"}, {"from": "20310501"},
    {"from": "2031-06-01", "to": "2031-05-01"}, {"columns": "email,password_hash"},
    {"petition": "abc"}, {"petition": "-1"}, {"petition": "1" * 40}, {"from": "2031-02-30"},
    {"petition": "\u0663"}, {"consent": "maybe"}, {"excel": "2"},
])
def test_bad_parameters_are_a_clear_400(client, world, params):
    for fmt in ("csv", "xlsx"):
        path, _query = url(world, fmt=fmt)
        response = client.get(path, query_string=params)
        assert response.status_code == 400, (fmt, params)
        assert "could not be understood" in response.text
    assert records(client.application) == []


def test_admin_bad_campaign_is_400(app, world):
    client = app.test_client()
    fresh_login(client, world["admin"])
    assert client.get("/admin/exports/signatures.csv?campaign=x").status_code == 400
    assert client.get("/admin/exports/signatures.csv?campaign=99999").status_code == 404


def test_too_many_rows_for_xlsx_is_refused_before_starting(client, world, monkeypatch):
    monkeypatch.setattr("campaign.exports.views.XLSX_MAX_ROWS", 2)
    path, _query = url(world, fmt="xlsx")
    response = client.get(path)
    assert response.status_code == 400
    assert "more rows than a spreadsheet can hold" in response.text
    assert records(client.application) == []


# Access ---------------------------------------------------------------------------


def test_another_organizer_gets_404(app, world):
    client = app.test_client()
    fresh_login(client, world["other"])
    campaign = world["campaign"]
    for path in (f"/organize/campaigns/{campaign}/export",
                 f"/organize/campaigns/{campaign}/export.csv",
                 f"/organize/campaigns/{campaign}/export.xlsx",
                 f"/organize/campaigns/{campaign}/exports"):
        assert client.get(path).status_code == 404, path
    # A's petition through B's own campaign.
    own = world["other_campaign"]
    assert client.get(f"/organize/campaigns/{own}/export.csv?petition={world['rent']}"
                      ).status_code == 404
    assert client.get(f"/organize/campaigns/{own}/export.xlsx?petition={world['rent']}"
                      ).status_code == 404
    for path in ("/admin/exports", "/admin/exports/signatures.csv",
                 "/admin/exports/signatures.xlsx"):
        assert client.get(path).status_code == 404, path
    assert records(app) == []


def test_admin_exports_any_campaign_or_all(app, world):
    client = app.test_client()
    fresh_login(client, world["admin"])
    assert client.get("/admin/exports").status_code == 200
    everything = client.get("/admin/exports/signatures.csv?columns=email").get_data(as_text=True)
    assert "river@example.org" in everything and "one@example.org" in everything
    one = client.get(f"/admin/exports/signatures.csv?columns=email&campaign={world['other_campaign']}")
    assert one.get_data(as_text=True).splitlines() == ["email", "river@example.org"]
    assert client.get(f"/admin/exports/signatures.csv?campaign={world['other_campaign']}"
                      f"&petition={world['rent']}").status_code == 404
    sheet = openpyxl.load_workbook(io.BytesIO(
        client.get("/admin/exports/signatures.xlsx?columns=email").data)).active
    assert sheet.max_row == 5
    logged = records(app)
    assert [record.campaign_id for record in logged] == [None, world["other_campaign"], None]
    page = client.get(f"/organize/campaigns/{world['other_campaign']}/exports")
    assert page.status_code == 200


def test_export_form_and_log_pages(client, world):
    page = client.get(f"/organize/campaigns/{world['campaign']}/export")
    assert page.status_code == 200
    assert f'/organize/campaigns/{world["campaign"]}/export.csv' in page.text
    assert f'/organize/campaigns/{world["campaign"]}/export.xlsx' in page.text
    assert 'name="columns" value="mailing_consent" checked' in page.text
    get_csv(client, world)
    log = client.get(f"/organize/campaigns/{world['campaign']}/exports")
    assert log.status_code == 200 and "Ana" in log.text
    edit = client.get(f"/organize/campaigns/{world['campaign']}/edit")
    if edit.status_code == 200:
        assert f"/organize/campaigns/{world['campaign']}/export" in edit.text


# Recent password ------------------------------------------------------------------------


def test_stale_password_redirects_to_confirm_and_back(app, world, fast_password_hashing):  # noqa: F811
    client = app.test_client()
    login(client, world["ana"])
    with client.session_transaction() as session:
        session["password_at"] = int(time.time()) - 16 * 60
    target = f"/organize/campaigns/{world['campaign']}/export.csv?status=pending&columns=email"
    response = client.get(target)
    assert response.status_code == 302
    assert "/organize/confirm-password?next=" in response.headers["Location"]
    assert records(app) == []
    form = client.get(response.headers["Location"])
    assert form.status_code == 200 and "Confirm your password" in form.text
    wrong = client.post("/organize/confirm-password", data={"password": "wrong one", "next": target})
    assert wrong.status_code == 422 and "not correct" in wrong.text
    assert client.get(target).status_code == 302
    right = client.post("/organize/confirm-password",
                        data={"password": DEFAULT_PASSWORD, "next": target})
    assert right.status_code == 303
    assert right.headers["Location"] == target
    assert client.get(target).get_data(as_text=True).splitlines() == ["email", "pending@example.org"]


def test_no_password_time_at_all_is_stale(app, world):
    client = app.test_client()
    login(client, world["ana"])
    response = client.get(f"/organize/campaigns/{world['campaign']}/export.xlsx")
    assert response.status_code == 302 and "confirm-password" in response.headers["Location"]


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example",
                                    "https://evil.example/organize/", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_confirm_password_never_redirects_off_site(app, world, target,
                                                   fast_password_hashing):  # noqa: F811
    client = app.test_client()
    login(client, world["ana"])
    response = client.post("/organize/confirm-password",
                           data={"password": DEFAULT_PASSWORD, "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/organize/"
    page = client.get("/organize/confirm-password", query_string={"next": target})
    assert 'name="next" type="hidden" value=""' in page.text


def test_logging_in_with_the_password_makes_it_fresh(app, world, fast_password_hashing):  # noqa: F811
    from tests.factories_accounts import login_with_password

    client = app.test_client()
    assert login_with_password(client, "ana@example.org").status_code == 303
    assert client.get(f"/organize/campaigns/{world['campaign']}/export.csv").status_code == 200


# Audit and notice ---------------------------------------------------------------------------


def test_each_export_makes_one_complete_record(app, client, world):
    get_csv(client, world, consent="1", columns="email")
    path, _query = url(world, fmt="xlsx")
    assert client.get(path, query_string={"status": "pending"}).status_code == 200
    first, second = records(app)
    assert (first.kind, first.format, first.status, first.row_count) == (
        "signatures", "csv", ExportStatus.COMPLETE, 1)
    assert first.actor_id == world["ana"] and first.campaign_id == world["campaign"]
    assert first.filters["consent"] is True and first.columns == "email"
    assert first.finished_at is not None
    assert (second.format, second.row_count, second.filters["status"]) == ("xlsx", 1, "pending")


def test_a_head_request_exports_nothing(app, client, world):
    path, _query = url(world)
    response = client.head(path)
    assert response.status_code == 200 and response.data == b""
    assert records(app) == []


def test_an_interrupted_download_is_recorded_as_such(app, client, world, monkeypatch):
    monkeypatch.setattr("campaign.exports.csv._ROWS_PER_CHUNK", 1)
    path, _query = url(world)
    response = client.get(path, buffered=False)
    chunks = iter(response.response)
    next(chunks)  # the header
    next(chunks)  # the first row
    response.close()
    (record,) = records(app)
    assert record.status == ExportStatus.INTERRUPTED
    assert record.row_count in (1, 2)


def test_large_exports_are_announced_to_the_other_organizers(make_app, tmp_path):
    app = make_app(EXPORT_NOTICE_ROWS=3)
    with app.app_context():
        ana = make_user(email="ana@example.org", name="Ana")
        bo = make_user(email="bo@example.org")
        gone = make_user(email="gone@example.org", is_active_account=False)
        campaign = make_campaign(slug="housing", title="Housing for all")
        campaign.organizers.extend([ana, bo, gone])
        petition = make_petition(campaign=campaign)
        for number in range(3):
            _sign(petition, f"s{number}@example.org")
        db.session.commit()
        ids = ana.id, campaign.id
    client = app.test_client()
    fresh_login(client, ids[0])
    base = f"/organize/campaigns/{ids[1]}/export.csv"
    client.get(base + "?status=pending").get_data()  # 0 rows: below the threshold
    with app.app_context():
        assert db.session.scalars(select(OutboundEmail)).all() == []
    client.get(base).get_data()
    with app.app_context():
        emails = db.session.scalars(select(OutboundEmail)).all()
        assert [email.to_address for email in emails] == ["bo@example.org"]
        assert emails[0].subject == "Ana exported 3 signatures of Housing for all"
        assert "/exports" in emails[0].body_text


def test_record_export_joins_the_callers_transaction(app, world):
    with app.test_request_context():
        from campaign.accounts.models import User

        actor = db.session.get(User, world["ana"])
        record = record_export(actor, kind="delivery_pack", fmt="pdf", campaign_id=world["campaign"],
                               petition_id=world["rent"], filters={"status": "confirmed"}, rows=5)
        assert record.id is not None and record.status == ExportStatus.COMPLETE
        db.session.rollback()
        assert db.session.scalars(select(ExportRecord)).all() == []
