"""Public petition pages and the sign action."""

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from markupsafe import escape

from campaign.campaigns.services import find_redirected_slug
from campaign.extensions import db, limiter
from campaign.pagecache import render_public_page
from campaign.petitions.services import (
    campaign_demand_counts,
    confirmed_counts,
    displayed_goal,
    find_signable_petition,
    find_visible_petition,
)
from campaign.signatures.forms import SignForm, SignFormWithDemands, referrer_host
from campaign.signatures.services import PetitionClosed, SignerDetails, sign_petition

bp = Blueprint("petitions", __name__)

# The sign link's parameters that a fresh form carries into the signature.
TRACKING_PARAMETERS = ("source", "utm_source", "utm_medium", "utm_campaign")
# Where the referrer's host goes in a cached page; the braces make it no host
# name, so a page that missed the substitution can never record it.
REFERRER_PLACEHOLDER = "{placard:referrer-host}"


def get_visible_petition_or_404(slug):
    petition = find_visible_petition(slug)
    if petition is None:
        abort(404)
    return petition


def sign_form_for(petition, **kwargs):
    """The sign form of one petition (a Petition or its SignablePetition snapshot); its
    prefix keeps field ids unique on a page with several.

    Without ``formdata`` it reads the request's form, as Flask-WTF does. With
    ``formdata=None`` (a page's fresh form) it carries the sign link's tracking
    parameters, and the referrer placeholder that :func:`render_sign_page` fills in.
    """
    fresh = "formdata" in kwargs and kwargs["formdata"] is None
    if fresh:
        for name in TRACKING_PARAMETERS:
            kwargs.setdefault(name, request.args.get(name, ""))
    if petition.signers_choose_demands and petition.campaign.demands:
        kwargs["demand_choices"] = [(demand.id, demand.text) for demand in petition.campaign.demands]
        form_class = SignFormWithDemands
    else:
        form_class = SignForm
    form = form_class(prefix=f"p{petition.id}", required_fields=petition.required_fields,
                      consent_wording=petition.consent_wording, **kwargs)
    if fresh:
        form.ref.data = REFERRER_PLACEHOLDER
    return form


def render_sign_page(template, **kwargs):
    """:func:`render_public_page` for a page with sign forms: the cached page holds a
    placeholder where each visitor's referrer host goes, like the CSRF token, so
    one visitor's referrer never reaches another's page."""
    html, status = render_public_page(template, **kwargs)
    host = str(escape(referrer_host(request.headers.get("Referer"))))
    return html.replace(REFERRER_PLACEHOLDER, host), status


def _petition_context(petition, form, notice=None):
    count = confirmed_counts([petition.id])[petition.id]
    return {"petition": petition, "campaign": petition.campaign, "form": form, "count": count,
            "notice": notice, "goal": displayed_goal(count, petition.goal),
            "demand_counts": campaign_demand_counts(petition.campaign)}


def render_petition(petition, form, status, notice=None):
    """The petition page with this visitor's own form (errors, typed values): never cached."""
    return render_public_page("petitions/show.html", status=status, cacheable=False,
                              **_petition_context(petition, form, notice))


def _sign_rate_limit():
    return current_app.config["SIGN_RATE_LIMIT"]


@bp.get("/petitions/<slug>")
def show(slug):
    def load():
        petition = find_visible_petition(slug)
        if petition is None:
            # A renamed petition's old address answers with its new one.
            new_slug = find_redirected_slug("petition", slug)
            if new_slug is None:
                abort(404)
            abort(redirect(url_for(".show", slug=new_slug, **request.args), 301))
        return _petition_context(petition, sign_form_for(petition, formdata=None))

    return render_sign_page("petitions/show.html", load=load)


@bp.post("/petitions/<slug>/sign")
@limiter.limit(_sign_rate_limit)
def sign(slug):
    petition = find_signable_petition(slug)
    if petition is None:
        abort(404)
    form = sign_form_for(petition)
    if not form.validate_on_submit():
        return render_petition(get_visible_petition_or_404(slug), form, status=422)
    if form.is_bot:
        # Look like success, so the bot learns nothing; store nothing.
        return redirect(url_for(".check_email", slug=slug), 303)
    details = SignerDetails(
        first_name=form.first_name.data, last_name=form.last_name.data, email=form.email.data,
        postal_code=form.postal_code.data or "", country=form.country.data,
        comment=form.comment.data or "", wants_updates=form.wants_updates.data,
        consent_wording=str(form.wants_updates.label.text) if form.wants_updates.data else "",
        source=form.source.data or "web", utm_source=form.utm_source.data,
        utm_medium=form.utm_medium.data, utm_campaign=form.utm_campaign.data,
        referrer_host=form.ref.data, locale=str(get_locale()), ip_address=request.remote_addr,
        demand_ids=tuple(form.demands.data) if form.demands is not None else ())
    try:
        sign_petition(petition, details)
    except PetitionClosed:
        db.session.rollback()
        return render_petition(get_visible_petition_or_404(slug), form, status=409)
    db.session.commit()
    session["signed_email"] = details.email
    return redirect(url_for(".check_email", slug=slug), 303)


@bp.get("/petitions/<slug>/check-email")
def check_email(slug):
    petition = get_visible_petition_or_404(slug)
    return render_template("signatures/check_email.html", petition=petition,
                           campaign=petition.campaign, email=session.get("signed_email"))


@bp.get("/petitions/<slug>/thanks")
def thanks(slug):
    petition = get_visible_petition_or_404(slug)
    count = confirmed_counts([petition.id])[petition.id]
    return render_template("signatures/thanks.html", petition=petition, campaign=petition.campaign,
                           count=count, goal=displayed_goal(count, petition.goal),
                           first_name=session.pop("confirmed_first_name", None),
                           share_url=url_for(".show", slug=slug, _external=True))


def sign_form_after_csrf_failure():
    """On a sign form whose security token was missing or stale: the same form, filled in
    as sent, with a fresh token and a word of explanation."""
    slug = (request.view_args or {}).get("slug")
    petition = find_visible_petition(slug) if slug else None
    if petition is None:
        return None
    form = sign_form_for(petition, formdata=request.form)
    return render_petition(petition, form, status=400, notice="csrf")
