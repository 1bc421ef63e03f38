"""Paper signatures: an organizer uploads the CSV typed from sheets signed at a picket.

Every row is checked first; one invalid row blocks the whole file, so a file is
imported whole or not at all. Rows already signed (same address, or for rows
without an address the same names and postal code) are skipped and listed.
Paper signatures are confirmed at once and back none of the demands: the sheet
does not say which ones the signer backed. Signers get no email, except those
who gave an address and ticked the consent box: they get one email asking them
to confirm they want the campaign's updates (double opt-in). Each imported
signature goes to the campaign's webhooks like any other confirmed signature.
"""

import csv
import dataclasses
import functools
import io
import re
import uuid

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select

from campaign.accounts.audit import record
from campaign.api.webhooks import queue_webhooks_in_bulk
from campaign.db import utcnow
from campaign.errors import DomainError
from campaign.extensions import db
from campaign.i18n import country_choices
from campaign.links import public_url
from campaign.mail.services import queue_email
from campaign.mailing.services import record_consent
from campaign.petitions.services import change_confirmed_count
from campaign.security import hash_token, new_token
from campaign.signatures.forms import COMMENT_MAX, NAME_MAX, STANDARD_CONSENT_WORDING
from campaign.signatures.models import Signature, SignatureStatus, Supporter
from campaign.signatures.services import find_or_create_supporter_id, token_has_expired
from campaign.text import clean_line, clean_paragraphs, has_control_characters

COLUMNS = ("first_name", "last_name", "email", "postal_code", "country", "comment",
           "mailing_consent")
REQUIRED_COLUMNS = ("first_name", "last_name", "country")
EXAMPLE_ROW = ("Ada", "Lovelace", "ada@example.org", "M5V 2T6", "CA", "Met you at the market",
               "yes")
LABEL_MAX = 80
SOURCE_MAX = 100  # Signature.source
CONSENT_YES = frozenset({"yes", "oui", "1", "x", "y", "o"})
CONSENT_NO = frozenset({"no", "non", "0", "n", ""})
AUDIT_ACTION = "signatures.paper_import"
_POSTAL_CODE = re.compile(r"^[0-9A-Z][0-9A-Z \-]*$")
_CHUNK = 500


class FileUnreadable(DomainError):
    """The upload is not a CSV file this import can read; ``message`` says why."""

    status_code = 422

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class ConsentLinkInvalid(DomainError):
    status_code = 404


@dataclasses.dataclass(frozen=True)
class RowProblem:
    row: int  # as the spreadsheet numbers it: the header is row 1
    reasons: tuple


@dataclasses.dataclass(frozen=True)
class SkippedRow:
    row: int
    name: str
    reason: str


@dataclasses.dataclass(frozen=True)
class PaperRow:
    row: int
    first_name: str
    last_name: str
    email: str
    postal_code: str
    country: str
    comment: str
    consent: bool

    @property
    def name_key(self):
        return (self.first_name.casefold(), self.last_name.casefold(), self.postal_code)


@dataclasses.dataclass
class ImportReport:
    problems: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    imported: int = 0
    consent_emails: int = 0

    @property
    def blocked(self):
        return bool(self.problems)


def template_csv():
    """The documented template: the header and one example row, UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(EXAMPLE_ROW)
    return "\ufeff" + out.getvalue()


def decode(data):
    """The text of an uploaded file: UTF-8 (with or without BOM), else Windows-1252."""
    if not data or not data.strip():
        raise FileUnreadable(_l("The file is empty."))
    if b"\x00" in data:
        raise FileUnreadable(_l("This is not a CSV file. Please save the spreadsheet as CSV "
                                "and upload that file."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise FileUnreadable(_l("The file's characters could not be read. Please save it as "
                                "CSV UTF-8.")) from None
    if has_control_characters(text, allow_newlines=True):
        raise FileUnreadable(_l("This is not a CSV file. Please save the spreadsheet as CSV "
                                "and upload that file."))
    return text


def read_rows(text):
    """``(row number, {column: cell})`` for each non-blank row; checks the header."""
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise FileUnreadable(_l("The file is empty."))
        columns = [clean_line(cell).lower() for cell in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        unknown = [name for name in columns if name and name not in COLUMNS]
        if missing or unknown:
            raise FileUnreadable(_l(
                "The first row must name the columns, as in the template: %(columns)s. "
                "Missing: %(missing)s. Not recognised: %(unknown)s.",
                columns=", ".join(COLUMNS), missing=", ".join(missing) or "-",
                unknown=", ".join(unknown) or "-"))
        rows = []
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            values = {name: cells[index] if index < len(cells) else ""
                      for index, name in enumerate(columns) if name}
            rows.append((number, values))
    except csv.Error:
        raise FileUnreadable(_l("The file could not be read as CSV. Please save the spreadsheet "
                                "as CSV and upload it again.")) from None
    if not rows:
        raise FileUnreadable(_l("The file has no signatures below its header row."))
    return rows


@functools.cache
def _countries():
    """Country codes and their English and French names (case-folded) → code."""
    known = {}
    for locale in ("en", "fr"):
        for code, name in country_choices(locale):
            known[name.casefold()] = code
            known[code.casefold()] = code
    return known


def check_row(number, values, *, postal_code_required):
    """A :class:`PaperRow`, or a :class:`RowProblem` saying in plain words what is wrong."""
    reasons = []
    names = {}
    for field, label in (("first_name", _l("first name")), ("last_name", _l("last name"))):
        value = clean_line(values.get(field))
        if not value:
            reasons.append(_l("The %(field)s is missing.", field=label))
        elif len(value) > NAME_MAX:
            reasons.append(_l("The %(field)s is longer than %(max)d characters.", field=label,
                              max=NAME_MAX))
        elif has_control_characters(value):
            reasons.append(_l("The %(field)s contains invisible control characters.",
                              field=label))
        names[field] = value

    email = clean_line(values.get("email"))
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as error:
            reasons.append(_l("The email address is not valid: %(reason)s", reason=str(error)))
        else:
            if len(email) > 254:
                reasons.append(_l("The email address is too long."))

    postal_code = clean_line(values.get("postal_code")).upper()
    if not postal_code:
        if postal_code_required:
            reasons.append(_l("The postal code is missing (this petition asks for it)."))
    elif len(postal_code) > 16:
        reasons.append(_l("The postal code is longer than 16 characters."))
    elif not _POSTAL_CODE.match(postal_code):
        reasons.append(_l("The postal code may only have letters, digits, spaces and hyphens."))

    country_text = clean_line(values.get("country"))
    country = _countries().get(country_text.casefold())
    if not country_text:
        reasons.append(_l("The country is missing."))
    elif country is None:
        reasons.append(_l("The country “%(country)s” is not known: use a two-letter code such "
                          "as FR or its English or French name.", country=country_text[:60]))

    comment = clean_paragraphs(values.get("comment"))
    if len(comment) > COMMENT_MAX:
        reasons.append(_l("The comment is longer than %(max)d characters.", max=COMMENT_MAX))
    elif has_control_characters(comment, allow_newlines=True):
        reasons.append(_l("The comment contains invisible control characters."))

    consent_text = clean_line(values.get("mailing_consent")).casefold()
    if consent_text not in CONSENT_YES | CONSENT_NO:
        reasons.append(_l("The mailing consent must be yes, no, oui, non, 1, 0, x or empty."))

    if reasons:
        return RowProblem(number, tuple(reasons))
    return PaperRow(number, names["first_name"], names["last_name"], email, postal_code,
                    country, comment, consent_text in CONSENT_YES)


def source_for(label):
    return f"paper: {clean_line(label)}"[:SOURCE_MAX]


def import_paper_signatures(petition, data, *, label, actor, locale="en", now=None):
    """Check ``data`` (the uploaded bytes) and, if every row is valid, import it.

    Returns an :class:`ImportReport`; when it is ``blocked`` nothing was written.
    Raises :class:`FileUnreadable`. Flushes; the caller commits (one transaction).
    """
    now = now or utcnow()
    report = ImportReport()
    postal_code_required = "postal_code" in (petition.required_fields or [])
    rows = []
    for number, values in read_rows(decode(data)):
        checked = check_row(number, values, postal_code_required=postal_code_required)
        (report.problems if isinstance(checked, RowProblem) else rows).append(checked)
    if report.problems:
        return report

    fresh = _skip_duplicates(petition, rows, report)
    if not fresh:
        _audit(petition, actor, label, report)
        return report

    supporter_ids = _supporter_ids(fresh, locale)
    source = source_for(label)
    wording = petition.consent_wording or str(STANDARD_CONSENT_WORDING)
    tokens = {}
    values = []
    for row, supporter_id in zip(fresh, supporter_ids, strict=True):
        wants_updates = bool(row.email and row.consent)
        token_hash = None
        if wants_updates:
            tokens[row.row], token_hash = new_token()
        values.append({
            "petition_id": petition.id, "supporter_id": supporter_id,
            "status": SignatureStatus.CONFIRMED, "first_name": row.first_name,
            "last_name": row.last_name, "postal_code": row.postal_code, "country": row.country,
            "comment": row.comment, "wants_updates": wants_updates,
            "consent_wording": wording if wants_updates else "", "source": source,
            "utm_source": "", "utm_medium": "", "utm_campaign": "", "referrer_host": "",
            "locale": locale, "ip_hash": None, "confirm_token_hash": token_hash,
            "token_issued_at": now if wants_updates else None,
            "last_emailed_at": now if wants_updates else None, "confirmed_at": now,
            "petition_version": petition.current_version, "is_comment_hidden": False,
            "invalidated_reason": "", "anonymised_at": None, "created_at": now,
            "updated_at": now,
        })
    signature_ids = []
    table = Signature.__table__
    for start in range(0, len(values), _CHUNK):
        signature_ids += db.session.scalars(insert(table).returning(table.c.id),
                                            values[start:start + _CHUNK]).all()
    queue_webhooks_in_bulk("signature", petition.campaign_id, signature_ids, now=now)
    # Paper signatures back none of the demands: the sheet does not say which.
    change_confirmed_count(petition.id, len(fresh))
    report.imported = len(fresh)

    for row in fresh:
        if row.row in tokens:
            queue_email("paper_consent", row.email, "paper_consent", locale,
                        petition={"title": petition.title},
                        campaign={"title": petition.campaign.title},
                        first_name=row.first_name, where=clean_line(label),
                        consent_url=public_url("paper.consent", token=tokens[row.row]))
    report.consent_emails = len(tokens)
    _audit(petition, actor, label, report)
    return report


def _audit(petition, actor, label, report):
    record(actor, AUDIT_ACTION, "petition", petition.id, campaign_id=petition.campaign_id,
           reason=f"imported {report.imported}, skipped {len(report.skipped)} duplicates, "
                  f"{report.consent_emails} consent emails; {source_for(label)}")


def _skip_duplicates(petition, rows, report):
    """The rows to import; the others are added to ``report.skipped``."""
    emails = sorted({row.email.lower() for row in rows if row.email})
    signed_emails = set()
    for start in range(0, len(emails), _CHUNK):
        signed_emails.update(db.session.scalars(
            select(Supporter.email_key).join(Signature, Signature.supporter_id == Supporter.id)
            .where(Signature.petition_id == petition.id,
                   Supporter.email_key.in_(emails[start:start + _CHUNK]))))
    signed_names = set()
    if any(not row.email for row in rows):
        signed_names = {(first, last, postal) for first, last, postal in db.session.execute(
            select(func.lower(Signature.first_name), func.lower(Signature.last_name),
                   Signature.postal_code).where(Signature.petition_id == petition.id))}
        # SQL lower() folds ASCII only on SQLite: fold again in Python.
        signed_names = {(f.casefold(), la.casefold(), p) for f, la, p in signed_names}
    seen_emails, seen_names, fresh = set(), set(), []
    for row in rows:
        name = f"{row.first_name} {row.last_name}"
        key = row.email.lower()
        if key and key in signed_emails:
            report.skipped.append(SkippedRow(row.row, name, _l(
                "This email address has already signed the petition.")))
        elif key and key in seen_emails:
            report.skipped.append(SkippedRow(row.row, name, _l(
                "This email address is on an earlier row of the file.")))
        elif not key and row.name_key in signed_names:
            report.skipped.append(SkippedRow(row.row, name, _l(
                "Somebody with these names and postal code has already signed the petition.")))
        elif not key and row.name_key in seen_names:
            report.skipped.append(SkippedRow(row.row, name, _l(
                "These names and postal code are on an earlier row of the file.")))
        else:
            fresh.append(row)
            if key:
                seen_emails.add(key)
            seen_names.add(row.name_key)
    return fresh


def _supporter_ids(rows, locale):
    """One supporter id per row: found or created by address, or a new one without address."""
    ids = [find_or_create_supporter_id(row.email, locale) if row.email else None for row in rows]
    keys = {index: f"paper:{uuid.uuid4().hex}" for index, row in enumerate(rows) if not row.email}
    if keys:
        now = utcnow()
        table = Supporter.__table__
        for start in range(0, len(keys), _CHUNK):
            chunk = list(keys.items())[start:start + _CHUNK]
            new_ids = db.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [{"email": "", "email_key": key, "locale": locale, "first_name": "",
                  "last_name": "", "postal_code": "", "country": "", "created_at": now,
                  "updated_at": now} for _index, key in chunk]).scalars().all()
            for (index, _key), new_id in zip(chunk, new_ids, strict=True):
                ids[index] = new_id
    return ids


def find_consent_signature(token):
    """The paper signature waiting for its signer to confirm their consent, or None."""
    if not token or len(token) > 100:
        return None
    signature = db.session.scalars(
        select(Signature).where(Signature.confirm_token_hash == hash_token(token))
    ).one_or_none()
    if (signature is None or signature.status != SignatureStatus.CONFIRMED
            or not signature.wants_updates or not signature.source.startswith("paper:")
            or signature.supporter is None):
        return None
    return signature


def confirm_paper_consent(token, *, now=None):
    """Subscribe the paper signer behind ``token`` to the campaign's updates.

    Counts nothing (the signature already counts). The link works once, so an
    old email cannot re-subscribe someone who later unsubscribed. Raises
    :class:`ConsentLinkInvalid`. The caller commits.
    """
    now = now or utcnow()
    signature = find_consent_signature(token)
    if signature is None or token_has_expired(signature, now):
        raise ConsentLinkInvalid("unknown or expired consent link")
    petition = signature.petition
    record_consent(signature.supporter, petition.campaign, signature.consent_wording,
                   source=f"paper:{petition.slug}", now=now)
    signature.confirm_token_hash = None
    return signature
