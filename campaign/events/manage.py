"""Organizers' pages for events, under /organize/: writing them, their attendees, check-in."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from campaign.accounts.access import (
    managed_campaign_or_404,
    managed_event_or_404,
    managed_rsvp_or_404,
)
from campaign.accounts.audit import record
from campaign.accounts.decorators import organizer_required
from campaign.campaigns.manage import me, wants_preview
from campaign.db import utcnow
from campaign.events.manage_forms import CancelEventForm, CheckInForm, EventForm
from campaign.events.models import (
    ACTIVE_RSVP_STATUSES,
    VISIBLE_EVENT_STATUSES,
    EventStatus,
    RsvpStatus,
)
from campaign.events.rsvps import capacity_changed, list_attendees, set_checked_in
from campaign.events.services import (
    EventDetails,
    EventNotEditable,
    attendance,
    cancel_event,
    create_event,
    list_campaign_events,
    picket_sign_url,
    qr_signature_counts,
    update_event,
)
from campaign.exports.csv import stream_csv
from campaign.extensions import db
from campaign.petitions.forms import timezone_names
from campaign.text import render_markdown

bp = Blueprint("events_manage", __name__, url_prefix="/organize")

# The zone the organizer last chose, shared with the petition form.
_TIMEZONE_KEY = "organizer_timezone"
SEARCH_MAX = 200
# The attendee list's order, for its status filter.
STATUS_ORDER = (RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED, RsvpStatus.PENDING, RsvpStatus.CANCELLED)
CSV_HEADER = ("name", "email", "guests", "status", "rsvp_at", "confirmed_at", "checked_in_at",
              "wants_updates")


def _details(form):
    starts_at, ends_at = form.times()
    return EventDetails(
        title=form.title.data, slug=form.slug.data or "", kind=form.kind.data,
        description=form.description.data or "", timezone=form.timezone.data,
        starts_at=starts_at, ends_at=ends_at, venue_name=form.venue_name.data or "",
        address=form.address.data or "", city=form.city.data or "",
        online_url=form.online_url.data or "", capacity=form.capacity.data,
        accessibility=form.accessibility.data or "", contact=form.contact.data or "",
        status=form.status.data)


def _default_timezone(campaign):
    """For a new event: the zone of the campaign's latest event, else the organizer's last."""
    events = list_campaign_events(campaign)
    if events:
        return events[0].timezone
    name = session.get(_TIMEZONE_KEY)
    return name if name in timezone_names() else None


def _render_edit(form, campaign, event=None, status=200, guess_timezone=False):
    return render_template("events/manage/edit.html", form=form, campaign=campaign, event=event,
                           preview_html=render_markdown(form.description.data or ""),
                           guess_timezone=guess_timezone), status


def _is_public(event):
    return event.status in VISIBLE_EVENT_STATUSES and event.campaign.is_visible


def _told_count(event):
    """How many people an email about ``event`` goes to: those with a place or waiting for one."""
    if event.status != EventStatus.PUBLISHED or event.is_past(utcnow()):
        return 0
    figures = attendance(event)
    return figures.confirmed_rsvps + figures.waitlisted_rsvps


def _render_show(event, cancel_form=None, status=200):
    return render_template(
        "events/manage/show.html", event=event, campaign=event.campaign,
        attendance=attendance(event), qr=qr_signature_counts(event),
        sign_url=picket_sign_url(event), is_public=_is_public(event),
        told=_told_count(event),
        cancel_form=cancel_form or CancelEventForm(formdata=None)), status


@bp.route("/campaigns/<int:campaign_id>/events/new", methods=["GET", "POST"])
@organizer_required
def new_event(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = EventForm()
    guess = False
    if not form.is_submitted():
        remembered = _default_timezone(campaign)
        form.timezone.data = remembered or "UTC"
        # Without a remembered choice, the page's script may guess the browser's zone.
        guess = remembered is None
    if not form.validate_on_submit() or wants_preview():
        return _render_edit(form, campaign, status=422 if form.errors else 200, guess_timezone=guess)
    event = create_event(campaign, _details(form))
    db.session.commit()
    session[_TIMEZONE_KEY] = form.timezone.data
    flash(_("Event “%(title)s” created.", title=event.title))
    return redirect(url_for(".show_event", event_id=event.id), 303)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_event(event_id):
    event = managed_event_or_404(current_user, event_id)
    if event.status == EventStatus.CANCELLED:
        flash(_("This event is cancelled: it can no longer be changed."))
        return redirect(url_for(".show_event", event_id=event.id), 303)
    form = EventForm(obj=event)
    if not form.is_submitted():
        form.show_event_times(event)
    if not form.validate_on_submit() or wants_preview():
        return _render_edit(form, event.campaign, event, status=422 if form.errors else 200)
    old_capacity = event.capacity
    try:
        changed = update_event(event, _details(form))
    except EventNotEditable:
        # Cancelled by another organizer since the form was opened.
        db.session.rollback()
        flash(_("This event is cancelled: it can no longer be changed."))
        return redirect(url_for(".show_event", event_id=event.id), 303)
    promoted = capacity_changed(event) if event.capacity != old_capacity else []
    told = _told_count(event) if changed else 0
    db.session.commit()
    session[_TIMEZONE_KEY] = form.timezone.data
    if told:
        flash(ngettext("Event saved. Its time or place changed, so everyone with a place or on the "
                       "waiting list is being emailed about it: %(num)d message.",
                       "Event saved. Its time or place changed, so everyone with a place or on the "
                       "waiting list is being emailed about it: %(num)d messages.", told))
    elif changed:
        flash(_("Event saved. Nobody was emailed about the new time or place: the event has no "
                "attendees yet, is not published, or is over."))
    else:
        flash(_("Event saved. Its time and place did not change, so attendees were not emailed."))
    if promoted:
        flash(ngettext("%(num)d person on the waiting list got a place and is being told by email.",
                       "%(num)d people on the waiting list got a place and are being told by email.",
                       len(promoted)))
    return redirect(url_for(".show_event", event_id=event.id), 303)


@bp.get("/events/<int:event_id>")
@organizer_required
def show_event(event_id):
    return _render_show(managed_event_or_404(current_user, event_id))


@bp.post("/events/<int:event_id>/cancel")
@organizer_required
def cancel(event_id):
    event = managed_event_or_404(current_user, event_id)
    form = CancelEventForm()
    if event.status == EventStatus.CANCELLED:
        flash(_("This event was already cancelled."))
        return redirect(url_for(".show_event", event_id=event.id), 303)
    if not form.validate_on_submit():
        return _render_show(event, cancel_form=form, status=422)
    told = _told_count(event)
    cancel_event(event)
    record(me(), "event.cancel", "event", event.id, campaign_id=event.campaign_id)
    db.session.commit()
    if told:
        flash(ngettext("The event is cancelled. Everyone with a place or on the waiting list is "
                       "being told by email: %(num)d message.",
                       "The event is cancelled. Everyone with a place or on the waiting list is "
                       "being told by email: %(num)d messages.", told))
    else:
        flash(_("The event is cancelled. Nobody needed to be told: it had no attendees, was not "
                "published, or was over."))
    return redirect(url_for(".show_event", event_id=event.id), 303)


def _attendee_filters():
    query = request.args.get("q", "")[:SEARCH_MAX].strip()
    status = request.args.get("status", "")
    return query, status if status in RsvpStatus.__members__.values() else ""


def _filtered_attendees(event, query, status):
    rsvps = list_attendees(event, search=query)
    return [rsvp for rsvp in rsvps if rsvp.status == status] if status else rsvps


@bp.get("/events/<int:event_id>/attendees")
@organizer_required
def attendees(event_id):
    event = managed_event_or_404(current_user, event_id)
    query, status = _attendee_filters()
    return render_template("events/manage/attendees.html", event=event, campaign=event.campaign,
                           rsvps=_filtered_attendees(event, query, status), query=query,
                           status=status, statuses=STATUS_ORDER, attendance=attendance(event))


@bp.get("/events/<int:event_id>/attendees.csv")
@organizer_required
def attendees_csv(event_id):
    event = managed_event_or_404(current_user, event_id)
    query, status = _attendee_filters()
    # Read before the commit: the response is written after the view returns.
    rows = [(rsvp.name, rsvp.supporter.email, rsvp.guests, rsvp.status.value, rsvp.created_at,
             rsvp.confirmed_at, rsvp.checked_in_at, rsvp.wants_updates)
            for rsvp in _filtered_attendees(event, query, status)]
    # The audit log keeps no personal data: the search typed is not recorded, only that there was one.
    record(me(), "event.attendees_export", "event", event.id, campaign_id=event.campaign_id,
           reason=" ".join([f"rows={len(rows)}"] + ([f"status={status}"] if status else [])
                           + (["search"] if query else [])))
    db.session.commit()
    return Response(stream_csv(CSV_HEADER, rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{event.slug}-attendees.csv"',
        "Cache-Control": "no-store"})


@bp.get("/events/<int:event_id>/check-in")
@organizer_required
def check_in(event_id):
    event = managed_event_or_404(current_user, event_id)
    query = request.args.get("q", "")[:SEARCH_MAX].strip()
    rsvps = [rsvp for rsvp in list_attendees(event, search=query)
             if rsvp.status in ACTIVE_RSVP_STATUSES]
    return render_template("events/manage/checkin.html", event=event, campaign=event.campaign,
                           rsvps=rsvps, query=query, attendance=attendance(event))


@bp.post("/events/<int:event_id>/check-in/<int:rsvp_id>")
@organizer_required
def check_in_rsvp(event_id, rsvp_id):
    rsvp = managed_rsvp_or_404(current_user, rsvp_id)
    if rsvp.event_id != event_id:
        abort(404)
    form = CheckInForm()
    if not form.validate_on_submit():
        abort(400)
    set_checked_in(rsvp, form.checked_in.data == "1")
    db.session.commit()
    return redirect(url_for(".check_in", event_id=event_id, q=(form.q.data or "")[:SEARCH_MAX] or None,
                            _anchor=f"rsvp-{rsvp.id}"), 303)
