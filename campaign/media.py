"""Images organizers upload (a campaign's share image): checked by their first bytes,
stored under a random name in ``instance/media/``, served back at ``/media/<name>``.

The name a browser sent and the type it claimed are never trusted: the file's
own first bytes decide its type, and the stored name is ours.
"""

import os
import re
import secrets
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory
from flask_babel import lazy_gettext as _l

from campaign.errors import DomainError

MAX_IMAGE_BYTES = 2 * 1024 * 1024

# Extension → media type, for what we store and serve.
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")

bp = Blueprint("media", __name__)


class ImageRejected(DomainError):
    status_code = 422
    message = _l("Please choose a PNG, JPEG or WebP image.")


class ImageTooLarge(ImageRejected):
    status_code = 413
    message = _l("This image is larger than 2 MB. Please choose a smaller one.")


def sniff_image_type(head):
    """``"png"``, ``"jpg"`` or ``"webp"`` from a file's first 12 bytes, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def media_folder():
    return Path(current_app.instance_path) / "media"


def save_image(stream):
    """Store the image read from ``stream`` and return its new name.

    Raises ImageTooLarge past ``MAX_IMAGE_BYTES`` and ImageRejected for anything
    that is not a PNG, JPEG or WebP file. Not part of the database transaction:
    if the caller's commit fails, the file stays behind unused.
    """
    data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge()
    extension = sniff_image_type(data[:12])
    if extension is None:
        raise ImageRejected()
    folder = media_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    # Written under a temporary name, then renamed: a reader never sees half a file.
    partial = folder / f".{name}.partial"
    partial.write_bytes(data)
    os.replace(partial, folder / name)
    return name


def delete_image(name):
    """Remove a stored image; harmless if it is already gone or the name is not ours."""
    if name and _STORED_NAME.match(name):
        (media_folder() / name).unlink(missing_ok=True)


@bp.get("/media/<name>")
def show(name):
    if not _STORED_NAME.match(name):
        abort(404)
    # Names are random and never reused, so a copy may be kept for long.
    response = send_from_directory(media_folder(), name, mimetype=IMAGE_TYPES[name.rsplit(".", 1)[1]],
                                   max_age=365 * 24 * 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, an image needs nothing else; a disguised document gets nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
