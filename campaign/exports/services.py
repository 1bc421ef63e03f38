"""Signature exports: the filters an organizer chooses, and the rows they select.

Rows are read as plain tuples from one core ``select`` with a server-side
cursor (``yield_per``), so memory stays flat however many signatures match.
"""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, cast, exists, func, literal, select
from sqlalchemy import text as text_clause

from campaign.db import utc_iso_text
from campaign.errors import DomainError
from campaign.extensions import db
from campaign.mailing.models import Subscription, SubscriptionStatus
from campaign.petitions.models import Petition
from campaign.signatures.models import Signature, SignatureStatus, Supporter

FORMATS = ("csv", "xlsx")
STATUSES = (SignatureStatus.CONFIRMED, SignatureStatus.PENDING, SignatureStatus.INVALIDATED)
# Rows fetched from the database at a time.
YIELD_PER = 2000
# A worksheet holds 1,048,576 rows: one of them is the header.
XLSX_MAX_ROWS = 1_048_575

# Column name -> its label on the form, in the order they are written.
COLUMN_LABELS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("Email"),
    "postal_code": _l("Postal code"),
    "country": _l("Country"),
    "signed_at": _l("Signed (UTC)"),
    "confirmed_at": _l("Confirmed (UTC)"),
    "status": _l("Status"),
    "comment": _l("Comment"),
    "source": _l("Source"),
    "petition": _l("Petition"),
    "mailing_consent": _l("On the mailing list"),
}
COLUMNS = tuple(COLUMN_LABELS)
_TRUE = {"1", "on", "true", "yes"}
_FALSE = {"", "0", "off", "false", "no"}


class BadExportRequest(DomainError):
    """A download address with a filter that cannot be understood: a 400 with this message."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclasses.dataclass(frozen=True)
class ExportFilters:
    petition_id: int | None = None
    status: SignatureStatus = SignatureStatus.CONFIRMED
    date_from: date | None = None
    date_to: date | None = None
    consent_only: bool = False
    columns: tuple = COLUMNS
    excel: bool = False

    def as_record(self):
        """The filters as the audit record keeps them (JSON)."""
        return {"petition": self.petition_id, "status": str(self.status),
                "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None,
                "consent": self.consent_only, "excel": self.excel}


def _parse_id(value, message):
    value = (value or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise BadExportRequest(message)
    return int(value)


def _parse_date(value, message):
    value = (value or "").strip()
    if not value:
        return None
    try:
        # fromisoformat also takes "20310715": only the documented form is accepted.
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadExportRequest(message) from None


def parse_campaign_id(args):
    """The ``campaign`` parameter of the admin download: an id, or None for every campaign."""
    return _parse_id(args.get("campaign"), _l("The campaign must be given by its number."))


def parse_filters(args):
    """:class:`ExportFilters` from a download's query string; raises :class:`BadExportRequest`."""
    petition_id = _parse_id(args.get("petition"), _l("The petition must be given by its number."))
    status = (args.get("status") or SignatureStatus.CONFIRMED.value).strip()
    if status not in {member.value for member in STATUSES}:
        raise BadExportRequest(_l("The status must be confirmed, pending or invalidated."))
    date_from = _parse_date(args.get("from"), _l("The start date must be written YYYY-MM-DD."))
    date_to = _parse_date(args.get("to"), _l("The end date must be written YYYY-MM-DD."))
    if date_from and date_to and date_from > date_to:
        raise BadExportRequest(_l("The start date must not be after the end date."))
    consent = _parse_flag(args.get("consent"))
    excel = _parse_flag(args.get("excel"))
    columns = []
    for value in args.getlist("columns"):
        for name in value.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in COLUMN_LABELS:
                raise BadExportRequest(_l("There is no column named “%(name)s”.", name=name[:40]))
            if name not in columns:
                columns.append(name)
    return ExportFilters(petition_id=petition_id, status=SignatureStatus(status),
                         date_from=date_from, date_to=date_to, consent_only=consent,
                         columns=tuple(columns) or COLUMNS, excel=excel)


def _parse_flag(value):
    value = (value or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadExportRequest(_l("A yes-or-no option must be 1 or left out."))


def _column_expressions(consent):
    return {
        "first_name": Signature.first_name,
        "last_name": Signature.last_name,
        "email": Supporter.email,
        "postal_code": Signature.postal_code,
        "country": Signature.country,
        "signed_at": utc_iso_text(Signature.created_at),
        "confirmed_at": utc_iso_text(Signature.confirmed_at),
        "status": Signature.status,
        "comment": Signature.comment,
        "source": Signature.source,
        "petition": Petition.slug,
        "mailing_consent": consent,
    }


def _consent_clause():
    """True when the signer is subscribed to the mailing list of the petition's campaign."""
    return exists().where(Subscription.supporter_id == Signature.supporter_id,
                          Subscription.campaign_id == Petition.campaign_id,
                          Subscription.status == SubscriptionStatus.SUBSCRIBED)


def _where(statement, campaign_id, filters):
    statement = statement.where(Signature.status == filters.status)
    if campaign_id is not None:
        statement = statement.where(Petition.campaign_id == campaign_id)
    if filters.petition_id is not None:
        statement = statement.where(Signature.petition_id == filters.petition_id)
    if filters.date_from:
        statement = statement.where(
            Signature.created_at >= datetime.combine(filters.date_from, time(), UTC))
    if filters.date_to and filters.date_to < date.max:
        statement = statement.where(
            Signature.created_at < datetime.combine(filters.date_to + timedelta(days=1), time(), UTC))
    if filters.consent_only:
        statement = statement.where(_consent_clause())
    return statement


def signatures_select(campaign_id, filters):
    """The rows of the export: one tuple per signature, in ``filters.columns`` order.

    ``campaign_id`` None means every campaign (administrators only).
    """
    consent = _consent_clause() if "mailing_consent" in filters.columns else literal(False)
    expressions = _column_expressions(consent)
    statement = (select(*[expressions[name].label(name) for name in filters.columns])
                 .select_from(Signature)
                 .join(Petition, Petition.id == Signature.petition_id)
                 # Outer: an anonymised signature has no supporter left, only blanks.
                 .outerjoin(Supporter, Supporter.id == Signature.supporter_id))
    return _where(statement, campaign_id, filters).order_by(Signature.id)


def count_signatures(campaign_id, filters):
    statement = (select(func.count()).select_from(Signature)
                 .join(Petition, Petition.id == Signature.petition_id))
    return db.session.scalar(_where(statement, campaign_id, filters))


def iter_signature_rows(campaign_id, filters):
    """The export's rows, fetched :data:`YIELD_PER` at a time; closes its cursor when closed."""
    statement = signatures_select(campaign_id, filters).execution_options(
        yield_per=YIELD_PER, stream_results=True)
    result = db.session.execute(statement)
    try:
        yield from result  # rows are sequences already: no copy per row
    finally:
        result.close()


def petition_in_campaign(petition_id, campaign_id):
    """True if petition ``petition_id`` exists (in campaign ``campaign_id`` unless None)."""
    statement = select(Petition.id).where(Petition.id == petition_id)
    if campaign_id is not None:
        statement = statement.where(Petition.campaign_id == campaign_id)
    return db.session.scalar(statement) is not None


# --- PostgreSQL: the database writes the CSV ----------------------------------------------------

# The characters that make a spreadsheet run a cell (see campaign.exports.csv), as SQL.
_FORMULA_STARTS_SQL = "'=', '+', '-', '@', chr(9), chr(13)"


def _neutralised(expression):
    """``expression`` as text a spreadsheet shows as text: the rule of ``safe_cell``, in SQL."""
    text = func.coalesce(cast(expression, String), "")
    return case((func.substr(text, 1, 1).in_(text_clause(_FORMULA_STARTS_SQL)), "'" + text),
                else_=text)


def _copy_select(campaign_id, filters):
    consent = _consent_clause() if "mailing_consent" in filters.columns else literal(False)
    expressions = _column_expressions(consent)
    columns = []
    for name in filters.columns:
        expression = expressions[name]
        if name == "mailing_consent":
            columns.append(case((expression, "true"), else_="false").label(name))
        else:
            columns.append(_neutralised(expression).label(name))
    statement = (select(*columns).select_from(Signature)
                 .join(Petition, Petition.id == Signature.petition_id)
                 .outerjoin(Supporter, Supporter.id == Signature.supporter_id))
    return _where(statement, campaign_id, filters).order_by(Signature.id)


CHUNK_BYTES = 64 * 1024


class CopiedCsv:
    """The export's rows as CSV written by PostgreSQL (``COPY … TO STDOUT``), in blocks of
    bytes as the server sends them: the rows never become Python objects, which makes a
    large export several times faster. ``rows`` holds the count once the copy finished."""

    def __init__(self, campaign_id, filters, *, delimiter=","):
        self.statement = _copy_select(campaign_id, filters)
        self.delimiter = delimiter
        self.rows = 0

    def __iter__(self):
        connection = db.session.connection()
        compiled = self.statement.compile(dialect=connection.dialect,
                                          compile_kwargs={"literal_binds": True})
        options = "FORMAT csv" + (", DELIMITER ';'" if self.delimiter == ";" else "")
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY ({compiled}) TO STDOUT WITH ({options})") as copy:
                # The server sends one message per row: gathered into larger chunks, the
                # response costs one write per chunk rather than one per row.
                chunk = bytearray()
                for block in copy:
                    chunk += block
                    if len(chunk) >= CHUNK_BYTES:
                        yield bytes(chunk)
                        chunk.clear()
                if chunk:
                    yield bytes(chunk)
            self.rows = cursor.rowcount


def database_writes_csv():
    """True where :class:`CopiedCsv` works (PostgreSQL); SQLite exports through Python."""
    return db.session.get_bind().dialect.name == "postgresql"
