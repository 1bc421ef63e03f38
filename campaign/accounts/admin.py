"""Administrators' pages: users and roles."""

from flask import Blueprint, render_template

from campaign.accounts.decorators import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@admin_required
def index():
    return render_template("admin/index.html")
