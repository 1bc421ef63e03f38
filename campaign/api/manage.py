"""Organizers' API tokens page, under /organize/: list, make (the secret is shown once), revoke."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.accounts.decorators import organizer_required
from campaign.accounts.sudo import confirm_password_redirect, password_is_fresh
from campaign.api import tokens as api_tokens
from campaign.api.models import TOKEN_NAME_MAX
from campaign.campaigns.forms import keep_under, no_control_characters
from campaign.campaigns.services import list_managed_campaigns
from campaign.extensions import db
from campaign.once import draw_form_key, give_form_key, spend_form_key
from campaign.text import clean_line

bp = Blueprint("api_manage", __name__, url_prefix="/organize")

SCOPE_ALL = "all"
SCOPE_SOME = "some"
FORM_PURPOSE = "api-token"


class CampaignCheckboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), filters=[clean_line], validators=[
        DataRequired(_l("Please give the token a name, such as the tool that will use it.")),
        keep_under(TOKEN_NAME_MAX), no_control_characters()])
    # Whether the choices are the organizer's is the service's call, with its own message.
    scope = RadioField(_l("Campaigns"), default=SCOPE_ALL, validate_choice=False, choices=[
        SelectChoice(SCOPE_ALL, _l("All my campaigns, including those I organize later")),
        SelectChoice(SCOPE_SOME, _l("Only the campaigns ticked below"))])
    campaigns = CampaignCheckboxes(_l("Campaigns this token may use"), validate_choice=False)
    form_key = HiddenField()


def me():
    return current_user._get_current_object()


def _token_form(**kwargs):
    form = give_form_key(TokenForm(**kwargs), FORM_PURPOSE)
    form.campaigns.choices = [SelectChoice(str(campaign.id), campaign.title)
                              for campaign in list_managed_campaigns(me())]
    return form


def _as_id(value):
    try:
        return int(value)
    except ValueError:
        return value  # refused by the service, like any id that is not the organizer's


def _campaign_ids(form):
    if form.scope.data == SCOPE_ALL:
        return None
    if form.scope.data != SCOPE_SOME:
        raise api_tokens.TokenScopeInvalid()
    return [_as_id(value) for value in form.campaigns.data or []]


def _tokens_page(form, *, status=200, new_token=None, new_secret=None):
    user = me()
    response = make_response(render_template(
        "api/manage/tokens.html", form=form, tokens=api_tokens.list_tokens(user),
        all_tokens=api_tokens.list_all_tokens() if user.is_admin else None,
        new_token=new_token, new_secret=new_secret), status)
    # The page may hold a secret shown once: no copy of it in any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api-tokens")
@organizer_required
def tokens():
    return _tokens_page(_token_form(formdata=None))


@bp.post("/api-tokens")
@organizer_required
def create_token():
    if not password_is_fresh():
        return confirm_password_redirect()
    form = _token_form()
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    if not spend_form_key(FORM_PURPOSE, form.form_key.data):
        flash(_("This form had already been sent, so no second token was made. A token's "
                "secret is shown only once: if you did not copy it, revoke that token and make "
                "a new one."))
        return _tokens_page(_token_form(formdata=None), status=409)
    try:
        token, secret = api_tokens.create_token(me(), form.name.data, _campaign_ids(form))
    except api_tokens.ApiTokenError as problem:
        db.session.rollback()
        field = form.campaigns if isinstance(problem, api_tokens.TokenScopeInvalid) else form.name
        field.errors = [*field.errors, problem.message]
        form.form_key.data = draw_form_key(FORM_PURPOSE)  # nothing was made: it may be sent again
        return _tokens_page(form, status=problem.status_code)
    db.session.commit()
    return _tokens_page(_token_form(formdata=None), new_token=token, new_secret=secret)


@bp.post("/api-tokens/<int:token_id>/revoke")
@organizer_required
def revoke_token(token_id):
    token = api_tokens.find_token_for(me(), token_id)
    if token is None:
        abort(404)
    if token.is_revoked:
        flash(_("The token “%(name)s” was already revoked.", name=token.name))
    else:
        api_tokens.revoke_token(token, actor=me())
        db.session.commit()
        flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name))
    return redirect(url_for(".tokens"), 303)
