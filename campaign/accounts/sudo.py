"""Recent-password checks ("sudo mode") for the most sensitive actions, such as exports.

The session remembers when its user last typed their password (at log-in or on
the confirm-password page); a sensitive page asks for it again once that is
older than ``EXPORT_FRESH_MINUTES``.
"""

import time

from flask import current_app, redirect, request, session, url_for

SESSION_KEY = "password_at"


def mark_password_entered():
    session[SESSION_KEY] = int(time.time())


def password_is_fresh():
    entered = session.get(SESSION_KEY)
    if not isinstance(entered, int | float):
        return False
    age = time.time() - entered
    # A time in the future is a forged or broken session, not a fresh one.
    return -60 <= age <= current_app.config["EXPORT_FRESH_MINUTES"] * 60


def confirm_password_redirect():
    """To the confirm-password page, coming back to this very address afterwards."""
    return redirect(url_for("accounts.confirm_password", next=request.full_path.rstrip("?")))
