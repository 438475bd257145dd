"""Identity numbers: CCCD (12 digits) and the legacy CMND (9 digits), normalised and checked for consistency.

Why: the ID number is the strongest key for matching members across organisations, and it arrives damaged —
with spaces and dots, as an Excel number that lost its leading zeros (every CCCD starts with "0", Hà Nội's with
"00"), or in Excel's scientific notation, which has lost digits for good. A repairable value is repaired and
said so; a lost one is refused, never guessed.

CCCD structure (Decree 137/2015 Art. 13, Circular 07/2016/TT-BCA, Circular 59/2021/TT-BCA; see
/work/shared/VIETNAMESE_DATA.md): digits 1–3 the place of birth registration ("0" + one of the 63 pre-2025
province codes, or a country code for births registered abroad), digit 4 sex and century (even male, odd female;
0/1 born 1900–1999, 2/3 2000–2099, 4/5 2100–2199 …), digits 5–6 the last two digits of the birth year, digits
7–12 random. No check digit.

Abroad codes: the circular says digits 1–3 may be a *country* code, but its list could not be verified here.
A prefix starting with "0" that is not one of the 63 province codes is refused (``cccd_place_code``); a prefix
not starting with "0" is kept and flagged (``cccd_place_abroad``) for a person to check.

Messages: a rule's per-row issue is a code; :func:`explain` turns a code and the row's values into the exact,
masked sentence for the clerk and the engineer (the ID number is never shown in full).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from catalog import get_code_list
from lienthong.cleaning.base import IssueType, RuleResult, Severity, issues_where
from lienthong.masking import mask

_CHANGED, _FLAGGED, _REJECTED = Severity.CHANGED, Severity.FLAGGED, Severity.REJECTED

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType(
            "id_cmnd_legacy", _CHANGED,
            "Số CMND cũ 9 chữ số: vẫn được nhận; khi gặp hội viên, hãy cập nhật số CCCD/căn cước 12 chữ số.",
            "Legacy 9-digit CMND number: accepted and marked as legacy.",
        ),
        IssueType(
            "id_leading_zero_restored", _CHANGED,
            "Số CCCD/CMND bị Excel bỏ mất số 0 ở đầu (lưu dạng số): đã thêm số 0 đầu vì số sau khi thêm đúng cấu "
            "trúc CCCD/CMND. Lần sau hãy định dạng cột là Văn bản (Text) trước khi nhập.",
            "CCCD/CMND lost its leading zero(s) (stored as a number); restored because the result is a consistent "
            "CCCD (or a 9-digit CMND).",
        ),
        IssueType(
            "id_excel_scientific", _REJECTED,
            "Số giấy tờ bị Excel đổi thành dạng khoa học (ví dụ 1,23457E+11) và đã mất chữ số: hãy nhập lại "
            "từ thẻ, định dạng cột là Văn bản (Text).",
            "ID number in Excel scientific notation: digits are lost, it cannot be restored.",
        ),
        IssueType(
            "id_format", _REJECTED,
            "Số giấy tờ có chữ hoặc ký tự lạ: CCCD chỉ gồm 12 chữ số, CMND 9 chữ số. Hãy kiểm tra lại.",
            "ID number contains characters other than digits and separators.",
        ),
        IssueType(
            "id_length", _REJECTED,
            "Số giấy tờ không đủ hoặc thừa chữ số: CCCD có 12 chữ số, CMND có 9 chữ số. Hãy đối chiếu với thẻ.",
            "ID number has neither 12 (CCCD) nor 9 (CMND) digits.",
        ),
        IssueType(
            "cccd_place_code", _REJECTED,
            "3 số đầu của CCCD không phải mã tỉnh nơi đăng ký khai sinh (001 Hà Nội … 096 Cà Mau). "
            "Hãy đối chiếu với thẻ.",
            "CCCD digits 1-3 are not a place-of-birth code (0 + one of the 63 pre-2025 province codes).",
        ),
        IssueType(
            "cccd_place_abroad", _FLAGGED,
            "3 số đầu của CCCD không phải mã tỉnh; có thể là mã nước ngoài nơi đăng ký khai sinh. "
            "Hãy kiểm tra lại với thẻ.",
            "CCCD digits 1-3 are not a province code and may be an (unverified) abroad code; a person should check.",
        ),
        IssueType(
            "cccd_sex_mismatch", _REJECTED,
            "Số thứ 4 của CCCD (giới tính) không khớp với giới tính đã khai. Hãy kiểm tra lại số CCCD hoặc "
            "giới tính.",
            "CCCD digit 4 encodes a different sex than the record's.",
        ),
        IssueType(
            "cccd_century_mismatch", _REJECTED,
            "Số thứ 4 của CCCD (thế kỷ sinh) không khớp với năm sinh đã khai. Hãy kiểm tra lại số CCCD hoặc "
            "ngày sinh.",
            "CCCD digit 4 encodes a different century of birth than the record's date of birth.",
        ),
        IssueType(
            "cccd_birth_year_mismatch", _REJECTED,
            "Số thứ 5–6 của CCCD (hai số cuối năm sinh) không khớp với năm sinh đã khai. Hãy kiểm tra lại số "
            "CCCD hoặc ngày sinh.",
            "CCCD digits 5-6 differ from the last two digits of the record's birth year.",
        ),
        IssueType(
            "cccd_birth_year_future", _REJECTED,
            "Năm sinh ghi trong số CCCD (số thứ 4–6) là năm trong tương lai: số CCCD sai. Hãy đối chiếu với thẻ.",
            "The birth year encoded in CCCD digits 4-6 is in the future.",
        ),
    )
}

_SEPARATORS = r"[\s\x{00a0}\x{2007}\x{202f}.\-–_]"
_SCIENTIFIC = r"^\d+(?:[.,]\d+)?[eE][+]?\d+$"
# A number in scientific notation that kept its digits: every digit written ("2.60628417E+8"), or at least 10
# significant ones ("1.2345678901E+11": a program's shortest form drops only trailing zeros), where Excel's
# display keeps 6 ("1.23457E+11") and the rest are lost for good.
_EXACT_SCIENTIFIC = re.compile(r"^\s*(\d)[.,](\d+)[eE]\+?(\d{1,2})\s*$")
_PROGRAM_DIGITS = 10
_NULL = pa.scalar(None, pa.string())


@cache
def place_codes() -> frozenset[str]:
    """The 63 CCCD place-of-birth codes: "0" + each pre-2025 province code ("001" … "096")."""
    return frozenset("0" + code for code in get_code_list("legacy_provinces").codes)


def normalize_id_number(arr: pa.Array) -> RuleResult:
    """Digits-only CCCD/CMND numbers from what sources send.

    Spaces, dots, dashes and an Excel apostrophe or ``.0`` suffix are removed. 12 digits is a CCCD (or a
    12-digit CMND, which has the same structure), 9 digits a CMND (kept, ``id_cmnd_legacy``). 11 or 10 digits
    are a CCCD that Excel stored as a number: the leading zero(s) are put back (``id_leading_zero_restored``)
    only when the result has a real place-of-birth code and a possible century/year; 8 digits not starting with
    0 are a CMND that lost its "0" (restored the same way); otherwise, like every other length, the value is null
    with ``id_length``. Scientific notation that kept every digit ("1.2345678901E+11", from a program) is
    written out; Excel's ("1.23457E+11") has lost digits and is refused (``id_excel_scientific``).

    Args:
        arr: a string (or integer) array of ID numbers as sent.

    Returns:
        The digits-only ID numbers (null when missing or refused) and the issue codes.
    """
    text = _as_text(arr)
    # Most numbers arrive as their 12 (CCCD) or 9 (CMND) digits and stay so: only the others are rewritten.
    plain = _true(pc.match_substring_regex(text, r"^(?:\d{12}|\d{9})$"))
    values = pc.if_else(plain, text, _NULL)
    issues = pc.if_else(pc.and_(plain, pc.equal(pc.utf8_length(text), 9)), pa.scalar("id_cmnd_legacy"), _NULL)
    rest = pc.invert(plain)
    if not pc.any(rest).as_py():
        return RuleResult(values, issues)
    written = _normalize_written(text.filter(rest))
    return RuleResult(pc.replace_with_mask(values, rest, written.values),
                      pc.replace_with_mask(issues, rest, written.issues))


def _normalize_written(text: pa.Array) -> RuleResult:
    """:func:`normalize_id_number` of values that are not already 12 or 9 digits."""
    text = _expand_exact_scientific(pc.utf8_trim_whitespace(text))
    scientific = _true(pc.match_substring_regex(text, _SCIENTIFIC))
    text = pc.replace_substring_regex(text, r"^'", "")  # Excel's text marker: '001185012345
    text = pc.replace_substring_regex(text, r"^(\d{8,12})\.0+$", r"\1")  # a float's str: 1090012345.0
    digits = pc.replace_substring_regex(text, _SEPARATORS, "")
    present = _true(pc.not_equal(digits, ""))
    all_digits = _true(pc.match_substring_regex(digits, r"^\d+$"))
    length = pc.if_else(all_digits, pc.utf8_length(digits), pa.scalar(None, pa.int32()))
    restored = pc.if_else(pc.equal(length, 11), pc.binary_join_element_wise("0", digits, ""),
                          pc.if_else(pc.equal(length, 10), pc.binary_join_element_wise("00", digits, ""), _NULL))
    restorable = pc.and_(all_digits, _true(_consistent_cccd(restored)))
    # An 8-digit CMND lost its "0" too: every 9-digit CMND of the 0x police ranges (01 Hà Nội …) starts with it.
    cmnd_restorable = _true(pc.and_(pc.equal(length, 8), pc.invert(pc.starts_with(digits, "0"))))
    restored = pc.if_else(cmnd_restorable, pc.binary_join_element_wise("0", digits, ""), restored)
    restorable = pc.or_(restorable, cmnd_restorable)
    bad_format = pc.and_(pc.and_(present, pc.invert(scientific)), pc.invert(all_digits))
    cccd = pc.and_(all_digits, pc.equal(length, 12))
    cmnd = pc.and_(all_digits, pc.equal(length, 9))
    bad_length = pc.and_(pc.and_(all_digits, present),
                         pc.invert(pc.or_(pc.or_(cccd, cmnd), restorable)))
    good = pc.or_(cccd, cmnd)
    values = pc.if_else(good, digits, pc.if_else(restorable, restored, _NULL))
    issues = _first_issue([
        (scientific, "id_excel_scientific"),
        (bad_format, "id_format"),
        (restorable, "id_leading_zero_restored"),
        (cmnd, "id_cmnd_legacy"),
        (_true(bad_length), "id_length"),
    ])
    return RuleResult(values, issues)


def check_cccd(id_number: pa.Array, sex_code: pa.Array | None = None,
               date_of_birth: pa.Array | None = None) -> RuleResult:
    """Check 12-digit ID numbers against their own structure and the record's sex and date of birth.

    Digits 1–3 must be a place-of-birth code, digit 4 must match the sex ("1" Nam → even, "2" Nữ → odd) and
    the century of the birth year, digits 5–6 the birth year's last two digits. Each mismatch is its own
    REJECTED code (several may apply); a missing or other sex ("3") or date skips that comparison. Without a
    date of birth, a year encoded in the future is still refused. 9-digit CMND numbers are passed through.

    Args:
        id_number: normalised ID numbers (output of :func:`normalize_id_number`).
        sex_code: sex codes of the ``sexes`` list ("1" Nam, "2" Nữ), or ``None``.
        date_of_birth: date32 dates, integer birth years, or ``None``.

    Returns:
        The ID numbers (null where rejected) and the issue codes.
    """
    ids = pc.cast(id_number, pa.string())
    n = len(ids)
    is_cccd = _true(pc.match_substring_regex(ids, r"^\d{12}$"))
    cccd = pc.if_else(is_cccd, ids, _NULL)
    prefix = pc.utf8_slice_codeunits(cccd, 0, 3)
    digit4 = pc.cast(pc.utf8_slice_codeunits(cccd, 3, 4), pa.int64())
    yy = pc.cast(pc.utf8_slice_codeunits(cccd, 4, 6), pa.int64())
    known = pc.is_in(prefix, value_set=pa.array(sorted(place_codes()), pa.string()))
    zero_prefix = _true(pc.starts_with(prefix, "0"))
    unknown = pc.and_(is_cccd, pc.invert(known))
    bad_place = _true(pc.and_(unknown, zero_prefix))
    abroad = _true(pc.and_(unknown, pc.invert(zero_prefix)))
    encoded_year = pc.add(pc.add(1900, pc.multiply(pc.divide(digit4, 2), 100)), yy)  # integer division
    future = _true(pc.greater(encoded_year, dt.date.today().year))

    female_digit = _true(pc.equal(pc.bit_wise_and(digit4, 1), 1))
    sex = pc.cast(sex_code, pa.string()) if sex_code is not None else pa.nulls(n, pa.string())
    sex_mismatch = _true(pc.and_(is_cccd, pc.or_(pc.and_(pc.equal(sex, "1"), female_digit),
                                                 pc.and_(pc.equal(sex, "2"), pc.invert(female_digit)))))
    year = _birth_year(date_of_birth, n)
    century_mismatch = _true(pc.not_equal(pc.add(1900, pc.multiply(pc.divide(digit4, 2), 100)),
                                          pc.multiply(pc.divide(year, 100), 100)))
    year_mismatch = _true(pc.not_equal(yy, pc.subtract(year, pc.multiply(pc.divide(year, 100), 100))))

    checks = [
        (bad_place, "cccd_place_code"),
        (abroad, "cccd_place_abroad"),
        (sex_mismatch, "cccd_sex_mismatch"),
        (century_mismatch, "cccd_century_mismatch"),
        (year_mismatch, "cccd_birth_year_mismatch"),
        (pc.and_(future, pc.is_null(year)), "cccd_birth_year_future"),
    ]
    rejected = pc.and_(is_cccd, _any([m for m, code in checks if ISSUES[code].severity is _REJECTED]))
    values = pc.if_else(rejected, _NULL, ids)
    return RuleResult(values, issues_where(checks))


def explain(code: str, value: str | None, *, sex_code: str | None = None,
            birth_year: int | None = None) -> tuple[str, str]:
    """The exact (Vietnamese, English) message of one row's issue, with the ID number masked.

    Meant for the few rows a rule flags or rejects, when the clean stage files its reasons.
    """
    issue = ISSUES[code]
    shown = mask(value)
    raw = value or ""
    digits = "".join(ch for ch in raw if ch.isdigit())
    detail_vi, detail_en = "", ""
    if code == "id_length":
        detail_vi = f"có {len(digits)} chữ số"
        detail_en = f"has {len(digits)} digits"
        if len(digits) == 8:
            detail_vi += " (có thể là CMND bị Excel bỏ số 0 ở đầu)"
            detail_en += " (maybe a CMND that lost its leading 0)"
    elif code in ("cccd_place_code", "cccd_place_abroad") and len(digits) >= 3:
        detail_vi = detail_en = f"3 số đầu = {digits[:3]}"
        detail_en = f"digits 1-3 = {digits[:3]}"
    elif code in ("cccd_sex_mismatch", "cccd_century_mismatch") and len(digits) >= 4:
        d4 = int(digits[3])
        sex_vi, sex_en = ("nữ", "female") if d4 % 2 else ("nam", "male")
        first = 1900 + d4 // 2 * 100
        detail_vi = f"số thứ 4 = {d4}: {sex_vi}, sinh {first}–{first + 99}"
        detail_en = f"digit 4 = {d4}: {sex_en}, born {first}-{first + 99}"
        if code == "cccd_sex_mismatch" and sex_code in ("1", "2"):
            detail_vi += f"; giới tính đã khai: {'Nam' if sex_code == '1' else 'Nữ'}"
            detail_en += f"; record says {'male' if sex_code == '1' else 'female'}"
        if code == "cccd_century_mismatch" and birth_year is not None:
            detail_vi += f"; năm sinh đã khai: {birth_year}"
            detail_en += f"; record's birth year: {birth_year}"
    elif code == "cccd_birth_year_mismatch" and len(digits) >= 6:
        detail_vi = f"số thứ 5–6 = {digits[4:6]}"
        detail_en = f"digits 5-6 = {digits[4:6]}"
        if birth_year is not None:
            detail_vi += f"; năm sinh đã khai: {birth_year}"
            detail_en += f"; record's birth year: {birth_year}"
    elif code == "cccd_birth_year_future" and len(digits) >= 6:
        year = 1900 + int(digits[3]) // 2 * 100 + int(digits[4:6])
        detail_vi = f"năm sinh theo số: {year}"
        detail_en = f"encoded birth year: {year}"
    if code == "id_excel_scientific" and "e" in raw.lower():
        shown = raw.strip()  # already lossy: shows no more than the 6 digits Excel kept
    suffix_vi = f" ({detail_vi})" if detail_vi else ""
    suffix_en = f" ({detail_en})" if detail_en else ""
    return f"Số giấy tờ {shown}{suffix_vi}: {issue.message_vi}", f"ID number {shown}{suffix_en}: {issue.message_en}"


def _consistent_cccd(candidate: pa.Array) -> pa.Array:
    """True where a 12-digit candidate has a real place code, a century digit up to 2000–2099 and a past year."""
    candidate = pc.if_else(_true(pc.match_substring_regex(candidate, r"^\d{12}$")), candidate, _NULL)
    known = pc.is_in(pc.utf8_slice_codeunits(candidate, 0, 3),
                     value_set=pa.array(sorted(place_codes()), pa.string()))
    digit4 = pc.cast(pc.utf8_slice_codeunits(candidate, 3, 4), pa.int64())
    yy = pc.cast(pc.utf8_slice_codeunits(candidate, 4, 6), pa.int64())
    this_century = pc.greater_equal(digit4, 2)
    plausible = pc.and_(pc.less_equal(digit4, 3),
                        pc.or_(pc.invert(this_century), pc.less_equal(yy, dt.date.today().year % 100)))
    return pc.and_(known, plausible)


def _expand_exact_scientific(text: pa.Array) -> pa.Array:
    """Scientific notation that kept every digit ("1.2345678901E+11") written out; the lossy kind is left."""
    if not pc.any(_true(pc.match_substring_regex(text, _SCIENTIFIC))).as_py():
        return text
    return pa.array([_expanded(v) for v in text.to_pylist()], pa.string())


def _expanded(value: str | None) -> str | None:
    m = _EXACT_SCIENTIFIC.match(value) if value else None
    if m is None:
        return value
    lead, decimals, exponent = m.group(1), m.group(2).rstrip("0"), int(m.group(3))
    if len(decimals) > exponent or (len(decimals) < exponent and len(decimals) + 1 < _PROGRAM_DIGITS):
        return value  # a fraction, or digits rounded away: left for the lossy-notation refusal
    return lead + decimals.ljust(exponent, "0")


def _birth_year(date_of_birth: pa.Array | None, n: int) -> pa.Array:
    if date_of_birth is None:
        return pa.nulls(n, pa.int64())
    year = getattr(date_of_birth, "year", None)  # a dates.DateResult carries year-precision births too
    if isinstance(year, pa.Array):
        return pc.cast(year, pa.int64())
    if pa.types.is_integer(date_of_birth.type):
        return pc.cast(date_of_birth, pa.int64())
    return pc.cast(pc.year(date_of_birth), pa.int64())


def _as_text(arr: pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def _true(mask: pa.Array) -> pa.Array:
    return pc.fill_null(mask, False)


def _any(masks: list[pa.Array]) -> pa.Array:
    out = masks[0]
    for m in masks[1:]:
        out = pc.or_(out, m)
    return out


def _first_issue(checks: list[tuple[pa.Array, str]]) -> pa.Array:
    """One code per row: the first check that holds (the checks are exclusive or ordered by importance)."""
    out = pa.nulls(len(checks[0][0]), pa.string())
    for mask_, code in reversed(checks):
        out = pc.if_else(mask_, pa.scalar(code), out)
    return out


