"""Organizer accounts: log in and out, invitations, passwords, email changes."""

from flask import Blueprint, render_template
from flask_login import current_user, logout_user

from campaign.accounts.decorators import organizer_required

bp = Blueprint("accounts", __name__, url_prefix="/organize")


@bp.route("/login", methods=["GET", "POST"])
def login():
    return render_template("accounts/login.html")


@bp.post("/logout")
def logout():
    from flask import redirect, url_for

    logout_user()
    return redirect(url_for("campaigns.index"), 303)


@bp.get("/account")
@organizer_required
def account():
    return render_template("accounts/account.html", user=current_user)
