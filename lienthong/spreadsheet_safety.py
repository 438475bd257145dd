"""Cells safe to open in a spreadsheet: no value the hub writes for people can run as a formula.

Excel, LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
versions, tab or carriage return before one of those) as a formula: a name ``=HYPERLINK("http://evil", "Bấm")``
or ``=cmd|' /C calc'!A0`` in a rejects file runs on the clerk's machine (CSV/formula injection, OWASP). Every CSV
and XLSX the hub writes for people passes its cells through :func:`neutralise`, which prefixes such a value with
a single quote, OWASP's advice: the spreadsheet then shows it as text.

Two decisions keep legitimate values intact:

- a *plain signed number* ("+84 912 345 678", "-5", "-1.500.000") is left alone: it holds no function,
  reference or operator a spreadsheet could run, and a phone written the international way must round-trip;
- the prefix is undone on the way back in (:func:`unneutralise`, called by the clean stage on every text
  value), so a clerk who fixes a rejects file and sends it back as it is gets exactly the values first sent.
  The cost: a value that itself starts with ``'`` followed by one of those characters loses the quote.

XLSX cells are also written as strings (``data_type = "s"``), never formulas (:func:`string_cell`).
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# The same three tests for Python strings and for Arrow's regex kernels (RE2), so both paths agree.
_TRIGGER_RE = r"^[=+\-@\t\r]"
_PLAIN_NUMBER_RE = r"^[+-]?\d[\d .,]*$"  # a sign, then only digits, spaces, dots, commas: nothing to evaluate
UNNEUTRALISE_PATTERN = r"^'([=+\-@\t\r])"  # the hub's quote (or Excel's text marker) before a trigger
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d .,]*\Z")  # \Z: Python's $ would also match before a final newline
_QUOTED = re.compile(UNNEUTRALISE_PATTERN)


def is_dangerous(value: str) -> bool:
    """Whether a spreadsheet could read ``value`` as a formula (it starts with a trigger and is not a number)."""
    return value.startswith(TRIGGERS) and _PLAIN_NUMBER.match(value) is None


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when a spreadsheet would run it; anything else (numbers, None) unchanged."""
    if isinstance(value, str) and is_dangerous(value):
        return QUOTE + value
    return value


def neutralise_row(values: list[Any]) -> list[Any]:
    """:func:`neutralise` over a row of cells."""
    return [neutralise(v) for v in values]


def unneutralise(value: str) -> str:
    """Undo :func:`neutralise`: drop a ``'`` that precedes a trigger character (what the hub, or Excel's own
    text marker, put there)."""
    return value[1:] if _QUOTED.match(value) else value


def string_cell(cell: Any, value: Any) -> Any:
    """Set an openpyxl ``cell`` to ``value`` neutralised, as a string cell (never a formula) when it is text."""
    safe = neutralise(value)
    cell.value = safe
    if isinstance(safe, str):
        cell.data_type = "s"  # openpyxl would otherwise store any text starting with "=" as a formula
    return cell


def neutralise_array(values: pa.Array) -> pa.Array:
    """:func:`neutralise` over an Arrow string column, vectorised (a whole ``normalize`` output at once)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    dangerous = pc.and_(pc.match_substring_regex(values, _TRIGGER_RE),
                        pc.invert(pc.match_substring_regex(values, _PLAIN_NUMBER_RE)))
    dangerous = pc.fill_null(dangerous, False)
    if not pc.any(dangerous).as_py():
        return values
    return pc.if_else(dangerous, pc.binary_join_element_wise(QUOTE, values, ""), values)


def unneutralise_array(values: pa.Array) -> pa.Array:
    """:func:`unneutralise` over an Arrow string column (only rewritten when some value needs it)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    quoted = pc.fill_null(pc.starts_with(values, QUOTE), False)
    if not pc.any(quoted).as_py():
        return values
    return pc.replace_substring_regex(values, UNNEUTRALISE_PATTERN, r"\1")


def neutralise_table(table: pa.Table) -> pa.Table:
    """Every string column of ``table`` through :func:`neutralise_array`; other columns unchanged."""
    for i, f in enumerate(table.schema):
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            table = table.set_column(i, f, neutralise_array(table.column(i)))
    return table


def _decimal_digits() -> str:
    """Python's ``\\d`` for text: every Unicode decimal digit, as a regex bracket body of ranges."""
    import sys

    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        if chr(code).isdecimal():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


_D = _decimal_digits()
# PostgreSQL's regex \d depends on the database's locale: the class is spelt out so both tests agree exactly.
PLAIN_NUMBER_SQL = f"^[+-]?[{_D}][{_D} .,]*$"


def neutralise_sql(column: str) -> str:
    """The SQL expression (PostgreSQL) giving :func:`neutralise` of the text ``column``, for cells the database
    writes itself (``COPY … TO STDOUT WITH CSV`` in the pull API); it takes the parameter ``%(plain_number)s``,
    bound to :data:`PLAIN_NUMBER_SQL`."""
    triggers = ", ".join(str(ord(t)) for t in TRIGGERS)  # ascii(): the first character's code, cheaper than left()
    return (f"(CASE WHEN ascii({column}) IN ({triggers}) AND {column} !~ %(plain_number)s::text "
            f"THEN '{QUOTE}{QUOTE}' || {column} ELSE {column} END)")
