"""Organizer-written Markdown to safe HTML, and clean-up of what visitors type."""

import functools
import re
import unicodedata

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "h2", "h3", "h4",
                "code", "pre", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}

# Characters that can hide or reorder text (bidirectional overrides and isolates)
# have no place in a name or an address.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=512)
def render_markdown(text):
    """Markdown → HTML restricted to an allow-list; raw HTML in the source is escaped."""
    html = _markdown.render(text or "")
    safe = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener nofollow")
    return Markup(safe)  # noqa: S704 - nh3 has reduced it to the allow-list above


def has_control_characters(value, allow_newlines=False):
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    for char in value:
        if char in allowed:
            continue
        if char in _BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cs", "Co"}:
            return True
    return False


def clean_line(value):
    """One line of visitor input: Unicode-normalised, spaces folded, ends trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value or "")).strip()


def clean_paragraphs(value):
    """Multi-line visitor input: normalised, line endings unified, ends trimmed."""
    text = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()
