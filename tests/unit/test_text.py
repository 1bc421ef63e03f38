"""Normalising what visitors type, and sanitising what organizers write."""

import pytest

from campaign.security import hash_token, new_token
from campaign.text import clean_line, clean_paragraphs, has_control_characters, render_markdown


@pytest.mark.parametrize(("typed", "kept"), [
    ("  Ada   Lovelace ", "Ada Lovelace"),
    ("Ame\u0301lie", "Amélie"),          # decomposed accents are composed (NFC)
    ("tab\there", "tab here"),
    ("", ""),
    (None, ""),
])
def test_a_line_is_normalised_trimmed_and_its_spaces_folded(typed, kept):
    assert clean_line(typed) == kept


def test_paragraphs_keep_their_line_breaks_with_one_line_ending():
    assert clean_paragraphs(" first\r\nsecond\rthird \n") == "first\nsecond\nthird"


@pytest.mark.parametrize(("value", "allow_newlines", "found"), [
    ("Ada", False, False),
    ("Zoë Ørsted-Ñúñez 李小龙 محمد", False, False),
    ("bell\x07", False, True),
    ("null\x00", False, True),
    ("line\nbreak", False, True),
    ("line\nbreak", True, False),
    ("right\u202eto-left override", False, True),
    ("isolate\u2066", False, True),
    ("private\ue000use", False, True),
])
def test_control_and_direction_characters_are_found(value, allow_newlines, found):
    assert has_control_characters(value, allow_newlines=allow_newlines) is found


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    '<img src=x onerror="alert(1)">',
    "<iframe src='https://evil.example'></iframe>",
])
def test_markdown_cannot_carry_script(source):
    html = str(render_markdown(source))
    # What survives is shown as text: no element, attribute or link that could run.
    for dangerous in ("<script", 'href="javascript', "<img", "<iframe"):
        assert dangerous not in html


def test_markdown_keeps_ordinary_formatting_and_safe_links():
    html = str(render_markdown("**Peace** now — [read](https://example.org)\n\n- one\n- two"))
    assert "<strong>Peace</strong>" in html and "<li>one</li>" in html
    assert 'href="https://example.org"' in html and 'rel="noopener nofollow"' in html


def test_tokens_are_unguessable_and_stored_only_as_a_hash():
    token, token_hash = new_token()
    other, _ = new_token()
    assert token != other and len(token) >= 43
    assert token_hash == hash_token(token) and token not in token_hash
    assert len(token_hash) == 64
