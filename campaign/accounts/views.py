"""Organizer accounts: log in and out, invitations, passwords, email changes."""

import contextlib
import functools
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from campaign.accounts import services
from campaign.accounts.decorators import organizer_required
from campaign.accounts.forms import (
    AcceptInvitationForm,
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmPasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)
from campaign.accounts.models import TokenPurpose
from campaign.accounts.passwords import verify_password
from campaign.accounts.sudo import mark_password_entered
from campaign.extensions import db, limiter
from campaign.security import keyed_hash

bp = Blueprint("accounts", __name__, url_prefix="/organize")

DEFAULT_RATE_LIMIT_PER_IP = "20 per minute; 100 per hour"
DEFAULT_RATE_LIMIT_PER_ACCOUNT = "5 per minute; 30 per hour"


def _rate_limit_per_ip():
    return current_app.config.get("LOGIN_RATE_LIMIT_PER_IP", DEFAULT_RATE_LIMIT_PER_IP)


def _rate_limit_per_account():
    return current_app.config.get("LOGIN_RATE_LIMIT_PER_ACCOUNT", DEFAULT_RATE_LIMIT_PER_ACCOUNT)


def _typed_account_key():
    # Keyed by the address typed, whether or not it has an account, so a 429
    # tells nothing either; normalised as the account lookup does, so no
    # spelling of one address gets a fresh allowance; hashed, so the limiter's
    # store holds no addresses.
    typed = request.form.get("email") or ""
    with contextlib.suppress(services.InvalidEmail):
        typed = services.normalize_email(typed)
    return "account:" + keyed_hash(typed.strip().lower(), "rate-limit")[:32]


def _signed_in_account_key():
    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def _limited(key_func):
    """Both limits on a form's POST: per IP address and per account."""
    def decorate(view):
        view = limiter.limit(_rate_limit_per_account, key_func=key_func, methods=["POST"])(view)
        return limiter.limit(_rate_limit_per_ip, key_func=get_remote_address, methods=["POST"])(view)
    return decorate


def private_link(view):
    """For pages whose address holds a token: never pass it on in a Referer
    header, never keep the page in a shared cache."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response
    return wrapped


def safe_next(target):
    """``target`` if it is a path on this site, else None: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _form_page(template, **context):
    return render_template(template, **context), 422 if request.method == "POST" else 200


def _link_problem(purpose, problem):
    db.session.rollback()
    return render_template("accounts/link_problem.html", purpose=str(purpose),
                           kind=problem.kind), problem.status_code


def _refused_password(form, weak, template, **context):
    db.session.rollback()
    form.password.errors.append(" ".join(weak.problems))
    return _form_page(template, form=form, **context)


def _locale():
    return str(get_locale())


def _start_session(user):
    # A fresh session: nothing set before logging in (by whoever could plant a
    # cookie) survives, and the CSRF token changes too.
    session.clear()
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@_limited(_typed_account_key)
def login():
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next"))
                            or url_for("campaigns_manage.dashboard"))
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return _form_page("accounts/login.html", form=form)
    user = services.authenticate(form.email.data, form.password.data)
    if user is None:
        return _form_page("accounts/login.html", form=form,
                          failed=_("The email address or the password is not correct."))
    db.session.commit()
    _start_session(user)
    mark_password_entered()
    return redirect(safe_next(form.next.data) or url_for("campaigns_manage.dashboard"), 303)


@bp.route("/confirm-password", methods=["GET", "POST"])
@organizer_required
@_limited(_signed_in_account_key)
def confirm_password():
    """Type the password again before a sensitive action (see ``accounts.sudo``)."""
    form = ConfirmPasswordForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if not form.validate_on_submit():
        return _form_page("accounts/confirm_password.html", form=form)
    if not verify_password(current_user.password_hash, form.password.data):
        return _form_page("accounts/confirm_password.html", form=form,
                          failed=_("This password is not correct."))
    mark_password_entered()
    return redirect(safe_next(form.next.data) or url_for("campaigns_manage.dashboard"), 303)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("campaigns.index"), 303)


@bp.route("/password/forgot", methods=["GET", "POST"])
@_limited(_typed_account_key)
def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return _form_page("accounts/forgot_password.html", form=form)
    services.request_password_reset(form.email.data, locale=_locale())
    db.session.commit()
    return render_template("accounts/forgot_password_sent.html", email=form.email.data,
                           hours=services.PASSWORD_RESET_HOURS)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@private_link
def reset_password(token):
    try:
        account_token = services.check_account_token(token, TokenPurpose.PASSWORD_RESET)
    except services.AccountTokenError as problem:
        return _link_problem(TokenPurpose.PASSWORD_RESET, problem)
    form = ResetPasswordForm(account_email=account_token.user.email)
    if not form.validate_on_submit():
        return _form_page("accounts/reset_password.html", form=form, token=token)
    try:
        services.reset_password(token, form.password.data)
    except services.AccountTokenError as problem:
        return _link_problem(TokenPurpose.PASSWORD_RESET, problem)
    except services.WeakPassword as weak:
        return _refused_password(form, weak, "accounts/reset_password.html", token=token)
    db.session.commit()
    flash(_("Your password has been changed. Please log in with it."))
    return redirect(url_for(".login"), 303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@private_link
def accept_invitation(token):
    try:
        account_token = services.check_account_token(token, TokenPurpose.INVITATION)
    except services.AccountTokenError as problem:
        return _link_problem(TokenPurpose.INVITATION, problem)
    invitee = account_token.user
    form = AcceptInvitationForm(account_email=invitee.email)
    if not form.validate_on_submit():
        return _form_page("accounts/accept_invitation.html", form=form, token=token,
                          email=invitee.email)
    try:
        services.accept_invitation(token, form.name.data, form.password.data)
    except services.AccountTokenError as problem:
        return _link_problem(TokenPurpose.INVITATION, problem)
    except services.WeakPassword as weak:
        return _refused_password(form, weak, "accounts/accept_invitation.html", token=token,
                                 email=invitee.email)
    db.session.commit()
    flash(_("Your account is ready. Please log in."))
    return redirect(url_for(".login"), 303)


def _account_page(password_form=None, email_form=None):
    return _form_page("accounts/account.html", user=current_user,
                      password_form=password_form or ChangePasswordForm(prefix="password",
                                                                        formdata=None),
                      email_form=email_form or ChangeEmailForm(prefix="email", formdata=None),
                      email_change_hours=services.EMAIL_CHANGE_HOURS)


@bp.get("/account")
@organizer_required
def account():
    return _account_page()


@bp.post("/account/password")
@organizer_required
@_limited(_signed_in_account_key)
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(prefix="password", account_email=user.email)
    if not form.validate_on_submit():
        return _account_page(password_form=form)
    try:
        services.change_password(user, form.current_password.data, form.password.data)
    except services.WrongPassword as refused:
        db.session.rollback()
        form.current_password.errors.append(refused.message)
        return _account_page(password_form=form)
    except services.WeakPassword as weak:
        db.session.rollback()
        form.password.errors.append(" ".join(weak.problems))
        return _account_page(password_form=form)
    db.session.commit()
    # Every other session has ended; this one goes on under the new version.
    _start_session(user)
    flash(_("Your password has been changed. Your other sessions have ended."))
    return redirect(url_for(".account"), 303)


@bp.post("/account/email")
@organizer_required
@_limited(_signed_in_account_key)
def change_email():
    form = ChangeEmailForm(prefix="email")
    if not form.validate_on_submit():
        return _account_page(email_form=form)
    try:
        address = services.request_email_change(current_user._get_current_object(),
                                                form.current_password.data, form.new_email.data,
                                                locale=_locale())
    except services.WrongPassword as refused:
        db.session.rollback()
        form.current_password.errors.append(refused.message)
        return _account_page(email_form=form)
    except services.AccountError as refused:
        db.session.rollback()
        form.new_email.errors.append(refused.message)
        return _account_page(email_form=form)
    db.session.commit()
    flash(_("We have sent a link to %(email)s. Your address changes when you open it.",
            email=address))
    return redirect(url_for(".account"), 303)


@bp.route("/account/email/<token>", methods=["GET", "POST"])
@private_link
def confirm_email_change(token):
    try:
        account_token = services.check_account_token(token, TokenPurpose.EMAIL_CHANGE)
    except services.AccountTokenError as problem:
        return _link_problem(TokenPurpose.EMAIL_CHANGE, problem)
    new_email = account_token.new_email
    if request.method == "GET":
        # Mail scanners open links; only the button changes anything.
        return render_template("accounts/confirm_email_change.html", token=token,
                               new_email=new_email)
    try:
        user = services.confirm_email_change(token, locale=_locale())
    except services.AccountTokenError as problem:
        return _link_problem(TokenPurpose.EMAIL_CHANGE, problem)
    except services.EmailTaken as refused:
        db.session.rollback()
        return render_template("accounts/confirm_email_change.html", token=token,
                               new_email=new_email, refused=refused.message), 409
    address = user.email
    db.session.commit()
    flash(_("Your email address is now %(email)s.", email=address))
    if current_user.is_authenticated:
        return redirect(url_for(".account"), 303)
    return redirect(url_for(".login"), 303)
