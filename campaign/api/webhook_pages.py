"""Organizers' webhooks pages, under /organize/: a campaign's endpoints, one endpoint's
deliveries, and the buttons to add, test, turn back on, rotate the secret and delete."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired

from campaign.accounts.access import managed_campaign_or_404
from campaign.accounts.decorators import organizer_required
from campaign.accounts.sudo import confirm_password_redirect, password_is_fresh
from campaign.api import webhooks
from campaign.api.models import WEBHOOK_URL_MAX, WebhookDeliveryStatus
from campaign.campaigns.forms import keep_under
from campaign.extensions import db
from campaign.once import draw_form_key, give_form_key, spend_form_key

bp = Blueprint("webhooks_manage", __name__, url_prefix="/organize")


class WebhookForm(FlaskForm):
    url = StringField(_l("Address (URL)"), filters=[lambda value: (value or "").strip()],
                      validators=[DataRequired(_l("Please give the address to send to.")),
                                  keep_under(WEBHOOK_URL_MAX)])
    form_key = HiddenField()


FORM_PURPOSE = "webhook"


def _webhook_form(**kwargs):
    return give_form_key(WebhookForm(**kwargs), FORM_PURPOSE)


def me():
    return current_user._get_current_object()


def refusal_message(problem):
    """Why an address was refused, in the organizer's language."""
    messages = {
        "length": _("The address is too long."),
        "invalid": _("This is not a valid address."),
        "scheme": _("The address must start with https://."),
        "credentials": _("The address must not contain a user name or password: check the "
                         "signature header instead."),
        "host": _("The address has no host name."),
        "fragment": _("The address must not contain a # part."),
        "unresolved": _("The host name could not be found. Check the address."),
        "private": _("This address leads to a private or reserved network, which Placard "
                     "does not send to."),
    }
    return messages.get(problem.reason, _("This address cannot be used."))


def delivery_status_labels():
    return {
        WebhookDeliveryStatus.PENDING: pgettext("webhook delivery", "Waiting"),
        WebhookDeliveryStatus.SUCCEEDED: pgettext("webhook delivery", "Delivered"),
        WebhookDeliveryStatus.FAILED: pgettext("webhook delivery", "Failed"),
        WebhookDeliveryStatus.DISCARDED: pgettext("webhook delivery", "Discarded"),
    }


def kind_labels():
    return {"signature": _("Signature"), "attendance": _("Attendance"),
            webhooks.TEST_KIND: _("Test")}


def _no_store(response):
    # The page may hold a secret shown once: no copy of it in any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _endpoints_page(campaign, form, *, status=200, new_endpoint=None, new_secret=None):
    return _no_store(make_response(render_template(
        "api/manage/webhooks.html", campaign=campaign, form=form,
        endpoints=webhooks.list_campaign_endpoints(campaign),
        new_endpoint=new_endpoint, new_secret=new_secret), status))


def _endpoint_page(endpoint, *, new_secret=None):
    return _no_store(make_response(render_template(
        "api/manage/webhook.html", endpoint=endpoint, campaign=endpoint.campaign,
        deliveries=webhooks.list_recent_deliveries(endpoint), new_secret=new_secret,
        status_labels=delivery_status_labels(), kind_labels=kind_labels())))


def managed_endpoint_or_404(endpoint_id):
    endpoint = webhooks.find_managed_endpoint(current_user, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _back(endpoint):
    return redirect(url_for(".show_webhook", endpoint_id=endpoint.id), 303)


@bp.get("/campaigns/<int:campaign_id>/webhooks")
@organizer_required
def webhooks_list(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    return _endpoints_page(campaign, _webhook_form(formdata=None))


@bp.post("/campaigns/<int:campaign_id>/webhooks")
@organizer_required
def add_webhook(campaign_id):
    campaign = managed_campaign_or_404(current_user, campaign_id)
    # Supporters' names and addresses will leave for this URL: as for an export, the
    # organizer types their password again if it has been a while.
    if not password_is_fresh():
        return confirm_password_redirect()
    form = _webhook_form()
    if not form.validate_on_submit():
        return _endpoints_page(campaign, form, status=422)
    if not spend_form_key(FORM_PURPOSE, form.form_key.data):
        flash(_("This form had already been sent, so the webhook was not added a second time. "
                "Its secret is shown only once: if you did not copy it, make a new one on the "
                "webhook's page."))
        return _endpoints_page(campaign, _webhook_form(formdata=None), status=409)
    try:
        endpoint, secret = webhooks.register_endpoint(campaign, form.url.data, actor=me())
    except webhooks.WebhookUrlRefused as problem:
        db.session.rollback()
        form.url.errors = [*form.url.errors, refusal_message(problem)]
        form.form_key.data = draw_form_key(FORM_PURPOSE)  # nothing was made: it may be sent again
        return _endpoints_page(campaign, form, status=422)
    db.session.commit()
    return _endpoints_page(campaign, _webhook_form(formdata=None), new_endpoint=endpoint,
                           new_secret=secret)


@bp.get("/webhooks/<int:endpoint_id>")
@organizer_required
def show_webhook(endpoint_id):
    return _endpoint_page(managed_endpoint_or_404(endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/enable")
@organizer_required
def enable_webhook(endpoint_id):
    endpoint = managed_endpoint_or_404(endpoint_id)
    webhooks.enable_endpoint(endpoint, actor=me())
    db.session.commit()
    flash(_("The webhook is on: new signatures and attendances are sent to it again."))
    return _back(endpoint)


@bp.post("/webhooks/<int:endpoint_id>/test")
@organizer_required
def test_webhook(endpoint_id):
    endpoint = managed_endpoint_or_404(endpoint_id)
    webhooks.send_test_delivery(endpoint)
    db.session.commit()
    flash(_("A test notice is on its way. Reload this page to see how it went."))
    return _back(endpoint)


@bp.post("/webhooks/<int:endpoint_id>/rotate-secret")
@organizer_required
def rotate_webhook_secret(endpoint_id):
    endpoint = managed_endpoint_or_404(endpoint_id)
    if not password_is_fresh():
        return confirm_password_redirect()
    secret = webhooks.rotate_secret(endpoint, actor=me())
    db.session.commit()
    return _endpoint_page(endpoint, new_secret=secret)


@bp.post("/webhooks/<int:endpoint_id>/delete")
@organizer_required
def delete_webhook(endpoint_id):
    endpoint = managed_endpoint_or_404(endpoint_id)
    # The button sends this; a request without it is not one the page made.
    if request.form.get("confirm") != "yes":
        abort(400)
    campaign_id = endpoint.campaign_id
    webhooks.delete_endpoint(endpoint, actor=me())
    db.session.commit()
    flash(_("The webhook is deleted."))
    return redirect(url_for(".webhooks_list", campaign_id=campaign_id), 303)
