"""Dates as Vietnamese sources write them, with how much of the date is known, and a plausibility check on ages.

Why: a birth date arrives as 25/03/1990, 5/3/1990, 25-03-90, 1990-03-25, 25.03.1990, 32957 (an Excel serial),
"ngày 25 tháng 3 năm 1990", 03/1990, or only "1985" — many older members know only their birth year. Each is
read, or refused; nothing is rounded or rolled over (31/02 is refused, not 3 March).

Design: :func:`parse_dates` returns a :class:`DateResult` — a :class:`RuleResult` whose ``values`` are date32
(null unless the day is known) plus ``year``, ``month`` and ``precision`` ("day", "month" or "year"), so a
birth year is kept as a year and never invented into 1 January. :func:`format_dates` writes the canonical text:
"YYYY-MM-DD", "YYYY-MM" or "YYYY", which :func:`parse_dates` reads back unchanged.

Day or month first (decided per column, i.e. per batch, from its distinct values):
    * a value whose first part is > 12 is evidence of day-first, one whose second part is > 12 of month-first;
    * no evidence → ``dayfirst`` decides (True: the Vietnamese dd/mm/yyyy);
    * evidence of one order only (the other under 1 % of the evidence, a stray typo) → that order is established
      and ambiguous values (both parts ≤ 12, different) are read in it;
    * evidence of both → the source mixes orders: ambiguous values are genuinely ambiguous and are refused
      (``date_ambiguous``); values that only one order can read are still read.
    Every value read month-first (day and month different) gets ``date_month_first``: converted, informative.

Two-digit years ("25/03/90"): ``yy`` ≤ the pivot → 20yy, otherwise 19yy; the pivot defaults to the current
year's last two digits (in 2025: "25" → 2025, "26" → 1926), since a date of birth or of joining is not in the
future. Excel serials: five digits, 1900 date system (day 1 = 1900-01-01, counted from 1899-12-30 because of
Excel's phantom 29/02/1900; irrelevant from serial 61 on, and five digits start in 1927).

Ages (:func:`check_age`): born after ``as_of`` → REJECTED (``age_future``); older than ``max_age`` (110) →
REJECTED (``age_implausible``): a data-entry error, not a member; younger than the organisation's ``min_age``
→ FLAGGED (``age_below_minimum``): kept, a person should look (the date or the membership may be wrong). With a
partial date, the rule only fires when every possible day of the period breaks it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lienthong.cleaning.base import IssueType, RuleResult, Severity, issues_where

_CHANGED, _FLAGGED, _REJECTED = Severity.CHANGED, Severity.FLAGGED, Severity.REJECTED

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType("date_format", _REJECTED,
                  "Không đọc được ngày: hãy ghi ngày/tháng/năm, ví dụ 25/03/1990 (hoặc chỉ năm, ví dụ 1985).",
                  "Not a date in any accepted form (dd/mm/yyyy, yyyy-mm-dd, dd.mm.yyyy, Excel serial, yyyy)."),
        IssueType("date_invalid", _REJECTED,
                  "Ngày không có thật (ví dụ 31/02 hoặc tháng 13): hãy kiểm tra lại với giấy tờ.",
                  "Impossible calendar date (e.g. 31/02, month 13)."),
        IssueType("date_ambiguous", _REJECTED,
                  "Không biết ngày hay tháng viết trước: tệp này có cả kiểu ngày/tháng và tháng/ngày. "
                  "Hãy ghi lại theo ngày/tháng/năm với năm đủ 4 số.",
                  "Day and month could be swapped and this column mixes day-first and month-first values."),
        IssueType("date_month_first", _CHANGED,
                  "Ngày được ghi theo kiểu tháng/ngày/năm và đã được đọc như vậy. Hãy kiểm tra lại nếu nghi ngờ.",
                  "Read month-first (the value or its column is only readable as month/day/year)."),
        IssueType("date_two_digit_year", _CHANGED,
                  "Năm chỉ có 2 chữ số; đã suy ra thế kỷ. Hãy ghi năm đủ 4 số.",
                  "Two-digit year: the century was inferred from the pivot year."),
        IssueType("date_excel_serial", _CHANGED,
                  "Ngày ở dạng số của Excel; đã đổi sang ngày. Lần sau hãy định dạng cột là ngày hoặc Văn bản.",
                  "Excel serial day number (1900 date system) converted to a date."),
        IssueType("date_month_only", _CHANGED,
                  "Chỉ biết tháng và năm; đã giữ tháng/năm, không tự thêm ngày.",
                  "Only month and year are known: kept at month precision."),
        IssueType("date_year_only", _CHANGED,
                  "Chỉ biết năm; đã giữ năm, không tự thêm ngày và tháng.",
                  "Only the year is known: kept at year precision."),
        IssueType("age_future", _REJECTED,
                  "Ngày sinh ở sau ngày hôm nay: hãy kiểm tra lại ngày sinh.",
                  "Born after the reference date."),
        IssueType("age_implausible", _REJECTED,
                  "Tuổi tính ra quá cao (trên mức tối đa): có lẽ ngày sinh ghi sai; hãy kiểm tra lại.",
                  "Older than the maximum plausible age."),
        IssueType("age_below_minimum", _FLAGGED,
                  "Hội viên chưa đủ tuổi tối thiểu của tổ chức: hãy kiểm tra lại ngày sinh hoặc việc kết nạp.",
                  "Younger than the organisation's minimum age; kept for a person to check."),
    )
}

_STRAY_SHARE = 0.01  # evidence of the other order below this share is a typo, not a second convention
_EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01 (Excel counts from 1899-12-30)
_YEAR_ONLY = (1800, 2199)  # a bare 4-digit number outside this is not read as a year
_DAYS_IN_MONTH = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int64())
_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class DateResult(RuleResult):
    """Parsed dates: ``values`` (date32, day known), ``year`` (int16), ``month`` (int8), ``precision`` (string)."""

    year: pa.Array
    month: pa.Array
    precision: pa.Array

    def take(self, indices: pa.Array) -> DateResult:
        return DateResult(*(pc.take(a, indices) for a in (self.values, self.issues, self.year, self.month,
                                                          self.precision)))


def parse_dates(arr: pa.Array, *, dayfirst: bool = True, century_pivot: int | None = None) -> DateResult:
    """Read dates in every accepted form; see the module docstring for ambiguity and two-digit years.

    Accepted: d/m/yyyy and dd/mm/yyyy with "/", "." or "-" (also 2-digit years), yyyy-mm-dd (also with "/" or
    "."), yyyymmdd, a trailing time (dropped), "ngày 25 tháng 3 năm 1990", Excel serials (5 digits, 1900
    system), mm/yyyy, yyyy-mm, "tháng 3/1990" (month precision), yyyy or "năm 1985" (year precision); date32 or
    timestamp arrays pass through. Work is done once per distinct value.

    Args:
        arr: a column of dates as sent.
        dayfirst: the order when the column gives no evidence (True: Vietnamese day/month/year).
        century_pivot: two-digit years up to this are 20yy, above it 19yy (default: this year's last two digits).

    Returns:
        A :class:`DateResult`.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_date(arr.type) or pa.types.is_timestamp(arr.type):
        values = pc.cast(arr, pa.date32()) if not pa.types.is_date32(arr.type) else arr
        return _from_days(values)
    text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
    pivot = dt.date.today().year % 100 if century_pivot is None else century_pivot
    encoded = pc.dictionary_encode(text)
    # Evidence for the day/month order is counted in rows, not distinct values: in a large column the few
    # distinct valid dates saturate while typos keep adding distinct values.
    indices = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    rows = pa.array(np.bincount(indices, minlength=len(encoded.dictionary) + 1)[: len(encoded.dictionary)])
    return _parse_distinct(encoded.dictionary, dayfirst, pivot, rows).take(encoded.indices)


def format_dates(result: DateResult) -> pa.Array:
    """Canonical text of parsed dates: "YYYY-MM-DD", "YYYY-MM" (month known) or "YYYY" (year only)."""
    day = pc.strftime(pc.cast(result.values, pa.timestamp("s")), format="%Y-%m-%d")
    year = pc.utf8_lpad(pc.cast(result.year, pa.string()), 4, "0")
    month = pc.binary_join_element_wise(year, pc.utf8_lpad(pc.cast(result.month, pa.string()), 2, "0"), "-")
    return pc.case_when(
        pc.make_struct(pc.equal(result.precision, "day"), pc.equal(result.precision, "month"),
                       pc.equal(result.precision, "year")),
        day, month, year,
    )


def check_age(dob: pa.Array | DateResult, *, as_of: dt.date, min_age: int | None = None,
              max_age: int = 110) -> RuleResult:
    """Flag or refuse implausible ages at ``as_of`` (see the module docstring for the severities).

    Age is in whole years; someone born on 29/02 turns a year older on 01/03 in common years.

    Args:
        dob: date32 dates of birth, or a :class:`DateResult` (month and year precision are checked on the
            whole period: "1915" is refused at max_age 110 only if even 31/12/1915 is too old).
        as_of: the reference date (e.g. the batch's landing date).
        min_age: the organisation's minimum age (e.g. 18), or ``None``.
        max_age: the oldest plausible age.

    Returns:
        The input kind (date32 array, or DateResult) with rejected rows null, and the age issue codes.
    """
    parsed = dob if isinstance(dob, DateResult) else parse_dates(dob)
    n = len(parsed.values)
    year = pc.cast(parsed.year, pa.int64())
    month = pc.cast(parsed.month, pa.int64())
    day = pc.cast(pc.day(parsed.values), pa.int64())
    first_month = pc.coalesce(month, 1)
    last_month = pc.coalesce(month, 12)
    first_day = pc.coalesce(day, 1)
    last_day = pc.coalesce(day, _days_in_month(year, last_month))
    today = as_of.year * 10_000 + as_of.month * 100 + as_of.day
    earliest = _ymd(year, first_month, first_day)
    latest = _ymd(year, last_month, last_day)
    future = _true(pc.greater(earliest, today))
    too_old = _true(pc.greater(_age(latest, today), max_age))
    young = pa.array([False] * n) if min_age is None else _true(pc.less(_age(earliest, today), min_age))
    young = pc.and_(young, pc.invert(future))
    rejected = pc.or_(future, too_old)
    issues = pc.if_else(future, pa.scalar("age_future"), pc.if_else(
        too_old, pa.scalar("age_implausible"), pc.if_else(young, pa.scalar("age_below_minimum"), _NULL)))
    if isinstance(dob, DateResult):
        kept = [pc.if_else(rejected, pa.scalar(None, a.type), a)
                for a in (dob.values, dob.year, dob.month, dob.precision)]
        return DateResult(kept[0], issues, *kept[1:])
    values = parsed.values if pa.types.is_date32(dob.type) else dob
    return RuleResult(pc.if_else(rejected, pa.scalar(None, values.type), values), issues)


def explain(code: str, value: str | None) -> tuple[str, str]:
    """The exact (Vietnamese, English) message of one row's issue; dates are shown as written."""
    issue = ISSUES[code]
    return f"Ngày '{value}': {issue.message_vi}", f"Date {value!r}: {issue.message_en}"


def _parse_distinct(text: pa.Array, dayfirst: bool, pivot: int, rows: pa.Array | None = None) -> DateResult:
    t = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    # Rewrites run only on the values that need them: a match is much cheaper than a replacement.
    t = _where(t, r"\s\s", [(r"\s+", " ")])
    t = _where(t, ":", [(r"[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?(?:am|pm|sa|ch))?$", "")])
    t = _where(t, r"^\pL", [  # starts with a letter: "ngày …", "tháng …", "năm …"
        (r"^ngày ?(\d{1,2}) ?tháng ?(\d{1,2}) ?năm ?(\d{4})$", r"\1/\2/\3"),
        (r"^(?:tháng|th\.?|t) ?(\d{1,2}) ?(?:năm ?|[/.\-] ?)(\d{4})$", r"\1/\2"),
        (r"^năm ?(\d{4})$", r"\1"),
    ])
    present = _true(pc.not_equal(t, ""))

    def parts(pattern: str) -> pa.Array:
        return pc.extract_regex(t, pattern)

    def field(struct: pa.Array, name: str) -> pa.Array:
        return pc.cast(pc.struct_field(struct, name), pa.int64())

    iso = parts(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$")
    compact = parts(r"^(?P<y>(?:1[89]|2[01])\d{2})(?P<m>\d{2})(?P<d>\d{2})$")
    tri = parts(r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{2}|\d{4})$")
    serial = parts(r"^(?P<n>\d{5})(?:\.\d+)?$")
    month_year = parts(r"^(?P<m>\d{1,2})[/.\-](?P<y>\d{4})$")
    year_month = parts(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})$")
    year_only = parts(r"^(?P<y>\d{4})(?:\.0+)?$")  # "1985.0": a year column read as floats

    # Day/month order of d/m/y triplets, from the column's evidence.
    a, b = field(tri, "a"), field(tri, "b")
    day_first_evidence = _count(pc.and_(pc.and_(pc.greater(a, 12), pc.less_equal(a, 31)), pc.less_equal(b, 12)), rows)
    month_first_evidence = _count(pc.and_(pc.and_(pc.greater(b, 12), pc.less_equal(b, 31)), pc.less_equal(a, 12)),
                                  rows)
    order = _column_order(day_first_evidence, month_first_evidence, dayfirst)
    ambiguous = _true(pc.and_(pc.and_(pc.less_equal(a, 12), pc.less_equal(b, 12)), pc.not_equal(a, b)))
    month_first = _true(pc.or_(pc.and_(pc.greater(b, 12), pc.less_equal(a, 12)),
                               pc.and_(ambiguous, pa.scalar(order == "mdy"))))
    refused = pc.and_(ambiguous, pa.scalar(order == "mixed"))
    two_digit = _true(pc.equal(pc.utf8_length(pc.struct_field(tri, "y")), 2))
    tri_year = field(tri, "y")
    tri_year = pc.if_else(two_digit, pc.add(tri_year, pc.if_else(pc.less_equal(tri_year, pivot), 2000, 1900)),
                          tri_year)
    tri_day = pc.if_else(refused, pa.scalar(None, pa.int64()), pc.if_else(month_first, b, a))
    tri_month = pc.if_else(month_first, a, b)

    y = pc.coalesce(field(iso, "y"), field(compact, "y"), tri_year)
    m = pc.coalesce(field(iso, "m"), field(compact, "m"), tri_month)
    d = pc.coalesce(field(iso, "d"), field(compact, "d"), tri_day)
    from_parts = _checked_date(y, m, d)
    number = field(serial, "n")
    from_serial = pc.cast(pc.cast(pc.subtract(number, _EXCEL_EPOCH_OFFSET), pa.int32()), pa.date32())
    values = pc.coalesce(from_parts, from_serial)

    partial_year = pc.coalesce(field(month_year, "y"), field(year_month, "y"))
    partial_month = pc.coalesce(field(month_year, "m"), field(year_month, "m"))
    month_ok = _true(pc.and_(pc.and_(pc.greater_equal(partial_month, 1), pc.less_equal(partial_month, 12)),
                             pc.greater_equal(partial_year, _YEAR_ONLY[0])))
    bare_year = field(year_only, "y")
    year_ok = _true(pc.and_(pc.greater_equal(bare_year, _YEAR_ONLY[0]), pc.less_equal(bare_year, _YEAR_ONLY[1])))

    has_day = pc.is_valid(values)
    precision = pc.if_else(has_day, pa.scalar("day"), pc.if_else(
        month_ok, pa.scalar("month"), pc.if_else(year_ok, pa.scalar("year"), _NULL)))
    year = pc.if_else(has_day, pc.year(values), pc.if_else(month_ok, partial_year,
                                                             pc.if_else(year_ok, bare_year, None)))
    month = pc.if_else(has_day, pc.month(values), pc.if_else(month_ok, partial_month, None))

    recognised = pc.or_(pc.or_(pc.or_(pc.is_valid(iso), pc.is_valid(compact)), pc.or_(pc.is_valid(tri),
                        pc.is_valid(serial))), pc.or_(pc.or_(pc.is_valid(month_year), pc.is_valid(year_month)),
                                                      pc.is_valid(year_only)))
    understood = pc.is_valid(precision)
    failed = pc.and_(present, pc.invert(understood))
    issues = issues_where([
        (pc.and_(failed, pc.invert(recognised)), "date_format"),
        (pc.and_(pc.and_(failed, recognised), pc.invert(_true(refused))), "date_invalid"),
        (pc.and_(failed, _true(refused)), "date_ambiguous"),
        (pc.and_(has_day, month_first), "date_month_first"),
        (pc.and_(has_day, two_digit), "date_two_digit_year"),
        (pc.and_(has_day, pc.is_valid(serial)), "date_excel_serial"),
        (pc.equal(precision, "month"), "date_month_only"),
        (pc.equal(precision, "year"), "date_year_only"),
    ])
    return DateResult(values, issues, pc.cast(year, pa.int16()), pc.cast(month, pa.int8()), precision)


def _where(arr: pa.Array, guard: str, rewrites: list[tuple[str, str]]) -> pa.Array:
    """Apply the regex rewrites (pattern, replacement) in order, only to the values ``guard`` matches."""
    mask = _true(pc.match_substring_regex(arr, guard))
    if not pc.any(mask).as_py():
        return arr
    part = arr.filter(mask)
    for pattern, replacement in rewrites:
        part = pc.replace_substring_regex(part, pattern, replacement)
    return pc.replace_with_mask(arr, mask, part)


def _column_order(day_first: int, month_first: int, dayfirst: bool) -> str:
    """"dmy", "mdy" or "mixed" from the evidence counts (see the module docstring)."""
    total = day_first + month_first
    if total == 0:
        return "dmy" if dayfirst else "mdy"
    if month_first <= _STRAY_SHARE * total:
        return "dmy"
    if day_first <= _STRAY_SHARE * total:
        return "mdy"
    return "mixed"


def _checked_date(y: pa.Array, m: pa.Array, d: pa.Array) -> pa.Array:
    """Dates from integer parts; an impossible date (31/02) is null, not rolled over to March."""
    ok = pc.and_(pc.and_(pc.greater_equal(m, 1), pc.less_equal(m, 12)),
                 pc.and_(pc.greater_equal(d, 1), pc.less_equal(d, _days_in_month(y, m))))
    ok = _true(pc.and_(ok, pc.and_(pc.greater_equal(y, 1), pc.less_equal(y, 9999))))
    text = pc.binary_join_element_wise(
        pc.utf8_lpad(pc.cast(y, pa.string()), 4, "0"), pc.utf8_lpad(pc.cast(m, pa.string()), 2, "0"),
        pc.utf8_lpad(pc.cast(d, pa.string()), 2, "0"), "-")
    text = pc.if_else(ok, text, _NULL)
    return pc.cast(pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True), pa.date32())


def _days_in_month(y: pa.Array, m: pa.Array) -> pa.Array:
    valid_month = pc.if_else(_true(pc.and_(pc.greater_equal(m, 1), pc.less_equal(m, 12))), m, 0)
    days = pc.take(_DAYS_IN_MONTH, valid_month)
    leap = pc.and_(pc.equal(pc.bit_wise_and(y, 3), 0),
                   pc.or_(pc.not_equal(pc.subtract(y, pc.multiply(pc.divide(y, 100), 100)), 0),
                          pc.equal(pc.subtract(y, pc.multiply(pc.divide(y, 400), 400)), 0)))
    return pc.if_else(_true(pc.and_(leap, pc.equal(m, 2))), 29, days)


def _from_days(values: pa.Array) -> DateResult:
    has_day = pc.is_valid(values)
    return DateResult(values, pa.nulls(len(values), pa.string()), pc.cast(pc.year(values), pa.int16()),
                      pc.cast(pc.month(values), pa.int8()), pc.if_else(has_day, pa.scalar("day"), _NULL))


def _ymd(y: pa.Array, m: pa.Array, d: pa.Array) -> pa.Array:
    return pc.add(pc.add(pc.multiply(y, 10_000), pc.multiply(m, 100)), d)


def _age(birth_ymd: pa.Array, today_ymd: int) -> pa.Array:
    """Whole years from a yyyymmdd key to another: the year difference, less one before the birthday."""
    birth_year = pc.divide(birth_ymd, 10_000)
    birth_md = pc.subtract(birth_ymd, pc.multiply(birth_year, 10_000))
    before_birthday = pc.cast(pc.less(today_ymd % 10_000, birth_md), pa.int64())
    return pc.subtract(pc.subtract(today_ymd // 10_000, birth_year), before_birthday)


def _count(mask: pa.Array, weights: pa.Array | None = None) -> int:
    hits = pc.cast(_true(mask), pa.int64())
    return int(pc.sum(hits if weights is None else pc.multiply(hits, weights)).as_py() or 0)


def _true(mask: pa.Array) -> pa.Array:
    return pc.fill_null(mask, False)


