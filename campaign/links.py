"""Absolute links for emails, calendars and QR codes: built on PUBLIC_URL, the address
the public reaches the site at, whether or not a request is being served (a worker
building a reminder has none)."""

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint, **values):
    base = urlsplit(current_app.config["PUBLIC_URL"].rstrip("/"))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
