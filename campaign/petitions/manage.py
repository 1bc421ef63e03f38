"""Organizers' pages for petitions, under /organize/."""

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    session,
    stream_template,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from campaign.accounts.access import managed_campaign_or_404, managed_petition_or_404
from campaign.accounts.decorators import organizer_required
from campaign.accounts.sudo import confirm_password_redirect, password_is_fresh
from campaign.campaigns.manage import wants_preview
from campaign.exports.audit import record_export
from campaign.exports.delivery_pack import COLUMNS as DELIVERY_PACK_COLUMNS
from campaign.exports.delivery_pack import buffered
from campaign.exports.delivery_pack import delivery_pack as build_delivery_pack
from campaign.extensions import db
from campaign.petitions.authoring import PetitionDetails, create_petition, list_versions, update_petition
from campaign.petitions.forms import PetitionForm, timezone_names
from campaign.petitions.services import confirmed_counts
from campaign.text import render_markdown

manage_bp = Blueprint("petitions_manage", __name__, url_prefix="/organize")

# The deadline is shown in the time zone the organizer last chose.
_TIMEZONE_KEY = "organizer_timezone"


def _remembered_timezone():
    name = session.get(_TIMEZONE_KEY)
    return name if name in timezone_names() else None


def _details(form):
    return PetitionDetails(
        title=form.title.data, slug=form.slug.data or "", target=form.target.data,
        body=form.body.data or "", goal=form.goal.data, deadline_at=form.deadline_at,
        required_fields=tuple(form.required_fields.data or ()),
        consent_wording=form.consent_wording.data or "",
        signers_choose_demands=form.signers_choose_demands.data, status=form.status.data)


def _render(form, campaign, petition=None, status=200):
    context = {"form": form, "campaign": campaign, "petition": petition,
               "preview_html": render_markdown(form.body.data or ""),
               # Without a remembered choice, the page's script may guess the browser's zone.
               "guess_timezone": petition is None and _remembered_timezone() is None}
    if petition is not None:
        context.update(versions=list_versions(petition),
                       count=confirmed_counts([petition.id])[petition.id])
    return render_template("petitions/manage/edit.html", **context), status


@manage_bp.route("/campaigns/<int:campaign_id>/petitions/new", methods=["GET", "POST"])
@organizer_required
def new_petition(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    form = PetitionForm()
    if not form.is_submitted():
        form.timezone.data = _remembered_timezone() or "UTC"
    if not form.validate_on_submit() or wants_preview():
        return _render(form, campaign, status=422 if form.errors else 200)
    petition = create_petition(campaign, _details(form))
    db.session.commit()
    session[_TIMEZONE_KEY] = form.timezone.data
    flash(_("Petition “%(title)s” created.", title=petition.title))
    return redirect(url_for("campaigns_manage.edit_campaign", campaign_id=campaign.id,
                            _anchor="petitions"), 303)


@manage_bp.route("/petitions/<int:petition_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_petition(petition_id):
    petition = managed_petition_or_404(current_user, petition_id)
    form = PetitionForm(obj=petition)
    if not form.is_submitted():
        form.show_deadline(petition.deadline_at, _remembered_timezone() or "UTC")
    if not form.validate_on_submit() or wants_preview():
        return _render(form, petition.campaign, petition, status=422 if form.errors else 200)
    if update_petition(petition, _details(form)):
        flash(_("Petition saved. People who signed before keep the wording they saw; "
                "the earlier version is listed below."))
    else:
        flash(_("Petition saved."))
    db.session.commit()
    session[_TIMEZONE_KEY] = form.timezone.data
    return redirect(url_for(".edit_petition", petition_id=petition.id), 303)


@manage_bp.get("/petitions/<int:petition_id>/delivery-pack")
@organizer_required
def delivery_pack(petition_id):
    petition = managed_petition_or_404(current_user, petition_id)
    if not password_is_fresh():
        return confirm_password_redirect()
    pack = build_delivery_pack(petition, locale=get_locale())
    record_export(current_user, kind="delivery_pack", fmt="html", campaign_id=petition.campaign_id,
                  petition_id=petition.id, filters={}, rows=pack.listed,
                  columns=DELIVERY_PACK_COLUMNS)
    db.session.commit()
    # The list is streamed: the template reads the signers batch by batch as it renders.
    page = stream_template("petitions/manage/delivery_pack.html", pack=pack, petition=petition,
                           campaign=petition.campaign)
    return Response(buffered(page), mimetype="text/html", headers={"Cache-Control": "no-store"})
