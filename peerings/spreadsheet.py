"""CSV cells a spreadsheet does not run as formulas: the one guard of every CSV the portal writes.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or their full-width
forms, which some locales' input turns into them), and some run one that starts with a tab or a
carriage return. Which characters split a line into cells depends on the locale and the import:
``,`` here, ``;`` where the comma is the decimal mark, a tab when pasted. So a cell is dangerous
when any piece of it, after splitting on ``,``, ``;``, a tab or a line break and dropping leading
blanks and quotes, starts a formula: ``ok;=HYPERLINK(…)`` is two cells in a ``;`` locale. Such a
cell gets a leading ``'`` (shown as text, the usual defence), and every cell is quoted
(:data:`QUOTING`), so a reader that honours quotes never splits inside one. The JSON lines export
keeps the exact values.
"""

from __future__ import annotations

import csv
import re
from typing import Any, Protocol

__all__ = ["QUOTING", "csv_writer", "safe_cell"]

#: Every cell quoted: a separator inside a value stays inside its cell.
QUOTING = csv.QUOTE_ALL

_FORMULA = "=+\\-@\uff1d\uff0b\uff0d\uff20"  # = + - @ and their full-width forms
_DANGER = re.compile(rf"^[\t\r]|(?:^|[,;\t\r\n])[\s\"]*[{_FORMULA}]")


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


def safe_cell(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet could run it, or any piece of it, as a formula."""
    return "'" + value if _DANGER.search(value) else value


def csv_writer(target: _Writable) -> Any:
    """A :func:`csv.writer` on ``target`` quoting every cell; text cells go through :func:`safe_cell`."""
    return csv.writer(target, quoting=QUOTING)
