"""Guards for private views. Unknown or hidden objects are 404s, see ``access``."""

import functools

from flask import abort, redirect, request, url_for
from flask_login import current_user


def organizer_required(view):
    """Any signed-in, active account: organizers and administrators."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return guarded


def admin_required(view):
    """Administrators only. Others get a 404: the admin pages do not exist for them."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)
    return guarded
