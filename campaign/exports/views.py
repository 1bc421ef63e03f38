"""Signature exports: the form, the downloads (CSV, XLSX) and their audit log.

Organizers export their own campaigns under /organize/; administrators any
campaign, or all of them, under /admin/. A download needs a recently typed
password (``accounts.sudo``), leaves exactly one :class:`ExportRecord`, and is
streamed as it is read from the database.
"""

import re

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaign.accounts.access import managed_campaign_or_404
from campaign.accounts.decorators import admin_required, organizer_required
from campaign.accounts.sudo import confirm_password_redirect, password_is_fresh
from campaign.campaigns.models import Campaign
from campaign.db import utcnow
from campaign.errors import ERROR_TITLES
from campaign.exports.audit import finish_export, start_export
from campaign.exports.csv import stream_csv
from campaign.exports.models import ExportRecord
from campaign.exports.services import (
    COLUMN_LABELS,
    STATUSES,
    XLSX_MAX_ROWS,
    BadExportRequest,
    CopiedCsv,
    count_signatures,
    database_writes_csv,
    iter_signature_rows,
    parse_campaign_id,
    parse_filters,
    petition_in_campaign,
)
from campaign.exports.xlsx import stream_xlsx
from campaign.extensions import db
from campaign.petitions.models import Petition
from campaign.signatures.moderation import paginate

bp = Blueprint("exports_manage", __name__, url_prefix="/organize")
admin_bp = Blueprint("admin_exports", __name__, url_prefix="/admin")

MIMETYPES = {"csv": "text/csv",  # Flask adds "; charset=utf-8" to text types
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9_-]+")


def _bad_request(message):
    return render_template("errors/error.html", code=400, title=ERROR_TITLES[400],
                           explanation=message), 400


def _filename(campaign, fmt):
    stem = _UNSAFE_FILENAME.sub("-", campaign.slug if campaign else "all-campaigns").strip("-")
    return f"{stem or 'campaign'}-signatures-{utcnow():%Y-%m-%d}.{fmt}"


def _export_response(campaign, fmt, *, admin=False):
    """The download of ``campaign``'s (None: every campaign's) signatures as ``fmt``."""
    try:
        filters = parse_filters(request.args)
    except BadExportRequest as bad:
        return _bad_request(bad.message)
    campaign_id = campaign.id if campaign else None
    if filters.petition_id is not None and not petition_in_campaign(filters.petition_id,
                                                                    campaign_id):
        abort(404)
    if not password_is_fresh():
        return confirm_password_redirect()
    if fmt == "xlsx" and count_signatures(campaign_id, filters) > XLSX_MAX_ROWS:
        return _bad_request(_(
            "This export has more rows than a spreadsheet can hold (%(num)s). Choose fewer "
            "signatures, for example one petition or a shorter date range, or download a CSV.",
            num=format_number(XLSX_MAX_ROWS)))
    headers = {"Content-Disposition": f'attachment; filename="{_filename(campaign, fmt)}"',
               "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if request.method == "HEAD":
        # Nothing is sent, so nothing is exported (and a body never read could not finish
        # its record).
        return Response(mimetype=MIMETYPES[fmt], headers=headers)
    header = list(filters.columns)
    record = start_export(current_user, kind="signatures", fmt=fmt, campaign_id=campaign_id,
                          petition_id=filters.petition_id,
                          filters={**filters.as_record(), **({"admin": True} if admin else {})},
                          columns=filters.columns)
    body = _audited_stream(record.id, campaign_id, filters, fmt, header)
    return Response(stream_with_context(body), mimetype=MIMETYPES[fmt], headers=headers)


def _audited_stream(record_id, campaign_id, filters, fmt, header):
    """The file's chunks; the export's record is finished however the stream ends."""
    counter = [0]
    rows = _counted(iter_signature_rows(campaign_id, filters), counter)
    complete = False
    delimiter = ";" if filters.excel else ","
    try:
        if fmt == "csv" and database_writes_csv():
            rows.close()
            # The header in PostgreSQL's CSV dialect ("\n" line ends), the rows from COPY.
            yield from stream_csv(header, (), bom=filters.excel, delimiter=delimiter,
                                  line_end="\n")
            copied = CopiedCsv(campaign_id, filters, delimiter=delimiter)
            for block in copied:
                # Until the copy ends only the line breaks tell how far it got (a
                # comment with a line break counts twice, if the download stops).
                counter[0] += block.count(b"\n")
                yield block
            counter[0] = copied.rows
        elif fmt == "csv":
            yield from stream_csv(header, rows, bom=filters.excel, delimiter=delimiter)
        else:
            yield from stream_xlsx(header, rows)
        complete = True
    finally:
        # Closing the rows closes their cursor before the record is written.
        rows.close()
        finish_export(record_id, counter[0], complete=complete)


def _counted(rows, counter):
    try:
        for row in rows:
            counter[0] += 1
            yield row
    finally:
        rows.close()


def _form_context(campaign, campaigns=None):
    petitions = []
    if campaign is not None:
        petitions = db.session.scalars(
            select(Petition).where(Petition.campaign_id == campaign.id)
            .order_by(Petition.created_at.desc(), Petition.id.desc())).all()
    return {"campaign": campaign, "petitions": petitions, "campaigns": campaigns,
            "column_labels": COLUMN_LABELS, "statuses": STATUSES}


def _records(campaign_id=None):
    statement = select(ExportRecord).order_by(ExportRecord.at.desc(), ExportRecord.id.desc())
    if campaign_id is not None:
        statement = statement.where(ExportRecord.campaign_id == campaign_id)
    return paginate(statement, request.args.get("page", 1, type=int))


@bp.get("/campaigns/<int:campaign_id>/export")
@organizer_required
def export_form(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    return render_template("exports/manage/index.html", **_form_context(campaign))


@bp.get("/campaigns/<int:campaign_id>/export.csv")
@organizer_required
def export_csv(campaign_id):
    return _export_response(managed_campaign_or_404(current_user, campaign_id), "csv")


@bp.get("/campaigns/<int:campaign_id>/export.xlsx")
@organizer_required
def export_xlsx(campaign_id):
    return _export_response(managed_campaign_or_404(current_user, campaign_id), "xlsx")


@bp.get("/campaigns/<int:campaign_id>/exports")
@organizer_required
def campaign_log(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    return render_template("exports/manage/log.html", campaign=campaign,
                           page=_records(campaign.id))


@admin_bp.get("/exports")
@admin_required
def admin_index():
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.title, Campaign.id)).all()
    return render_template("exports/admin/index.html", page=_records(),
                           **_form_context(None, campaigns))


def _admin_campaign():
    try:
        campaign_id = parse_campaign_id(request.args)
    except BadExportRequest as bad:
        return None, _bad_request(bad.message)
    if campaign_id is None:
        return None, None
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign, None


@admin_bp.get("/exports/signatures.csv")
@admin_required
def admin_export_csv():
    campaign, problem = _admin_campaign()
    return problem or _export_response(campaign, "csv", admin=True)


@admin_bp.get("/exports/signatures.xlsx")
@admin_required
def admin_export_xlsx():
    campaign, problem = _admin_campaign()
    return problem or _export_response(campaign, "xlsx", admin=True)
