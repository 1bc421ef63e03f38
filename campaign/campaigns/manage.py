"""Organizers' pages for campaigns, under /organize/."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from campaign.accounts.access import managed_campaign_or_404
from campaign.accounts.decorators import organizer_required
from campaign.campaigns.forms import (
    CampaignForm,
    DemandActionForm,
    DemandForm,
    OrganizerForm,
    PreviewForm,
    RemoveOrganizerForm,
    StatusForm,
)
from campaign.campaigns.models import CampaignStatus
from campaign.campaigns.services import (
    STATUS_TRANSITIONS,
    AuthoringError,
    CampaignDetails,
    add_demand,
    add_organizer,
    change_campaign_status,
    create_campaign,
    edit_demand,
    find_demand,
    list_managed_campaigns,
    move_demand,
    remove_demand,
    remove_organizer,
    set_share_image,
    update_campaign,
)
from campaign.events.services import attendance, list_campaign_events
from campaign.extensions import db
from campaign.mailing.compose import audience_size
from campaign.media import ImageRejected, delete_image, save_image
from campaign.petitions.services import confirmed_counts
from campaign.text import render_markdown

manage_bp = Blueprint("campaigns_manage", __name__, url_prefix="/organize")

STATUS_LABELS = {CampaignStatus.DRAFT: _l("Draft"), CampaignStatus.PUBLISHED: _l("Published"),
                 CampaignStatus.ARCHIVED: _l("Archived")}
STATUS_ACTION_LABELS = {CampaignStatus.PUBLISHED: _l("Publish"), CampaignStatus.ARCHIVED: _l("Archive"),
                        CampaignStatus.DRAFT: _l("Return to draft")}


def me():
    """The signed-in account itself (not its proxy), for services that store it."""
    return current_user._get_current_object()


def wants_preview():
    return "preview" in request.form


def flash_form_errors(form):
    for errors in form.errors.values():
        for error in errors:
            flash(str(error))


def _details(form):
    return CampaignDetails(title=form.title.data, slug=form.slug.data or "",
                           summary=form.summary.data or "", body=form.body.data or "")


def _uploaded_image(form):
    data = form.share_image.data
    return data if isinstance(data, FileStorage) and data.filename else None


def _render_edit(form, campaign=None, status=200):
    context = {"form": form, "campaign": campaign, "status_labels": STATUS_LABELS,
               "preview_html": render_markdown(form.body.data or "")}
    if campaign is not None:
        petitions = list(campaign.petitions)
        events = list_campaign_events(campaign)
        context.update(
            events=events, event_attendance={event.id: attendance(event) for event in events},
            demands=list(campaign.demands), demand_form=DemandForm(formdata=None),
            petitions=petitions, counts=confirmed_counts(p.id for p in petitions),
            subscriber_count=audience_size(campaign.id),
            status_actions=[(s, STATUS_ACTION_LABELS[s]) for s in CampaignStatus
                            if s in STATUS_TRANSITIONS[campaign.status]])
    return render_template("campaigns/manage/edit.html", **context), status


def _save_campaign_form(form, campaign=None):
    """Store the upload, then the campaign; returns the campaign, or None if the image was refused."""
    image = _uploaded_image(form)
    try:
        image_name = save_image(image.stream) if image else None
    except ImageRejected as error:
        form.share_image.errors = [str(error.message)]
        return None
    if campaign is None:
        campaign = create_campaign(_details(form), creator=me())
    else:
        update_campaign(campaign, _details(form))
    replaced = None
    if image_name or form.remove_share_image.data:
        replaced = set_share_image(campaign, image_name or "")
    db.session.commit()
    delete_image(replaced)
    return campaign


@manage_bp.get("/")
@organizer_required
def dashboard():
    campaigns = list_managed_campaigns(current_user)
    counts = confirmed_counts(p.id for c in campaigns for p in c.petitions)
    return render_template("campaigns/manage/dashboard.html", campaigns=campaigns, counts=counts,
                           status_labels=STATUS_LABELS)


@manage_bp.route("/campaigns/new", methods=["GET", "POST"])
@organizer_required
def new_campaign():
    form = CampaignForm()
    if not form.validate_on_submit() or wants_preview():
        return _render_edit(form, status=422 if form.errors else 200)
    campaign = _save_campaign_form(form)
    if campaign is None:
        return _render_edit(form, status=422)
    flash(_("Campaign created as a draft. Add its demands and petitions, then publish it."))
    return redirect(url_for(".edit_campaign", campaign_id=campaign.id), 303)


@manage_bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_campaign(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = CampaignForm(obj=campaign)
    if not form.validate_on_submit() or wants_preview():
        return _render_edit(form, campaign, status=422 if form.errors else 200)
    old_slug = campaign.slug
    if _save_campaign_form(form, campaign) is None:
        return _render_edit(form, campaign, status=422)
    flash(_("Campaign saved."))
    if campaign.slug != old_slug:
        flash(_("Its address is now %(path)s; links to the old one lead there.",
                path=url_for("campaigns.show", slug=campaign.slug)))
    return redirect(url_for(".edit_campaign", campaign_id=campaign.id), 303)


@manage_bp.post("/campaigns/<int:campaign_id>/status")
@organizer_required
def change_status(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = StatusForm()
    try:
        if form.validate_on_submit() and change_campaign_status(campaign, form.status.data, actor=me()):
            db.session.commit()
            flash(_("The campaign is now: %(status)s.", status=STATUS_LABELS[campaign.status]))
    except AuthoringError as error:
        db.session.rollback()
        flash(str(error.message))
    return redirect(url_for(".edit_campaign", campaign_id=campaign_id), 303)


@manage_bp.post("/campaigns/<int:campaign_id>/demands")
@organizer_required
def new_demand(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = DemandForm()
    if form.validate_on_submit():
        add_demand(campaign, form.text.data)
        db.session.commit()
        flash(_("Demand added."))
    else:
        flash_form_errors(form)
    return redirect(url_for(".edit_campaign", campaign_id=campaign_id, _anchor="demands"), 303)


@manage_bp.post("/campaigns/<int:campaign_id>/demands/<int:demand_id>")
@organizer_required
def change_demand(campaign_id, demand_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    demand = find_demand(campaign, demand_id)
    if demand is None:
        abort(404)
    form = DemandActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    elif form.action.data == "save":
        edit_demand(demand, form.text.data)
        flash(_("Demand saved."))
    elif form.action.data == "remove":
        remove_demand(demand)
        flash(_("Demand removed."))
    elif move_demand(demand, -1 if form.action.data == "up" else 1):
        flash(_("Demand moved."))
    db.session.commit()
    return redirect(url_for(".edit_campaign", campaign_id=campaign_id, _anchor="demands"), 303)


@manage_bp.route("/campaigns/<int:campaign_id>/organizers", methods=["GET", "POST"])
@organizer_required
def organizers(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = OrganizerForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = add_organizer(campaign, form.email.data, actor=me())
        except AuthoringError as error:
            db.session.rollback()
            form.email.errors = [str(error.message)]
            status = 422
        else:
            db.session.commit()
            flash(_("%(email)s now organizes this campaign.", email=user.email))
            return redirect(url_for(".organizers", campaign_id=campaign_id), 303)
    elif form.errors:
        status = 422
    return render_template("campaigns/manage/organizers.html", campaign=campaign, form=form,
                           organizers=list(campaign.organizers)), status


@manage_bp.post("/campaigns/<int:campaign_id>/organizers/remove")
@organizer_required
def remove_organizer_view(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = RemoveOrganizerForm()
    back = redirect(url_for(".organizers", campaign_id=campaign_id), 303)
    if not form.validate_on_submit():
        return back
    try:
        user = remove_organizer(campaign, form.user_id.data, actor=me())
    except AuthoringError as error:
        db.session.rollback()
        flash(str(error.message))
        return back
    db.session.commit()
    if user.id == current_user.id and not current_user.is_admin:
        flash(_("You no longer organize “%(title)s”.", title=campaign.title))
        return redirect(url_for(".dashboard"), 303)
    flash(_("%(email)s no longer organizes this campaign.", email=user.email))
    return back


@manage_bp.post("/preview")
@organizer_required
def preview():
    """The sanitised HTML of some Markdown, for the live preview beside a text box."""
    form = PreviewForm()
    if not form.validate_on_submit():
        return {"errors": form.errors}, 422
    return {"html": str(render_markdown(form.text.data or ""))}
