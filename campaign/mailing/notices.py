"""Bounce and complaint notices, as the webhook and ``flask mailing notices`` take them::

    {"notices": [{"type": "bounce", "email": "a@example.org", "bounce": "hard",
                  "detail": "550 5.1.1 no such user"},
                 {"type": "complaint", "email": "b@example.org"}]}

A batch is checked whole before anything is applied, so a wrong one changes nothing.
"""

import dataclasses
import json

from campaign.mailing.unsubscribe import record_bounce, record_complaint

MAX_NOTICES = 1000
MAX_EMAIL_LENGTH = 320
MAX_DETAIL_LENGTH = 1000
_FIELDS = {"bounce": {"type", "email", "bounce", "detail"},
           "complaint": {"type", "email", "detail"}}


class NoticeError(ValueError):
    """The batch is not in the expected shape; the message says where and why."""


@dataclasses.dataclass(frozen=True)
class Notice:
    type: str           # "bounce" or "complaint"
    email: str
    hard: bool = False  # bounces only
    detail: str = ""


def parse_notices_json(text, limit=MAX_NOTICES):
    """The notices in a JSON document (str or bytes). Raises :class:`NoticeError`."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8 too; RecursionError is very deep nesting.
        raise NoticeError("the body is not valid JSON") from None
    return parse_notices(payload, limit)


def parse_notices(payload, limit=MAX_NOTICES):
    """The notices in an already decoded batch; ``limit`` None takes any number.
    Raises :class:`NoticeError`."""
    if not isinstance(payload, dict):
        raise NoticeError('expected a JSON object: {"notices": [...]}')
    if set(payload) != {"notices"}:
        unknown = sorted(set(payload) - {"notices"})
        raise NoticeError(f"unknown field {unknown[0]!r}" if unknown else 'missing "notices"')
    items = payload["notices"]
    if not isinstance(items, list):
        raise NoticeError('"notices" must be a list')
    if limit is not None and len(items) > limit:
        raise NoticeError(f"at most {limit} notices per batch; send the rest in another")
    return [_parse_notice(item, f"notices[{index}]") for index, item in enumerate(items)]


def _parse_notice(item, where):
    if not isinstance(item, dict):
        raise NoticeError(f"{where} must be an object")
    kind = item.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise NoticeError(f'{where}.type must be "bounce" or "complaint"')
    unknown = sorted(set(item) - _FIELDS[kind])
    if unknown:
        raise NoticeError(f"{where} has an unknown field {unknown[0]!r} for a {kind}")
    email = item.get("email")
    if (not isinstance(email, str) or not 3 <= len(email) <= MAX_EMAIL_LENGTH
            or "@" not in email or any(c.isspace() or not c.isprintable() for c in email)):
        raise NoticeError(f"{where}.email must be an email address")
    detail = item.get("detail", "")
    if not isinstance(detail, str) or len(detail) > MAX_DETAIL_LENGTH:
        raise NoticeError(f"{where}.detail must be a string of at most {MAX_DETAIL_LENGTH} "
                          "characters")
    hard = False
    if kind == "bounce":
        if item.get("bounce") not in ("hard", "soft"):
            raise NoticeError(f'{where}.bounce must be "hard" or "soft"')
        hard = item["bounce"] == "hard"
    return Notice(type=kind, email=email, hard=hard, detail=detail)


def apply_notice(notice, now=None):
    """Record one notice; returns the address's Suppression. Flushes; the caller commits."""
    if notice.type == "complaint":
        return record_complaint(notice.email, notice.detail, now=now)
    return record_bounce(notice.email, hard=notice.hard, detail=notice.detail, now=now)


def apply_notices(notices, now=None):
    """Record every notice, in order, in the caller's transaction; returns the
    Suppression after each one. Flushes; the caller commits (or rolls back all)."""
    return [apply_notice(notice, now) for notice in notices]
