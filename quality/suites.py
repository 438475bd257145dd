"""Great Expectations suites generated from the dataset contracts, plus each dataset's hand-written rules.

A contract field turns into expectations like this (derived fields are filled by the hub, not by a source, and
are not checked):

- ``required`` -> ``expect_column_values_to_not_be_null``
- ``code_list`` -> ``expect_column_values_to_be_in_set`` with the CodeList's codes (a suite parameter, below)
- ``pattern`` -> ``expect_column_values_to_match_regex``
- ``max_length`` -> ``expect_column_value_lengths_to_be_between``
- ``minimum``/``maximum`` of an INTEGER or MONEY field -> ``expect_column_values_to_be_between``
- a DATE field -> ``expect_column_values_to_be_between`` from 1 January of the year ``minimum`` (if any)
  to today
- a DATETIME field -> ``expect_column_values_to_be_between`` up to now (not in the future)

"Today" and "now" are GX suite parameters (:data:`TODAY`, :data:`NOW`), filled in at validation time by
:func:`suite_parameters`, so that a suite can be built once and cached across days. They are Vietnam local
time: the hub's datetimes are compared as naive Asia/Ho_Chi_Minh wall-clock time (see ``quality.validate``).

A code-list field's value set is a suite parameter too (:func:`code_parameter`), filled by
:func:`code_parameters` with the list's codes *that occur in the batch's column*: a value is in the list exactly
when it is among those, so every row gets the same answer as with the whole list. Why: GX re-serialises an
expectation's arguments dozens of times per validation, whatever the number of rows, so the 3,321 ward codes
alone cost about half a second per batch, as much for 15 rows as for a million.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.expectation import Expectation

from catalog.model import CodeList
from quality import messages
from quality.rules import extra_expectations
from schemas.base import Contract, FieldKind, FieldSpec

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = "lienthong_today"
NOW = "lienthong_now"


def suite_parameters(now: datetime | None = None) -> dict[str, pd.Timestamp]:
    """Values of the suite parameters :data:`TODAY` (midnight) and :data:`NOW`, as naive Vietnam local time.

    Args:
        now: the moment to validate as of (an aware datetime, or naive Vietnam time); default the clock.
    """
    moment = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz=VIETNAM)
    if moment.tzinfo is not None:
        moment = moment.tz_convert(VIETNAM).tz_localize(None)
    moment = moment.as_unit("ns")
    return {TODAY: moment.normalize(), NOW: moment}


def code_parameter(field: FieldSpec) -> str:
    """The name of the suite parameter holding the codes ``field``'s values may take."""
    return f"lienthong_codes_{field.name}"


def code_parameters(
    contract: type[Contract], code_lists: Mapping[str, CodeList], frame: pd.DataFrame
) -> dict[str, list[str]]:
    """The value of every code parameter of ``contract``'s suite for ``frame``: the codes of the field's list
    among the distinct values of its column (a ``category`` column: its categories), sorted."""
    out: dict[str, list[str]] = {}
    for field in contract.fields():
        if field.code_list and not field.derived:
            codes = _code_list(contract, field, code_lists).codes
            column = frame[field.name]
            present = (column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype)
                       else column.dropna().unique())
            out[code_parameter(field)] = sorted(v for v in present if isinstance(v, str) and v in codes)
    return out


def build_suite(contract: type[Contract], code_lists: Mapping[str, CodeList]) -> gx.ExpectationSuite:
    """The validation suite of a dataset: one or more expectations per contract rule, then the dataset's own
    rules.

    Each expectation carries its :class:`~quality.messages.RuleText` in ``meta``.

    Args:
        contract: the dataset contract, e.g. ``schemas.members.Member``.
        code_lists: shared code lists by name; every list a (non-derived) field is bound to must be present.

    Returns:
        A suite named ``lienthong.<dataset>``; not added to any context.

    Raises:
        KeyError: a code list the contract needs is missing from ``code_lists``.
    """
    expectations: list[Expectation] = []
    for field in contract.fields():
        if not field.derived:
            expectations.extend(field_expectations(contract, field, code_lists))
    expectations.extend(extra_expectations(contract.dataset, code_lists))
    # Passing the expectations to the constructor (rather than add_expectation) needs no active GX context.
    return gx.ExpectationSuite(name=f"lienthong.{contract.dataset}", expectations=expectations)

def field_expectations(
    contract: type[Contract], field: FieldSpec, code_lists: Mapping[str, CodeList]
) -> list[Expectation]:
    """The expectations generated for one contract field, in a stable order."""
    col = field.name
    out: list[Expectation] = []
    if field.required:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=col, meta=messages.required(field).to_meta()))
    if field.code_list:
        codes = _code_list(contract, field, code_lists)
        text = messages.in_code_list(field, codes.title_vi, codes.name, codes.version)
        out.append(
            gxe.ExpectColumnValuesToBeInSet(column=col, value_set={"$PARAMETER": code_parameter(field)},
                                            meta=text.to_meta())
        )
    if field.pattern:
        text = messages.pattern(field, field.pattern)
        regex = without_capture_groups(field.pattern)
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=col, regex=regex, meta=text.to_meta()))
    if field.max_length is not None:
        text = messages.max_length(field, field.max_length)
        out.append(
            gxe.ExpectColumnValueLengthsToBeBetween(
                column=col, max_value=field.max_length, meta=text.to_meta()
            )
        )
    if field.kind in (FieldKind.INTEGER, FieldKind.MONEY) and (field.minimum, field.maximum) != (None, None):
        text = messages.number_range(field, field.minimum, field.maximum)
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=col, min_value=field.minimum, max_value=field.maximum, meta=text.to_meta()
            )
        )
    if field.kind is FieldKind.DATE:
        first_year = int(field.minimum) if field.minimum is not None else None
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=col,
                min_value=pd.Timestamp(first_year, 1, 1) if first_year is not None else None,
                max_value={"$PARAMETER": TODAY},
                meta=messages.date_range(field, first_year).to_meta(),
            )
        )
    if field.kind is FieldKind.DATETIME:
        text = (
            messages.date_range(field, int(field.minimum))
            if field.minimum is not None
            else messages.not_in_future(field)
        )
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=col,
                min_value=pd.Timestamp(int(field.minimum), 1, 1) if field.minimum is not None else None,
                max_value={"$PARAMETER": NOW},
                meta=text.to_meta(),
            )
        )
    return out


def _code_list(contract: type[Contract], field: FieldSpec, code_lists: Mapping[str, CodeList]) -> CodeList:
    assert field.code_list is not None
    try:
        return code_lists[field.code_list]
    except KeyError:
        msg = (
            f"code list {field.code_list!r} is needed by {contract.dataset}.{field.name} but was not given; "
            "pass catalog.load_code_lists() (or the lists the contract binds) to build_suite"
        )
        raise KeyError(msg) from None


def without_capture_groups(pattern: str) -> str:
    """``pattern`` with capturing groups made non-capturing, e.g. ``(a|b)`` -> ``(?:a|b)``.

    GX matches with pandas ``str.contains``, which warns on every batch that a pattern with groups does not
    extract them. What the pattern matches is unchanged; a pattern with back-references is left as it is.
    """
    if re.search(r"\\[1-9]|\(\?P=", pattern):
        return pattern
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            opening = next((o for o in ("[^]", "[]") if pattern.startswith(o, i)), "")
            if opening:  # a ] right after [ or [^ is a literal, not the end of the class
                out.append(opening)
                i += len(opening)
                continue
        elif ch == "(" and pattern[i + 1 : i + 2] != "?":
            out.append("(?:")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)
