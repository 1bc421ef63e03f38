"""Organizers import paper signatures; paper signers confirm they want updates."""

from flask import Blueprint, Response, flash, render_template, request
from flask_babel import get_locale, ngettext
from flask_login import current_user
from sqlalchemy import select

from campaign.accounts.access import managed_petition_or_404
from campaign.accounts.decorators import organizer_required
from campaign.events.models import Event
from campaign.extensions import db
from campaign.signatures.paper import (
    COLUMNS,
    ConsentLinkInvalid,
    FileUnreadable,
    confirm_paper_consent,
    find_consent_signature,
    import_paper_signatures,
    template_csv,
)
from campaign.signatures.paper_forms import PaperImportForm

bp = Blueprint("paper", __name__)


def _form(petition):
    events = db.session.execute(
        select(Event.id, Event.title).where(Event.campaign_id == petition.campaign_id)
        .order_by(Event.starts_at.desc())).all()
    return PaperImportForm(event_choices=[(event.id, event.title) for event in events])


def _page(petition, form, *, report=None, file_error=None, status=200):
    return render_template("signatures/manage/paper_import.html", petition=petition,
                           campaign=petition.campaign, form=form, report=report,
                           file_error=file_error, columns=COLUMNS), status


@bp.get("/organize/petitions/<int:petition_id>/paper")
@organizer_required
def paper_import(petition_id):
    petition = managed_petition_or_404(current_user, petition_id)
    return _page(petition, _form(petition))


@bp.get("/organize/petitions/<int:petition_id>/paper/template.csv")
@organizer_required
def paper_template(petition_id):
    managed_petition_or_404(current_user, petition_id)
    return Response(template_csv(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=paper-signatures-template.csv"})


@bp.post("/organize/petitions/<int:petition_id>/paper")
@organizer_required
def paper_import_post(petition_id):
    petition = managed_petition_or_404(current_user, petition_id)
    form = _form(petition)
    if not form.validate_on_submit():
        return _page(petition, form, status=422)
    try:
        report = import_paper_signatures(petition, form.file.data.read(), label=form.where,
                                         actor=current_user, locale=str(get_locale()))
    except FileUnreadable as error:
        db.session.rollback()
        return _page(petition, form, file_error=error.message, status=422)
    if report.blocked:
        db.session.rollback()
        return _page(petition, form, report=report, status=422)
    db.session.commit()
    flash(ngettext("Imported %(num)d signature.", "Imported %(num)d signatures.",
                   report.imported) + " "
          + ngettext("Skipped %(num)d duplicate.", "Skipped %(num)d duplicates.",
                     len(report.skipped)))
    return _page(petition, _form(petition), report=report)


@bp.get("/paper/consent/<token>")
def consent(token):
    signature = find_consent_signature(token)
    if signature is None:
        return render_template("signatures/paper_consent.html", signature=None), 404
    return render_template("signatures/paper_consent.html", signature=signature,
                           petition=signature.petition, campaign=signature.petition.campaign,
                           token=token)


@bp.post("/paper/consent/<token>")
def consent_post(token):
    try:
        signature = confirm_paper_consent(token)
    except ConsentLinkInvalid:
        db.session.rollback()
        return render_template("signatures/paper_consent.html", signature=None), 404
    page = render_template("signatures/paper_consent.html", signature=signature, done=True,
                           petition=signature.petition, campaign=signature.petition.campaign)
    db.session.commit()
    return page


@bp.after_request
def keep_tokens_private(response):
    if request.endpoint in {"paper.consent", "paper.consent_post"}:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response
