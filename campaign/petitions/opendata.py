"""Open data: a petition's confirmed signatures per day, as CSV and JSON.

Counts only, never a name, an address or a comment. Each file is computed at
most once every ``OPEN_DATA_CACHE_SECONDS`` (60 s) per process and petition,
so a flood of downloads costs the database one GROUP BY a minute; browsers
and proxies may keep it for five minutes more.
"""

import csv
import io
import json
import threading
import time

from flask import Blueprint, Response, abort, current_app

from campaign.db import utcnow
from campaign.petitions.services import find_signable_petition, list_daily_confirmations

bp = Blueprint("opendata", __name__)

CACHE_SECONDS = 60
MAX_ENTRIES = 256
# What spreadsheet programs run as a formula when a cell starts with it.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_lock = threading.Lock()


@bp.get("/petitions/<slug>/counts.csv")
def counts_csv(slug):
    body = _cached_file(slug, "csv")
    return _download(body, "text/csv; charset=utf-8",
                     {"Content-Disposition": f"attachment; filename={slug}-counts.csv"})


@bp.get("/petitions/<slug>/counts.json")
def counts_json(slug):
    return _download(_cached_file(slug, "json"), "application/json")


def _download(body, mimetype, headers=None):
    response = Response(body, mimetype=mimetype, headers=headers)
    response.headers["Cache-Control"] = "public, max-age=300"
    # Public data: other sites' pages may read it (no cookies are involved).
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _cached_file(slug, kind):
    """The file's bytes, computed afresh at most once per cache period; 404 for a petition
    the public may not see (remembered too, so unknown slugs cost no more)."""
    app = current_app._get_current_object()
    seconds = app.config.get("OPEN_DATA_CACHE_SECONDS", CACHE_SECONDS)
    cache = app.extensions.setdefault("placard_open_data", {})
    now = time.monotonic()
    entry = cache.get((slug, kind)) if seconds > 0 else None
    if entry is None or entry[0] <= now:
        petition = find_signable_petition(slug)
        body = None if petition is None else _RENDERERS[kind](petition)
        entry = (now + seconds, body)
        if seconds > 0:
            with _lock:
                if len(cache) >= MAX_ENTRIES:
                    cache.clear()
                cache[(slug, kind)] = entry
    if entry[1] is None:
        abort(404)
    return entry[1]


def _columns(petition):
    return [(demand.id, demand.text) for demand in petition.campaign.demands] \
        if petition.signers_choose_demands else []


def _render_csv(petition):
    demands = _columns(petition)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["date", "confirmed", "cumulative", *(_cell(text) for _id, text in demands)])
    for day in list_daily_confirmations(petition):
        writer.writerow([day.day.isoformat(), day.confirmed, day.cumulative,
                         *(day.demands[demand_id] for demand_id, _text in demands)])
    return out.getvalue().encode("utf-8")


def _render_json(petition):
    demands = _columns(petition)
    days = list_daily_confirmations(petition)
    document = {
        "petition": petition.slug,
        "title": petition.title,
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "total_confirmed": days[-1].cumulative if days else 0,
        "days": [{"date": day.day.isoformat(), "confirmed": day.confirmed,
                  "cumulative": day.cumulative,
                  "demands": {text: day.demands[demand_id] for demand_id, text in demands}}
                 for day in days],
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _cell(text):
    """A header cell an organizer wrote, made inert for spreadsheets."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


_RENDERERS = {"csv": _render_csv, "json": _render_json}
