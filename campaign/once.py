"""Forms that must not make their thing twice when the browser sends them again.

The page that answers "make a token" (or a webhook) shows its secret once, so it
cannot redirect to a plain GET without keeping the secret somewhere; a reload, or
Back then Forward, offers to send the form again. Each such form carries a key
drawn when it is shown and spent when it makes its thing: a form sent a second
time finds its key spent and makes nothing. The keys live in the signed session,
a few per purpose so that the form can be open in several tabs.
"""

import secrets

from flask import session

KEYS_KEPT = 5


def _session_key(purpose):
    return f"form-keys:{purpose}"


def draw_form_key(purpose):
    """A fresh key for one form of ``purpose``, remembered in the session."""
    key = secrets.token_urlsafe(16)
    kept = session.get(_session_key(purpose), [])[-(KEYS_KEPT - 1):]
    session[_session_key(purpose)] = [*kept, key]
    return key


def give_form_key(form, purpose):
    """Draw a key for a form shown afresh; a form sent back keeps its own. The form carries
    it in a ``form_key`` HiddenField (rendered by ``form.hidden_tag()``)."""
    if form.form_key.raw_data is None:  # not read from a sent form
        form.form_key.data = draw_form_key(purpose)
    return form


def spend_form_key(purpose, key):
    """True the first time ``key`` is spent; False if it was spent already or never drawn."""
    kept = list(session.get(_session_key(purpose), []))
    if not key or key not in kept:
        return False
    kept.remove(key)
    session[_session_key(purpose)] = kept
    return True
