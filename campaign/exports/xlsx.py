"""XLSX files that spreadsheets open safely, written with flat memory.

Every cell is written as a string (never a formula, a link or a number parsed
from text) and neutralised like a CSV cell, so that a copy saved as CSV stays
harmless too. A workbook is a zip: it is written to a temporary file first,
then sent in chunks, and the file is deleted.
"""

import os
import tempfile

import xlsxwriter

from campaign.exports.csv import safe_cell

# Bytes sent at a time.
CHUNK_SIZE = 64 * 1024
WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False,
                    "strings_to_urls": False, "strings_to_numbers": False}


def write_xlsx(path, header, rows):
    """Write ``header`` and ``rows`` to a one-sheet workbook at ``path``; return the rows written."""
    workbook = xlsxwriter.Workbook(path, {**WORKBOOK_OPTIONS, "tmpdir": os.path.dirname(path)})
    try:
        sheet = workbook.add_worksheet()
        for column, name in enumerate(header):
            sheet.write_string(0, column, safe_cell(name))
        written = 0
        for written, row in enumerate(rows, 1):
            for column, value in enumerate(row):
                text = safe_cell(value)
                if text:
                    sheet.write_string(written, column, text)
    finally:
        workbook.close()
    return written


def stream_xlsx(header, rows):
    """A generator of the workbook's bytes, written in full before the first is sent."""
    handle, path = tempfile.mkstemp(prefix="placard-export-", suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, header, rows)
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK_SIZE):
                yield chunk
    finally:
        os.unlink(path)
