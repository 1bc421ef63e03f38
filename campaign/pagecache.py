"""Public pages rendered once every few seconds per process, not once per view.

A campaign page under load is the same for every visitor in a language,
except for the form's security token: pages are rendered with a placeholder
where the token goes, kept for ``PAGE_CACHE_SECONDS``, and each response gets
its visitor's own token substituted in. Counts on cached pages are therefore
up to that many seconds old; the thank-you page, which a signer sees right
after confirming, is never cached.
"""

import threading
import time
from collections import OrderedDict

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

CSRF_PLACEHOLDER = "__placard_csrf_token__"
MAX_ENTRIES = 256


class PageCache:
    def __init__(self):
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, now):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= now:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key, html, expires_at):
        with self._lock:
            self._entries[key] = (expires_at, html)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()


def _cache(app):
    return app.extensions.setdefault("placard_page_cache", PageCache())


def render_public_page(template, *, status=200, cacheable=True, load=None, **context):
    """Render ``template`` (with ``load()``'s context, if given) or reuse a recent rendering.

    ``load`` is only called when the page must be rendered, so a cached view
    runs no query. Returns ``(html, status)`` with the visitor's CSRF token in place.
    """
    app = current_app._get_current_object()
    seconds = app.config["PAGE_CACHE_SECONDS"]
    key = (request.full_path, str(get_locale()))
    now = time.monotonic()
    html = _cache(app).get(key, now) if cacheable and seconds > 0 else None
    if html is None:
        if load is not None:
            context.update(load())
        html = render_template(template, csrf_placeholder=CSRF_PLACEHOLDER, **context)
        if cacheable and seconds > 0:
            _cache(app).put(key, html, now + seconds)
    return html.replace(CSRF_PLACEHOLDER, generate_csrf()), status
