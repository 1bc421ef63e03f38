"""Organizers' pages for writing to a campaign's supporters, under /organize/."""

import math
from email.utils import parseaddr

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_number, format_percent, get_locale, ngettext, pgettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from campaign.accounts.access import managed_campaign_or_404, managed_mailing_or_404
from campaign.accounts.audit import record
from campaign.accounts.decorators import organizer_required
from campaign.campaigns.manage import me
from campaign.events.display import event_when_short
from campaign.events.services import list_campaign_events
from campaign.extensions import db
from campaign.i18n import country_choices
from campaign.mailing.audience import Audience
from campaign.mailing.compose import (
    EDITABLE_STATUSES,
    MailingDetails,
    MailingStateError,
    audience_size,
    cancel_mailing,
    create_mailing,
    list_campaign_mailings,
    schedule_mailing,
    scheduled_local_time,
    send_mailing_now,
    send_test,
    unschedule_mailing,
    update_mailing,
)
from campaign.mailing.manage_forms import (
    MERGE_EXAMPLE,
    AudienceForm,
    CancelMailingForm,
    MailingForm,
    ScheduleForm,
    SendForm,
    merge_field_names,
)
from campaign.mailing.models import Mailing, MailingStatus
from campaign.mailing.render import Recipient, preview
from campaign.mailing.sending import mailing_progress, pause_mailing, resume_mailing
from campaign.petitions.forms import timezone_names
from campaign.text import render_markdown

bp = Blueprint("mailing_manage", __name__, url_prefix="/organize")

# The zone the organizer last chose, shared with the petition and event forms.
_TIMEZONE_KEY = "organizer_timezone"


def status_labels():
    """Each status as the organizer reads it (pgettext: "Draft" of a mailing, not of a campaign)."""
    return {
        MailingStatus.DRAFT: pgettext("mailing status", "Draft"),
        MailingStatus.SCHEDULED: pgettext("mailing status", "Scheduled"),
        MailingStatus.SENDING: pgettext("mailing status", "Sending"),
        MailingStatus.PAUSED: pgettext("mailing status", "Paused"),
        MailingStatus.SENT: pgettext("mailing status", "Sent"),
        MailingStatus.CANCELLED: pgettext("mailing status", "Cancelled"),
    }


# Statuses with deliveries, whose page shows the progress of the send.
STARTED_STATUSES = (MailingStatus.SENDING, MailingStatus.PAUSED, MailingStatus.SENT)
# The preview is the email as a subscriber gets it, inline styles included, shown in a
# frame: it runs no script, submits no form and reads nothing from our origin.
PREVIEW_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
               "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


def _locale():
    return str(get_locale())


def _choices(campaign):
    return {"petitions": list(campaign.petitions), "events": list_campaign_events(campaign),
            "locale": _locale()}


def _details(form):
    return MailingDetails(subject=form.subject.data, body=form.body.data, audience=form.audience(),
                          reply_to=form.reply_to.data or "", sender_name=form.sender_name.data or "")


def _lock(mailing):
    # Re-read the row under a lock (FOR UPDATE on PostgreSQL; SQLite's write transaction
    # already excludes other writers), so that two clicks on "Send now" take turns and
    # the second finds the mailing already sending.
    db.session.execute(select(Mailing).where(Mailing.id == mailing.id).with_for_update()
                       .execution_options(populate_existing=True))


def _sample_recipient():
    """The organizer, as the subscriber a preview or a test is addressed to."""
    first_name, _space, last_name = (current_user.name or "").partition(" ")
    return Recipient(delivery_id=0, subscription_id=0, email=current_user.email,
                     first_name=first_name, last_name=last_name, locale=_locale())


def audience_label(count):
    return ngettext("This audience holds %(number)s person right now.",
                    "This audience holds %(number)s people right now.", count, number=format_number(count))


def describe_audience(campaign, audience):
    """The audience in words, one phrase per narrowing (none: everyone on the list)."""
    phrases = []
    if audience.petition_id:
        petition = next((p for p in campaign.petitions if p.id == audience.petition_id), None)
        phrases.append(_("who signed “%(title)s”", title=petition.title if petition else "?"))
    if audience.event_id:
        event = next((e for e in list_campaign_events(campaign) if e.id == audience.event_id), None)
        phrases.append(_("who are coming to “%(title)s” or waiting for a place",
                         title=event.title if event else "?"))
    if audience.country:
        phrases.append(_("who live in %(country)s",
                         country=dict(country_choices(_locale())).get(audience.country, audience.country)))
    if audience.postal_prefix:
        phrases.append(_("whose postal code starts with “%(prefix)s”", prefix=audience.postal_prefix))
    return phrases


def time_left_label(mailing, progress):
    if mailing.status == MailingStatus.SENT:
        return _("Finished.")
    if mailing.status == MailingStatus.PAUSED:
        return _("Paused: nothing more is sent until you resume.")
    if progress.seconds_left is None:
        return _("Working out how long it will take…")
    if progress.seconds_left < 60:
        return _("Less than a minute left.")
    minutes = math.ceil(progress.seconds_left / 60)
    return ngettext("About %(number)s minute left.", "About %(number)s minutes left.", minutes,
                    number=format_number(minutes))


def _progress_fields(mailing):
    """The progress of a send: the figures, and the same as the page shows them (``labels``)."""
    progress = mailing_progress(mailing)
    waiting = progress.queued + progress.sending
    fields = {
        "status": mailing.status.value, "total": progress.total, "queued": progress.queued,
        "sending": progress.sending, "waiting": waiting, "sent": progress.sent,
        "failed": progress.failed, "skipped": progress.skipped, "done": progress.done,
        "percent": progress.percent, "per_minute": progress.per_minute,
        "seconds_left": progress.seconds_left,
    }
    rate = round(progress.per_minute)
    fields["labels"] = {
        **{name: format_number(fields[name]) for name in ("total", "waiting", "sent", "failed", "skipped")},
        "status_label": status_labels()[mailing.status],
        "percent_label": format_percent(progress.percent / 100),
        "rate_label": ngettext("%(number)s message sent in the last minute.",
                               "%(number)s messages sent in the last minute.", rate,
                               number=format_number(rate)),
        "time_left": time_left_label(mailing, progress),
    }
    return fields


def _sender_defaults():
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    return {"default_sender": name or current_app.config["ORGANISATION_NAME"], "default_address": address}


def _remembered_timezone():
    name = session.get(_TIMEZONE_KEY)
    return name if name in timezone_names() else None


def _render_compose(form, campaign, mailing=None, status=200):
    count = audience_size(campaign.id, form.audience()) if not _audience_errors(form) else None
    context = {"form": form, "campaign": campaign, "mailing": mailing,
               "preview_html": render_markdown(form.body.data or ""),
               "audience_count": count, "audience_label": audience_label(count) if count is not None else "",
               "merge_fields": merge_field_names(), "merge_example": MERGE_EXAMPLE,
               "show_text": request.args.get("show") == "text", "status_labels": status_labels(),
               **_sender_defaults()}
    if mailing is not None:
        context.update(_preview_context(mailing))
    return render_template("mailing/manage/edit.html", **context), status


def _audience_errors(form):
    return any(field.errors for field in (form.petition_id, form.event_id, form.country, form.postal_prefix))


def _preview_context(mailing):
    subject, text, _html = preview(mailing, _locale(), _sample_recipient())
    return {"preview_subject": subject, "preview_text": text}


def _render_show(mailing, *, send_form=None, schedule_form=None, cancel_form=None, status=200):
    campaign = mailing.campaign
    audience = Audience.from_dict(mailing.audience)
    context = {"mailing": mailing, "campaign": campaign, "status_labels": status_labels(),
               "audience_phrases": describe_audience(campaign, audience),
               "editable": mailing.status in EDITABLE_STATUSES,
               "scheduled_at": scheduled_local_time(mailing), **_sender_defaults()}
    context.update(_preview_context(mailing))
    if mailing.status in EDITABLE_STATUSES:
        if schedule_form is None:
            schedule_form = ScheduleForm(formdata=None)
            if mailing.scheduled_at is not None:
                schedule_form.show_time(mailing.scheduled_at, mailing.scheduled_timezone)
            else:
                schedule_form.timezone.data = _remembered_timezone() or "UTC"
        count = audience_size(mailing)
        context.update(
            audience_count=count, audience_label=audience_label(count),
            send_form=send_form or SendForm(formdata=None), schedule_form=schedule_form,
            cancel_form=cancel_form or CancelMailingForm(formdata=None),
            guess_timezone=mailing.scheduled_at is None and _remembered_timezone() is None)
    if mailing.status in STARTED_STATUSES:
        context["progress"] = _progress_fields(mailing)
    return render_template("mailing/manage/show.html", **context), status


def _back(mailing):
    return redirect(url_for(".show_mailing", mailing_id=mailing.id), 303)


def _refused(mailing):
    """A state error: the mailing moved on (another organizer, another tab, the scheduler)."""
    db.session.rollback()
    flash(_("That is not possible any more: this mailing is now “%(status)s”.",
            status=status_labels()[db.session.get(Mailing, mailing.id).status]))
    return _back(mailing)


def _after_save(mailing, count):
    action = request.form.get("action", "save")
    if mailing.status == MailingStatus.SCHEDULED:
        flash(ngettext("Saved. It is still scheduled; this audience holds %(number)s person right now.",
                       "Saved. It is still scheduled; this audience holds %(number)s people right now.",
                       count, number=format_number(count)))
    else:
        flash(ngettext("Draft saved. This audience holds %(number)s person right now.",
                       "Draft saved. This audience holds %(number)s people right now.",
                       count, number=format_number(count)))
    if action == "preview":
        return redirect(url_for(".edit_mailing", mailing_id=mailing.id, _anchor="preview"), 303)
    if action == "text":
        return redirect(url_for(".edit_mailing", mailing_id=mailing.id, show="text",
                                _anchor="text-version"), 303)
    return _back(mailing)


@bp.get("/campaigns/<int:campaign_id>/mailings")
@organizer_required
def mailings(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    listed = list_campaign_mailings(campaign)
    progress = {m.id: mailing_progress(m) for m in listed if m.status in STARTED_STATUSES}
    return render_template("mailing/manage/index.html", campaign=campaign, mailings=listed,
                           progress=progress, status_labels=status_labels(),
                           subscribers=audience_size(campaign.id))


@bp.route("/campaigns/<int:campaign_id>/mailings/new", methods=["GET", "POST"])
@organizer_required
def new_mailing(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = MailingForm(**_choices(campaign))
    if not form.is_submitted():
        form.sender_name.data = current_user.name
    if not form.validate_on_submit():
        return _render_compose(form, campaign, status=422 if form.errors else 200)
    mailing = create_mailing(campaign, _details(form), author=me())
    count = audience_size(mailing)
    db.session.commit()
    return _after_save(mailing, count)


@bp.get("/campaigns/<int:campaign_id>/mailings/audience-count")
@organizer_required
def audience_count(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = AudienceForm(formdata=request.args, meta={"csrf": False}, **_choices(campaign))
    if not form.validate():
        response = jsonify(errors={name: [str(error) for error in errors]
                                   for name, errors in form.errors.items()})
        return response, 422, {"Cache-Control": "no-store"}
    count = audience_size(campaign.id, form.audience())
    return jsonify(count=count, label=audience_label(count)), 200, {"Cache-Control": "no-store"}


@bp.route("/mailings/<int:mailing_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_mailing(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    if mailing.status not in EDITABLE_STATUSES:
        flash(_("This mailing can no longer be changed: it is “%(status)s”.",
                status=status_labels()[mailing.status]))
        return _back(mailing)
    form = MailingForm(obj=mailing, **_choices(mailing.campaign))
    if not form.is_submitted():
        form.show_audience(Audience.from_dict(mailing.audience))
    if not form.validate_on_submit():
        return _render_compose(form, mailing.campaign, mailing, status=422 if form.errors else 200)
    _lock(mailing)
    try:
        update_mailing(mailing, _details(form))
    except MailingStateError:
        return _refused(mailing)
    count = audience_size(mailing)
    db.session.commit()
    return _after_save(mailing, count)


@bp.get("/mailings/<int:mailing_id>")
@organizer_required
def show_mailing(mailing_id):
    return _render_show(managed_mailing_or_404(current_user, mailing_id))


@bp.get("/mailings/<int:mailing_id>/preview.html")
@organizer_required
def preview_html(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    _subject, _text, html = preview(mailing, _locale(), _sample_recipient())
    response = make_response(str(html))
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/mailings/<int:mailing_id>/progress.json")
@organizer_required
def progress(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    return jsonify(_progress_fields(mailing)), 200, {"Cache-Control": "no-store"}


@bp.post("/mailings/<int:mailing_id>/test")
@organizer_required
def send_test_email(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    if mailing.status not in EDITABLE_STATUSES:
        return _refused(mailing)
    recipient = _sample_recipient()
    send_test(mailing, to_address=recipient.email, first_name=recipient.first_name,
              last_name=recipient.last_name, locale=recipient.locale)
    record(me(), "mailing.test", "mailing", mailing.id, campaign_id=mailing.campaign_id)
    db.session.commit()
    flash(_("A test is on its way to %(email)s, marked [Test].", email=recipient.email))
    return _back(mailing)


@bp.post("/mailings/<int:mailing_id>/send")
@organizer_required
def send_now(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    if mailing.status not in EDITABLE_STATUSES:
        return _refused(mailing)
    form = SendForm()
    if not form.validate_on_submit():
        return _render_show(mailing, send_form=form, status=422)
    _lock(mailing)
    if audience_size(mailing) == 0:
        flash(_("Nothing was sent: this audience holds nobody right now."))
        return _back(mailing)
    try:
        count = send_mailing_now(mailing)
    except MailingStateError:
        return _refused(mailing)
    record(me(), "mailing.send", "mailing", mailing.id, campaign_id=mailing.campaign_id,
           reason=f"recipients={count}")
    db.session.commit()
    flash(ngettext("Sending has started: %(number)s message.", "Sending has started: %(number)s messages.",
                   count, number=format_number(count)))
    return _back(mailing)


@bp.post("/mailings/<int:mailing_id>/schedule")
@organizer_required
def schedule(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    if mailing.status not in EDITABLE_STATUSES:
        return _refused(mailing)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _render_show(mailing, schedule_form=form, status=422)
    _lock(mailing)
    try:
        schedule_mailing(mailing, form.send_at(), form.timezone.data)
    except MailingStateError:
        if db.session.get(Mailing, mailing.id).status in EDITABLE_STATUSES:
            # Not the status: the time passed while the form was being sent.
            db.session.rollback()
            flash(_("This time has passed: please choose a time in the future."))
            return _back(mailing)
        return _refused(mailing)
    record(me(), "mailing.schedule", "mailing", mailing.id, campaign_id=mailing.campaign_id,
           reason=f"{mailing.scheduled_at.isoformat()} {mailing.scheduled_timezone}")
    db.session.commit()
    session[_TIMEZONE_KEY] = form.timezone.data
    flash(_("Scheduled. It will be sent on %(when)s, to the people the audience holds then.",
            when=_when(mailing)))
    return _back(mailing)


def _when(mailing):
    zone = mailing.scheduled_timezone
    return f"{event_when_short(mailing.scheduled_at, zone)} {zone}"


def _simple_action(mailing, action, service, message):
    _lock(mailing)
    try:
        service(mailing)
    except MailingStateError:
        return _refused(mailing)
    record(me(), action, "mailing", mailing.id, campaign_id=mailing.campaign_id)
    db.session.commit()
    flash(message)
    return _back(mailing)


@bp.post("/mailings/<int:mailing_id>/unschedule")
@organizer_required
def unschedule(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    return _simple_action(mailing, "mailing.unschedule", unschedule_mailing,
                          _("It is no longer scheduled: it is a draft again."))


@bp.post("/mailings/<int:mailing_id>/pause")
@organizer_required
def pause(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    return _simple_action(mailing, "mailing.pause", pause_mailing,
                          _("Paused. The messages already on their way finish; no others are sent "
                            "until you resume."))


@bp.post("/mailings/<int:mailing_id>/resume")
@organizer_required
def resume(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    return _simple_action(mailing, "mailing.resume", resume_mailing,
                          _("Sending again, from where it stopped."))


@bp.post("/mailings/<int:mailing_id>/cancel")
@organizer_required
def cancel(mailing_id):
    mailing = managed_mailing_or_404(current_user, mailing_id)
    if mailing.status not in EDITABLE_STATUSES:
        return _refused(mailing)
    form = CancelMailingForm()
    if not form.validate_on_submit():
        return _render_show(mailing, cancel_form=form, status=422)
    return _simple_action(mailing, "mailing.cancel", cancel_mailing,
                          _("The mailing is cancelled. It stays listed, and is never sent."))
