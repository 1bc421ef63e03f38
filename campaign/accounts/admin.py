"""Administrators' pages: the admin home, users and roles."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from campaign.accounts import services
from campaign.accounts.decorators import admin_required
from campaign.accounts.forms import (
    ChangeRoleForm,
    DeactivateForm,
    InviteForm,
    ReactivateForm,
    ResendInvitationForm,
)
from campaign.accounts.models import User
from campaign.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@admin_required
def index():
    return render_template("admin/index.html")


def _users_page(invite_form=None, status=200):
    return render_template("admin/users.html", users=services.list_users(),
                           invite_form=invite_form or InviteForm(formdata=None),
                           invitation_days=services.INVITATION_DAYS), status


@bp.get("/users")
@admin_required
def users():
    return _users_page()


@bp.post("/users/invite")
@admin_required
def invite():
    form = InviteForm()
    if not form.validate_on_submit():
        return _users_page(form, 422)
    try:
        user = services.invite_user(current_user, form.email.data, form.role.data,
                                    locale=str(get_locale()))
    except services.AccountError as refused:
        db.session.rollback()
        form.email.errors.append(refused.message)
        return _users_page(form, refused.status_code)
    address = user.email
    db.session.commit()
    flash(_("An invitation has been sent to %(email)s.", email=address))
    return redirect(url_for(".users"), 303)


def _user_or_404(user_id):
    return db.get_or_404(User, user_id)


def _user_page(user, status=200, **forms):
    # Prefixed: the forms share one page, and their field ids must not collide.
    forms.setdefault("role_form", ChangeRoleForm(prefix="role", formdata=None, role=user.role.value))
    forms.setdefault("deactivate_form", DeactivateForm(prefix="deactivate", formdata=None))
    forms.setdefault("reactivate_form", ReactivateForm(prefix="reactivate", formdata=None))
    forms.setdefault("resend_form", ResendInvitationForm(prefix="resend", formdata=None))
    return render_template("admin/users_show.html", user=user,
                           is_pending=not user.password_hash, **forms), status


@bp.get("/users/<int:user_id>")
@admin_required
def show_user(user_id):
    return _user_page(_user_or_404(user_id))


def _decide(user, form, form_name, decide, done_message):
    """Run one administrator's decision on ``user``: the same steps for each action."""
    if not form.validate_on_submit():
        return _user_page(user, 422, **{form_name: form})
    try:
        decide()
    except services.AccountError as refused:
        db.session.rollback()
        form.form_errors.append(refused.message)
        return _user_page(user, refused.status_code, **{form_name: form})
    db.session.commit()
    flash(done_message)
    if not current_user.is_authenticated or not current_user.is_admin:
        # An administrator who made themself an organizer has no admin pages any more.
        return redirect(url_for("campaigns_manage.dashboard"), 303)
    return redirect(url_for(".show_user", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id):
    user = _user_or_404(user_id)
    form = ChangeRoleForm(prefix="role")
    return _decide(user, form, "role_form",
                   lambda: services.change_role(current_user, user, form.role.data,
                                                reason=form.reason.data),
                   _("The role has been changed."))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id):
    user = _user_or_404(user_id)
    form = DeactivateForm(prefix="deactivate")
    return _decide(user, form, "deactivate_form",
                   lambda: services.deactivate_user(current_user, user, reason=form.reason.data),
                   _("The account has been deactivated. Its sessions have ended."))


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id):
    user = _user_or_404(user_id)
    form = ReactivateForm(prefix="reactivate")
    return _decide(user, form, "reactivate_form",
                   lambda: services.reactivate_user(current_user, user, reason=form.reason.data),
                   _("The account has been reactivated."))


@bp.post("/users/<int:user_id>/invitation")
@admin_required
def resend_invitation(user_id):
    user = _user_or_404(user_id)
    form = ResendInvitationForm(prefix="resend")
    return _decide(user, form, "resend_form",
                   lambda: services.invite_user(current_user, user.email, user.role,
                                                locale=str(get_locale())),
                   _("A new invitation link has been sent."))
