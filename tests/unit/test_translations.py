"""The French (Canada) catalog is complete, current and keeps every placeholder.

How to update the catalog: campaign/translations/README.md.
"""

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
PO_NAME = "campaign/translations/fr_CA/LC_MESSAGES/messages.po"
PO_FILE = ROOT / PO_NAME
# The same keywords as the extract command in campaign/translations/README.md.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
UPDATE_PROCEDURE = "campaign/translations/README.md"

# A %(name)s placeholder with its conversion: %(max)d must stay a %(max)d.
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _read_catalog():
    with PO_FILE.open("rb") as fh:
        return read_po(fh, locale="fr_CA")


def _messages(catalog):
    return [message for message in catalog if message.id]


def _label(message_id):
    return " | ".join(message_id) if isinstance(message_id, tuple) else message_id


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def _placeholders(text):
    return {match.group(0) for match in PLACEHOLDER.finditer(text or "")}


def _extract_from_sources():
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename=str(BABEL_CFG))
    catalog = Catalog(locale=None)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


@pytest.fixture(scope="module")
def catalog():
    return _read_catalog()


def test_the_catalog_has_messages(catalog):
    assert len(_messages(catalog)) > 0
    assert str(catalog.locale) == "fr_CA"


def test_every_message_is_translated_and_none_is_fuzzy(catalog):
    problems = []
    for message in _messages(catalog):
        strings = _as_tuple(message.string)
        if message.pluralizable and len(strings) != catalog.num_plurals:
            problems.append(f"{_label(message.id)!r}: {len(strings)} plural forms, "
                            f"the catalog declares {catalog.num_plurals}")
        if not all(text and text.strip() for text in strings):
            problems.append(f"{_label(message.id)!r}: not translated")
        if message.fuzzy:
            problems.append(f"{_label(message.id)!r}: marked fuzzy")
    assert not problems, (
        f"{PO_NAME} is incomplete:\n  " + "\n  ".join(problems)
        + f"\nTranslate these, then compile (see {UPDATE_PROCEDURE}).")


def test_the_catalog_is_current_with_the_sources(catalog):
    known = {(message.id, message.context) for message in _messages(catalog)}
    extracted = _messages(_extract_from_sources())
    assert extracted, "extraction found no strings: does babel.cfg still match the sources?"
    missing = sorted({_label(message.id) for message in extracted
                      if (message.id, message.context) not in known})
    assert not missing, (
        f"{len(missing)} string(s) in the code or templates are missing from "
        f"{PO_NAME}:\n  " + "\n  ".join(repr(text) for text in missing)
        + f"\nRun the update procedure in {UPDATE_PROCEDURE}: pybabel extract, pybabel update, "
        "translate, pybabel compile.")


def test_every_translation_keeps_the_placeholders_of_its_message(catalog):
    problems = []
    for message in _messages(catalog):
        # Every plural form is formatted with the same arguments as the English ones.
        expected = set().union(*(_placeholders(text) for text in _as_tuple(message.id)))
        for index, text in enumerate(_as_tuple(message.string)):
            found = _placeholders(text)
            if text and found != expected:
                form = f"[{index}]" if message.pluralizable else ""
                problems.append(f"{_label(message.id)!r}{form}: expected {sorted(expected)}, "
                                f"found {sorted(found)} in {text!r}")
    assert not problems, "Placeholders differ from the English:\n  " + "\n  ".join(problems)
