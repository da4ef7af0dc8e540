"""CSV cells a spreadsheet does not run, in any locale (no database).

Security review, finding 7: ``ok;=HYPERLINK(…)`` was written as is, and a spreadsheet that splits
lines on ``;`` made a cell starting with ``=`` of it.
"""

from __future__ import annotations

import csv
import io

import pytest

from peerings.spreadsheet import csv_writer, safe_cell

DANGEROUS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\tfoo",  # a leading tab
    "\rfoo",  # a leading carriage return
    "  =1+1",  # after blanks
    '"=1+1"',  # inside a quote a reader may take for the cell's
    'ok;=HYPERLINK("https://evil.test","x")',  # the review's: a cell of its own in a ';' locale
    "ok,=1+1",  # ... in a ',' locale, by a reader that ignores the quotes
    "ok\t=1+1",  # ... split on tabs (pasted)
    "ok; -2+3",  # after a separator and a blank
    "line\n@cmd",  # on a line of its own
    "line\r\n+1",
    "\uff1d1+1",  # full-width '=', which some locales' input makes a formula
    "ok;\uff20x",
]

HARMLESS = [
    "",
    "ok",
    "ok;fine",
    "a,b;c\td",
    "2026-12-04T10:00:00Z",  # a '-' inside a piece
    "10.1.0.0/16",
    "InvalidInput: the name is too long (a-b)",
    '{"peering": {"name": "x"}}',
    "e-mail me @ noon",
    "'=1+1",  # already text
]


@pytest.mark.parametrize("value", DANGEROUS)
def test_a_cell_that_could_start_a_formula_is_prefixed(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_cells_are_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", DANGEROUS + HARMLESS)
def test_every_cell_is_quoted_and_reads_back(value):
    out = io.StringIO()
    csv_writer(out).writerow([safe_cell(value), 1])
    line = out.getvalue()
    assert line.startswith('"')  # quoted: a separator inside stays inside the cell
    assert line.rstrip("\r\n").endswith('"1"')
    assert next(csv.reader(io.StringIO(line))) == [safe_cell(value), "1"]
