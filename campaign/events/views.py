"""Public event pages, RSVPs, the attendee's own RSVP page, calendars and the picket sign."""

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from campaign.campaigns.services import (
    find_redirected_slug,
    find_visible_campaign,
    list_published_campaigns,
)
from campaign.db import utcnow
from campaign.errors import render_error
from campaign.events.calendar import calendar_for, event_filename
from campaign.events.display import KIND_LABELS
from campaign.events.forms import GuestsForm, RsvpForm
from campaign.events.models import EventKind, EventStatus, RsvpStatus
from campaign.events.picket import PAPER_SIZES, qr_code_svg
from campaign.events.rsvps import (
    GUESTS_MAX,
    EventClosed,
    NotEnoughPlaces,
    RsvpDetails,
    RsvpTokenExpired,
    RsvpTokenInvalid,
    cancel_rsvp,
    change_guests,
    confirm_rsvp,
    confirmation_has_expired,
    find_rsvp_by_token,
    rsvp_to_event,
)
from campaign.events.services import (
    EventFilters,
    attendance,
    campaign_calendar_events,
    find_visible_event,
    list_event_cities,
    list_visible_events,
    picket_sign_url,
)
from campaign.extensions import db, limiter
from campaign.pagecache import render_public_page
from campaign.text import clean_line, has_control_characters

bp = Blueprint("events", __name__)

# Pages whose address holds an attendee's link token.
TOKEN_ENDPOINTS = frozenset({"events.rsvp_page", "events.rsvp_confirm", "events.rsvp_cancel",
                             "events.rsvp_guests", "events.rsvp_calendar"})
CALENDAR_CACHE_SECONDS = 300


@bp.after_request
def keep_tokens_private(response):
    if request.endpoint in TOKEN_ENDPOINTS:
        # The token is in the address: never pass it on in a Referer header, and
        # never keep the page (it may show the online link) in a shared cache.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


# --- Lookups ------------------------------------------------------------------------------------

# What slugify makes; anything else (a NUL byte PostgreSQL would refuse, a very long
# string) is not looked up at all.
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


def find_event(slug):
    return find_visible_event(slug) if _SLUG.fullmatch(slug) else None


def get_visible_event_or_404(slug, endpoint=".show", **args):
    """The public event at ``slug``; a renamed event's old address answers 301 to ``endpoint``."""
    if not _SLUG.fullmatch(slug):
        abort(404)
    event = find_visible_event(slug)
    if event is None:
        new_slug = find_redirected_slug("event", slug)
        if new_slug is None:
            abort(404)
        abort(redirect(url_for(endpoint, slug=new_slug, **args), 301))
    return event


def _text_arg(name, longest):
    value = clean_line(request.args.get(name, ""))[:longest]
    return "" if has_control_characters(value) else value


def _listing_filters():
    """The /events filters from the query string; values the page cannot use are dropped."""
    args = request.args
    kind = args.get("kind", "")
    return EventFilters(
        campaign=_text_arg("campaign", 80),
        kind=kind if kind in EventKind.__members__.values() else "",
        city=_text_arg("city", 100),
        online=args.get("online", "") not in ("", "0"),
        past=args.get("when") == "past")


def _page_number():
    value = request.args.get("page", "")
    return int(value) if value.isdigit() and len(value) < 7 else 1


def _filter_args(filters):
    """The query-string form of ``filters``, for links that keep them."""
    args = {"campaign": filters.campaign, "kind": filters.kind, "city": filters.city,
            "online": "1" if filters.online else "", "when": "past" if filters.past else ""}
    return {name: value for name, value in args.items() if value}


# --- Listing and event page ---------------------------------------------------------------------

@bp.get("/events")
def index():
    def load():
        filters = _listing_filters()
        cities = list_event_cities()
        if filters.city and filters.city.lower() not in {city.lower() for city in cities}:
            cities = [*cities, filters.city]
        return {"filters": filters, "filter_args": _filter_args(filters),
                "result": list_visible_events(filters, page=_page_number()),
                "cities": cities, "kinds": KIND_LABELS,
                "campaigns": list_published_campaigns()}

    return render_public_page("events/index.html", load=load)


def _event_context(event, form, notice=None):
    now = utcnow()
    places_left = attendance(event).places_left(event.capacity)
    return {"event": event, "campaign": event.campaign, "form": form, "notice": notice,
            "takes_rsvps": event.takes_rsvps(now), "is_past": event.is_past(now),
            "is_cancelled": event.status == EventStatus.CANCELLED, "places_left": places_left,
            "guests_max": GUESTS_MAX}


def render_event(event, form, status, notice=None):
    """The event page with this visitor's own form (errors, typed values): never cached."""
    return render_public_page("events/show.html", status=status, cacheable=False,
                              **_event_context(event, form, notice))


@bp.get("/events/<slug>")
def show(slug):
    def load():
        return _event_context(get_visible_event_or_404(slug), RsvpForm(formdata=None))

    return render_public_page("events/show.html", load=load)


def _rsvp_rate_limit():
    return current_app.config["RSVP_RATE_LIMIT"]


@bp.post("/events/<slug>/rsvp")
@limiter.limit(_rsvp_rate_limit)
def rsvp(slug):
    event = find_event(slug)
    if event is None:
        abort(404)
    form = RsvpForm()
    if not event.takes_rsvps(utcnow()):
        return render_event(event, form, status=409, notice="closed")
    if not form.validate_on_submit():
        return render_event(event, form, status=422)
    if form.is_bot:
        # Look like success, so the bot learns nothing; store nothing.
        return redirect(url_for(".check_email", slug=slug), 303)
    details = RsvpDetails(name=form.name.data, email=form.email.data, guests=form.guests.data,
                          wants_updates=form.wants_updates.data,
                          consent_wording=form.consent_wording, locale=str(get_locale()))
    try:
        rsvp_to_event(event, details)
    except EventClosed:
        db.session.rollback()
        return render_event(get_visible_event_or_404(slug), form, status=409, notice="closed")
    db.session.commit()
    session["rsvp_email"] = details.email
    return redirect(url_for(".check_email", slug=slug), 303)


@bp.get("/events/<slug>/check-email")
def check_email(slug):
    event = get_visible_event_or_404(slug, ".check_email")
    return render_template("events/check_email.html", event=event, campaign=event.campaign,
                           email=session.get("rsvp_email"))


def rsvp_form_after_csrf_failure():
    """On an RSVP form whose security token was missing or stale: the same form, filled in
    as sent, with a fresh token and a word of explanation. On an attendee's buttons:
    their RSVP page again, to press the button once more. None for other forms."""
    args = request.view_args or {}
    if request.endpoint in TOKEN_ENDPOINTS and "token" in args:
        flash(_("For your security, the page had expired. Please press the button again."))
        return redirect(url_for(".rsvp_page", token=args["token"]), 303)
    if request.endpoint != "events.rsvp":
        return None
    event = find_event(args.get("slug", ""))
    if event is None:
        return render_error(404)
    return render_event(event, RsvpForm(formdata=request.form), status=400, notice="csrf")


# --- The attendee's own RSVP page ---------------------------------------------------------------

def _link_problem(kind, event=None, status=404):
    return render_template("events/link_problem.html", kind=kind, event=event), status


def render_rsvp_page(rsvp, token, guests_form=None, status=200):
    event = rsvp.event
    now = utcnow()
    return render_template(
        "events/rsvp.html", rsvp=rsvp, event=event, campaign=event.campaign, token=token,
        guests_form=guests_form or GuestsForm(formdata=None, guests=rsvp.guests),
        takes_rsvps=event.takes_rsvps(now), is_past=event.is_past(now),
        is_cancelled=event.status == EventStatus.CANCELLED,
        places_left=attendance(event).places_left(event.capacity), guests_max=GUESTS_MAX), status


@bp.get("/events/rsvp/<token>")
def rsvp_page(token):
    rsvp = find_rsvp_by_token(token)
    if rsvp is None:
        return _link_problem("invalid")
    if rsvp.status == RsvpStatus.PENDING:
        if confirmation_has_expired(rsvp, utcnow()):
            return _link_problem("expired", rsvp.event, status=410)
        if not rsvp.event.takes_rsvps(utcnow()):
            return _link_problem("closed", rsvp.event, status=409)
    return render_rsvp_page(rsvp, token)


@bp.post("/events/rsvp/<token>/confirm")
def rsvp_confirm(token):
    try:
        rsvp = confirm_rsvp(token)
    except RsvpTokenInvalid:
        db.session.rollback()
        return _link_problem("invalid")
    except RsvpTokenExpired as expired:
        db.session.rollback()
        return _link_problem("expired", expired.rsvp.event, status=410)
    except EventClosed:
        db.session.rollback()
        found = find_rsvp_by_token(token)
        return _link_problem("closed", found.event if found else None, status=409)
    status = rsvp.status
    db.session.commit()
    if status == RsvpStatus.CONFIRMED:
        flash(_("Your place is confirmed. See you there!"))
    elif status == RsvpStatus.WAITLISTED:
        flash(_("The event is full: you are on the waiting list. We will email you if a place "
                "frees up."))
    return redirect(url_for(".rsvp_page", token=token), 303)


@bp.post("/events/rsvp/<token>/cancel")
def rsvp_cancel(token):
    try:
        cancel_rsvp(token)
    except RsvpTokenInvalid:
        db.session.rollback()
        return _link_problem("invalid")
    db.session.commit()
    flash(_("Your RSVP is cancelled. Thank you for letting the organizers know."))
    return redirect(url_for(".rsvp_page", token=token), 303)


@bp.post("/events/rsvp/<token>/guests")
def rsvp_guests(token):
    rsvp = find_rsvp_by_token(token)
    if rsvp is None:
        return _link_problem("invalid")
    form = GuestsForm()
    if not form.validate_on_submit():
        return render_rsvp_page(rsvp, token, form, status=422)
    guests = form.guests.data
    try:
        change_guests(token, guests)
    except RsvpTokenInvalid:
        db.session.rollback()
        return _link_problem("invalid")
    except EventClosed:
        db.session.rollback()
        return _link_problem("closed", rsvp.event, status=409)
    except NotEnoughPlaces as error:
        db.session.rollback()
        left = error.places_left
        places = ngettext("Only %(num)d place is left.", "Only %(num)d places are left.", left) \
            if left else _("There are no places left.")
        most = ngettext("You can bring at most %(num)d guest.",
                        "You can bring at most %(num)d guests.", min(GUESTS_MAX, rsvp.guests + left))
        form.guests.errors.append(f"{places} {most}")
        return render_rsvp_page(find_rsvp_by_token(token), token, form, status=409)
    db.session.commit()
    flash(ngettext("Your RSVP now counts %(num)d guest.", "Your RSVP now counts %(num)d guests.",
                   guests))
    return redirect(url_for(".rsvp_page", token=token), 303)


# --- Calendars ----------------------------------------------------------------------------------

def _calendar_response(body, filename, *, public):
    response = make_response(body)
    response.mimetype = "text/calendar"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if public:
        response.headers["Cache-Control"] = f"public, max-age={CALENDAR_CACHE_SECONDS}"
    return response


@bp.get("/events/<slug>.ics")
def calendar(slug):
    event = get_visible_event_or_404(slug, ".calendar")
    return _calendar_response(calendar_for([event], now=utcnow()), event_filename(event),
                              public=True)


@bp.get("/events/rsvp/<token>/event.ics")
def rsvp_calendar(token):
    """The attendee's own copy: with the online link once they have a place."""
    rsvp = find_rsvp_by_token(token)
    if rsvp is None or rsvp.status == RsvpStatus.CANCELLED:
        return _link_problem("invalid")
    body = calendar_for([rsvp.event], include_online_url=rsvp.status == RsvpStatus.CONFIRMED,
                        now=utcnow())
    return _calendar_response(body, event_filename(rsvp.event), public=False)


@bp.get("/campaigns/<slug>/events.ics")
def campaign_calendar(slug):
    if not _SLUG.fullmatch(slug):
        abort(404)
    campaign = find_visible_campaign(slug)
    if campaign is None:
        new_slug = find_redirected_slug("campaign", slug)
        if new_slug is None:
            abort(404)
        return redirect(url_for(".campaign_calendar", slug=new_slug), 301)
    body = calendar_for(campaign_calendar_events(campaign.id), name=campaign.title, now=utcnow())
    return _calendar_response(body, f"{campaign.slug}-events.ics", public=True)


# --- The picket sign ----------------------------------------------------------------------------

@bp.get("/events/<slug>/picket-sign")
def picket_sign(slug):
    paper = request.args.get("paper", "")
    paper = paper if paper in PAPER_SIZES else PAPER_SIZES[0]
    event = get_visible_event_or_404(slug, ".picket_sign", paper=paper)
    url = picket_sign_url(event)
    qr_code = qr_code_svg(url, _("QR code: sign the petition")) if url else None
    return render_template("events/picket_sign.html", event=event, campaign=event.campaign,
                           paper=paper, papers=PAPER_SIZES, sign_url=url, qr_code=qr_code)
