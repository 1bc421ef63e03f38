"""The API's conventions over HTTP: JSON errors, pages of collections, OData-style filters.

Collections answer as Action Network's do: ``_embedded`` holds exactly one key,
``osdi:<name>``, even when empty; a page past the end is an empty 200; records
come in id order, so paging never shows one twice; totals are exact counts.
"""

import math
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from campaign.api.resources import api_root, curies
from campaign.extensions import db

MAX_PER_PAGE = 25
MAX_PAGE = 1_000_000
HAL_JSON = "application/hal+json"
# One comparison of an OData filter: modified_date gt '2026-07-27' (or a full timestamp).
_COMPARISON = re.compile(
    r"^\s*(?P<field>[a-z_]+)\s+(?P<operator>gt|lt|eq|ge|le)\s+'(?P<value>[^']*)'\s*$")
_AND = re.compile(r"\s+and\s+")
FILTERABLE = ("modified_date", "created_date")


class ApiError(Exception):
    """A request the API refuses: ``message`` for people, ``field`` for the part at fault."""

    def __init__(self, status, message, field=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def error_response(status, message, field=None, headers=None):
    body = {"error": message}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def hal(body, status=200):
    response = jsonify(body)
    response.status_code = status
    response.mimetype = HAL_JSON
    return response


def not_found():
    return ApiError(404, _("No such record: it does not exist, or this token may not see it."))


# --- Pages --------------------------------------------------------------------------------------

def _whole_number(name, default, maximum):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # ASCII digits only: str.isdigit() also passes "²", which int() refuses.
    digits = raw.lstrip("0")
    if not (raw.isascii() and raw.isdigit()) or not digits:
        raise ApiError(400, _("%(name)s must be a whole number from 1.", name=name), name)
    # Past the maximum, the number is never converted (int() refuses over 4,300 digits).
    return maximum if len(digits) > len(str(maximum)) else min(int(digits), maximum)


def page_and_size():
    """``page`` (from 1) and ``per_page`` (at most 25, as Action Network allows)."""
    return (_whole_number("page", 1, MAX_PAGE),
            _whole_number("per_page", MAX_PER_PAGE, MAX_PER_PAGE))


def collection(name, statement, id_column, build, *, path, dated_by=None):
    """One page of the records ``statement`` selects, as an OSDI collection.

    ``build(records)`` turns the page's records into resources (in one go, so it
    can fetch what they share with one query each). Ordered by ``id_column``.
    ``dated_by``: for records whose dates are not their own columns (see
    :func:`apply_filter`).
    """
    page, per_page = page_and_size()
    statement = apply_filter(statement, dated_by)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    records = db.session.scalars(
        statement.order_by(id_column).offset((page - 1) * per_page).limit(per_page)).unique().all()
    resources = build(records) if records else []
    total_pages = math.ceil(total / per_page)
    href = f"{api_root()}/{path}"
    links = {"self": {"href": _page_href(href, page, per_page)}}
    if page < total_pages:
        links["next"] = {"href": _page_href(href, page + 1, per_page)}
    if page > 1:
        links["previous"] = {"href": _page_href(href, min(page - 1, max(total_pages, 1)), per_page)}
    links[f"osdi:{name}"] = [resource["_links"]["self"] for resource in resources]
    links["curies"] = curies()
    return hal({
        "total_pages": total_pages,
        "per_page": per_page,
        "page": page,
        "total_records": total,
        "_links": links,
        "_embedded": {f"osdi:{name}": resources},
    })


def _page_href(href, page, per_page):
    query = f"page={page}&per_page={per_page}"
    if request.args.get("filter"):
        query += "&filter=" + quote(request.args["filter"], safe="")
    return f"{href}?{query}"


# --- Filters ------------------------------------------------------------------------------------

def apply_filter(statement, dated_by=None):
    """``statement`` narrowed by the request's ``filter`` (``modified_date gt '…'``, joined
    with ``and``), on the created_at and updated_at columns of the statement's own
    records; or, for records whose dates are not their own columns, the statement
    ``dated_by(conditions)`` makes, where ``conditions(created_at, updated_at)`` gives
    the filter's conditions on the columns it passes."""
    text = request.args.get("filter", "")
    if not text.strip():
        return statement
    comparisons = []
    for part in _AND.split(text.strip()):
        match = _COMPARISON.match(part)
        if match is None or match["field"] not in FILTERABLE:
            raise ApiError(400, _("This filter is not understood. Filters look like "
                                  "modified_date gt '2026-07-27', joined with and; "
                                  "they compare modified_date or created_date with gt, lt or eq."),
                           "filter")
        comparisons.append((match["field"], match["operator"], match["value"]))

    def conditions(created_at, updated_at):
        return [_comparison(updated_at if field == "modified_date" else created_at, operator, value)
                for field, operator, value in comparisons]

    if dated_by is not None:
        return dated_by(conditions)
    entity = statement.column_descriptions[0]["entity"]
    return statement.where(*conditions(entity.created_at, entity.updated_at))


def _comparison(column, operator, value):
    moment, span = parse_moment(value)
    if moment is None:
        raise ApiError(400, _("%(value)s is not a date. Write dates as 2026-07-27 or "
                              "2026-07-27T18:00:00Z.", value=value), "filter")
    if operator == "eq":
        return (column >= moment) & (column < moment + span)
    if operator == "gt":
        return column >= moment + span
    if operator == "ge":
        return column >= moment
    if operator == "le":
        return column < moment + span
    return column < moment


def parse_moment(value):
    """A UTC datetime and the span it stands for (a day for a date, a second for a time),
    or (None, None). Times without an offset are UTC."""
    value = value.strip()
    try:
        if len(value) == 10:
            moment = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            span = timedelta(days=1)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            moment, span = moment.astimezone(UTC).replace(microsecond=0), timedelta(seconds=1)
        # The span must end within datetime's range (year 9999), or comparing would overflow.
        moment + span
    except (ValueError, OverflowError):
        return None, None
    return moment, span


def json_body():
    """The request's JSON object. A body sent as form fields or query parameters (a
    common slip of hand-written clients) is told so, never half-read."""
    if not request.data:
        raise ApiError(400, _("This request needs a JSON object as its body, sent with "
                              "Content-Type: application/json."))
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, _("The body is not a JSON object."))
    return body


def retry_after_seconds(limiter):
    """Seconds until the rate limit that was hit lets requests through again."""
    limit = getattr(limiter, "current_limit", None)
    if limit is None:
        return 1
    try:
        reset_at = limit.reset_at
    except Exception:  # the storage is down: the limiter lets requests through anyway
        return 1
    now = datetime.now(UTC).timestamp()
    return max(1, math.ceil(reset_at - now))


def rate_limit():
    return current_app.config["API_RATE_LIMIT"]
