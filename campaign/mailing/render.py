"""A mailing's message, made once per mailing and language, then filled in per recipient.

Merge fields are written ``{{ first_name }}`` or, with a fallback for people whose
name is not known, ``{{ first_name or "friend" }}``. They are found in the
organizer's text before anything else reads it and replaced by inert markers;
each recipient's values then replace the markers, escaped for HTML in the HTML
part. Nothing a supporter typed is ever read as a template: a name like
``{{ config }}`` is printed as it is.
"""

import base64
import dataclasses
import functools
import re
import secrets
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup, escape

from campaign.db import utcnow
from campaign.links import public_url
from campaign.mailing.unsubscribe import unsubscribe_token, unsubscribe_url
from campaign.text import render_markdown

MERGE_FIELDS = ("first_name", "last_name")
_MERGE = re.compile(r"\{\{\s*(?P<field>[a-z_]+)\s*(?:or\s*\"(?P<fallback>[^\"{}]{0,100})\"\s*)?\}\}")
# What stands for a merge field or the unsubscribe link until a recipient's values come:
# letters and digits only, so Markdown and the HTML sanitiser leave it alone.
_MARKER = "PLACARDMERGE{}X"
_UNSUBSCRIBE_MARKER = "PLACARDUNSUBSCRIBEX"


@dataclasses.dataclass(frozen=True)
class MergeField:
    marker: str
    field: str
    fallback: str


@dataclasses.dataclass(frozen=True)
class MessageTemplate:
    """A mailing ready to be addressed: its parts with markers in place of merge fields."""

    subject: str
    text: str
    html: str
    fields: tuple[MergeField, ...]


def unknown_merge_fields(*texts):
    """Names in ``{{ … }}`` that are not merge fields, for the compose form to point out."""
    return sorted({match["field"] for text in texts for match in _MERGE.finditer(text or "")
                   if match["field"] not in MERGE_FIELDS})


_BRACES = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def unreadable_braces(*texts):
    """Text in double braces that is no merge-field expression at all (``{{ Name }}``,
    ``{{ first_name | upper }}``): it would go out as typed, so the compose form refuses it."""
    return [chunk for text in texts for chunk in _BRACES.findall(text or "")
            if not _MERGE.fullmatch(chunk)]


def _mark(text, fields):
    def replace(match):
        if match["field"] not in MERGE_FIELDS:
            return match.group(0)
        field = MergeField(_MARKER.format(len(fields)), match["field"], match["fallback"] or "")
        fields.append(field)
        return field.marker
    return _MERGE.sub(replace, text or "")


def build_template(mailing, locale):
    """The mailing's subject and bodies in ``locale``, with markers for each recipient's values.
    ``mailing`` is a :class:`MailingSnapshot`."""
    fields = []
    subject = _mark(mailing.subject, fields)
    body = _mark(mailing.body, fields)
    config = current_app.config
    context = {
        "campaign_title": mailing.campaign_title,
        "campaign_url": public_url("campaigns.show", slug=mailing.campaign_slug),
        "organisation_name": config["ORGANISATION_NAME"],
        "organisation_address": config["ORGANISATION_ADDRESS"],
        "unsubscribe_url": _UNSUBSCRIBE_MARKER,
    }
    with force_locale(locale):
        text = render_template("emails/mailing/body.txt", body_text=body, **context)
        html = render_template("emails/mailing/body.html", subject=subject,
                               body_html=render_markdown(body), **context)
    return MessageTemplate(subject=subject, text=text, html=html, fields=tuple(fields))


@dataclasses.dataclass(frozen=True)
class Recipient:
    delivery_id: int
    subscription_id: int
    email: str
    first_name: str
    last_name: str
    locale: str


def _fill(text, template, recipient, *, html, link=""):
    """``text`` with the recipient's values (and unsubscribe ``link``) in place of the markers."""
    for field in template.fields:
        value = getattr(recipient, field.field) or field.fallback
        text = text.replace(field.marker, str(escape(value)) if html else value)
    return text.replace(_UNSUBSCRIBE_MARKER, str(escape(link)) if html else link)


@functools.cache
def _sender_domain(mail_from):
    return parseaddr(mail_from)[1].rpartition("@")[2] or "placard.localhost"


def message_id(mailing_id, delivery_id, mail_from):
    """Fixed per delivery: a message sent twice would be recognisably the same one."""
    return f"<mailing-{mailing_id}-{delivery_id}@{_sender_domain(mail_from)}>"


@dataclasses.dataclass(frozen=True)
class MailingSnapshot:
    """What sending needs of a mailing, read once: a batch commits after every message,
    and reading an ORM object after a commit would reload it from the database."""

    id: int
    subject: str
    body: str
    reply_to: str
    sender_name: str
    campaign_title: str
    campaign_slug: str

    @classmethod
    def of(cls, mailing):
        return cls(id=mailing.id, subject=mailing.subject, body=mailing.body,
                   reply_to=mailing.reply_to, sender_name=mailing.sender_name,
                   campaign_title=mailing.campaign.title, campaign_slug=mailing.campaign.slug)


def _header(name, value):
    """One header line, RFC 2047-encoded when it is not plain ASCII (names in any script)."""
    if value.isascii() and "\n" not in value and "\r" not in value:
        return f"{name}: {value}\r\n".encode()
    return f"{name}: ".encode() + Header(value, "utf-8", header_name=name).encode(
        linesep="\r\n").encode() + b"\r\n"


def _address_header(name, display_name, address):
    return (f"{name}: ".encode() + formataddr((display_name, address), charset="utf-8").encode()
            + b"\r\n")


def _part(content_type, text):
    encoded = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
    return (f"Content-Type: {content_type}; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + encoded


class MessageWriter:
    """Writes one mailing's messages as bytes ready for SMTP (CRLF, 7-bit).

    The email package builds and serialises a message in about a millisecond; a
    mailing's messages differ only in a few headers and the merge fields, so the
    parts that do not change are encoded once and the rest is written directly.
    """

    def __init__(self, mailing, *, now=None):
        config = current_app.config
        self.mailing = mailing
        self.mail_from = config["MAIL_FROM"]
        name, self.sender = parseaddr(self.mail_from)
        host = urlsplit(config["PUBLIC_URL"]).hostname or "placard.localhost"
        mailto = config.get("UNSUBSCRIBE_MAILTO", "")
        self.mailto_prefix = f"mailto:{mailto}?subject=unsubscribe-" if mailto else ""
        self.unsubscribe_prefix = unsubscribe_url(0).rsplit("/", 1)[0] + "/"
        fixed = [_address_header("From", mailing.sender_name or name, self.sender)]
        if mailing.reply_to:
            fixed.append(_header("Reply-To", mailing.reply_to))
        fixed += [
            _header("Date", format_datetime(now or utcnow())),
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            _header("List-Id", f"{mailing.campaign_title[:60]} <{mailing.campaign_slug}.{host}>"),
            b"Precedence: bulk\r\n",
            f"X-Placard-Mailing: {mailing.id}\r\n".encode(),
            b"MIME-Version: 1.0\r\n",
        ]
        self.fixed_headers = b"".join(fixed)
        self.templates = {}

    def template(self, locale):
        template = self.templates.get(locale)
        if template is None:
            template = self.templates[locale] = build_template(self.mailing, locale)
        return template

    def write(self, recipient):
        template = self.template(recipient.locale)
        token = unsubscribe_token(recipient.subscription_id)
        link = self.unsubscribe_prefix + token
        links = f"<{link}>"
        if self.mailto_prefix:
            links += f", <{self.mailto_prefix}{token}>"
        boundary = f"=-placard-{secrets.token_hex(12)}"
        return b"".join((
            self.fixed_headers,
            _header("To", recipient.email),
            _header("Subject", _fill(template.subject, template, recipient, html=False)),
            _header("Message-ID", message_id(self.mailing.id, recipient.delivery_id, self.mail_from)),
            _header("List-Unsubscribe", links),
            f"X-Placard-Delivery: {recipient.delivery_id}\r\n".encode(),
            f"Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n".encode(),
            f"--{boundary}\r\n".encode(),
            _part("text/plain", _fill(template.text, template, recipient, html=False, link=link)),
            f"--{boundary}\r\n".encode(),
            _part("text/html", _fill(template.html, template, recipient, html=True, link=link)),
            f"--{boundary}--\r\n".encode(),
        ))


def preview(mailing, locale, recipient):
    """What ``recipient`` would read: ``(subject, text, html)``, for the compose page."""
    template = build_template(MailingSnapshot.of(mailing), locale)
    link = unsubscribe_url(recipient.subscription_id)
    return (_fill(template.subject, template, recipient, html=False),
            _fill(template.text, template, recipient, html=False, link=link),
            Markup(_fill(template.html, template, recipient, html=True, link=link)))  # noqa: S704
