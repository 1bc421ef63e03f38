"""Render an email from ``templates/emails/<name>/{subject.txt,body.txt,body.html}``."""

from flask import render_template
from flask_babel import force_locale


def render_email(name, locale, **context):
    """Return ``(subject, text, html)`` in the recipient's language."""
    with force_locale(locale):
        subject = render_template(f"emails/{name}/subject.txt", **context)
        text = render_template(f"emails/{name}/body.txt", **context)
        html = render_template(f"emails/{name}/body.html", **context)
    # A subject is one line whatever the template's whitespace.
    return " ".join(subject.split()), text, html
