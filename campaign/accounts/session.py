"""Flask-Login wiring: a session names the account and its session version.

Bumping ``User.session_version`` (deactivation, password change or reset)
makes every session opened before it unknown, so they end at their next request.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaign.accounts.models import User
from campaign.extensions import db, login_manager


@login_manager.user_loader
def load_user(session_id):
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.scalars(select(User).where(User.id == int(user_id))).one_or_none()
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def init_login(app):
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "basic"
