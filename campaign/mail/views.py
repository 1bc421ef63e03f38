"""The developer's mailbox (embedded mode only): every email Placard "sent", as files."""

import email
import re
from email import policy
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from markupsafe import Markup, escape

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")

_URL = re.compile(r"https?://[^\s<>\"']+")


@bp.before_request
def embedded_only():
    if current_app.config["PLACARD_MODE"] != "embedded" or \
            current_app.config["MAIL_TRANSPORT"] != "outbox":
        abort(404)


def _messages():
    folder = Path(current_app.config["OUTBOX_DIR"])
    files = sorted(folder.glob("*.eml"), reverse=True) if folder.is_dir() else []
    return files


def _read(path):
    with open(path, "rb") as file:
        return email.message_from_binary_file(file, policy=policy.default)


def _linkify(text):
    escaped = str(escape(text))
    linked = _URL.sub(lambda match: f'<a href="{match.group(0)}">{match.group(0)}</a>', escaped)
    return Markup(linked)  # noqa: S704 - escaped first; the URLs matched contain no quote or <


@bp.get("/")
def index():
    messages = []
    for path in _messages()[:200]:
        message = _read(path)
        messages.append({"id": path.stem, "to": message["To"], "subject": message["Subject"],
                         "date": message["Date"]})
    return render_template("devmail/index.html", messages=messages)


@bp.get("/<message_id>")
def show(message_id):
    if not message_id.isdigit():
        abort(404)
    path = Path(current_app.config["OUTBOX_DIR"]) / f"{message_id}.eml"
    if not path.is_file():
        abort(404)
    message = _read(path)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return render_template("devmail/show.html", message=message, message_id=message_id,
                           text=_linkify(text.get_content() if text else ""),
                           has_html=html is not None)


@bp.get("/<message_id>/html")
def show_html(message_id):
    if not message_id.isdigit():
        abort(404)
    path = Path(current_app.config["OUTBOX_DIR"]) / f"{message_id}.eml"
    if not path.is_file():
        abort(404)
    html = _read(path).get_body(("html",))
    if html is None:
        abort(404)
    response = current_app.response_class(html.get_content(), mimetype="text/html")
    # Shown as the recipient would see it, but unable to run anything here.
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'")
    return response
