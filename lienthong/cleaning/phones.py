"""Phone numbers: one canonical national form, the 2018 11-digit mobile numbers converted, the rest validated.

Why: the phone is the second key for matching members, and it arrives as "+84 912 345 678", "0084-912.345.678",
"84912345678", "912345678" (Excel dropped the 0), or an 11-digit mobile number from before the 2018 prefix
conversion. The canonical form is the national one: 10 digits for a mobile ("0912345678"), 11 for a landline
with its area code ("02438256789").

Validation uses the ``phonenumbers`` package (region VN, type mobile or fixed line). Calling it for each of a
million distinct numbers would take a minute, so it is called once per distinct (first 6 digits, length): in its
Vietnamese metadata (9.0.x) every mobile and fixed-line pattern fixes at most the first 4 national digits and
then only counts digits (``\\d{6}``, ``\\d{7}``), so the number's validity and type follow from that key
(``tests/lienthong/cleaning/test_phones.py`` checks this against per-number validation).

Not done: the 2017 landline area-code change (e.g. 04 → 024, 08 → 028, 0511 → 0236): such numbers are refused
(``phone_invalid``) rather than converted from an unverified table.
"""

from __future__ import annotations

from functools import cache

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneNumberType

from lienthong.cleaning.base import IssueType, RuleResult, Severity
from lienthong.masking import mask

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType(
            "phone_converted_2018", Severity.CHANGED,
            "Số di động 11 số cũ đã được đổi sang số 10 số theo bảng chuyển đổi đầu số năm 2018 "
            "(ví dụ 0168… → 038…). Không cần làm gì.",
            "Pre-2018 11-digit mobile number converted to its 10-digit successor (2018 prefix conversion).",
        ),
        IssueType(
            "phone_leading_zero_restored", Severity.CHANGED,
            "Số điện thoại bị Excel bỏ mất số 0 ở đầu; đã thêm lại. Lần sau hãy định dạng cột là Văn bản (Text).",
            "Phone number lost its leading 0 (stored as a number); restored.",
        ),
        IssueType(
            "phone_invalid", Severity.REJECTED,
            "Số điện thoại không hợp lệ: cần số di động 10 số (ví dụ 0912345678) hoặc số cố định kèm mã vùng "
            "11 số (ví dụ 02438256789), mỗi ô một số. Hãy kiểm tra lại với hội viên.",
            "Not a valid Vietnamese mobile (10 digits) or landline with area code (11 digits).",
        ),
    )
}

# The 2018 conversion of 11-digit mobile numbers (old 4-digit prefix -> new 3-digit prefix), per
# /work/shared/VIETNAMESE_DATA.md: Viettel, MobiFone, Vinaphone, Vietnamobile, Gmobile.
CONVERSION_2018: dict[str, str] = {
    **{f"016{d}": f"03{d}" for d in "23456789"},
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0186": "056", "0188": "058",
    "0199": "059",
}
_ACCEPTED_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# "0" + the 4 first national digits: what the VN patterns of phonenumbers look at (checked over every 4-digit
# prefix and both lengths: the 5th digit never changes the verdict). At most 20,000 keys, each judged once.
_KEY_DIGITS = 5
_NULL = pa.scalar(None, pa.string())


def normalize_phone(arr: pa.Array) -> RuleResult:
    """National-form Vietnamese phone numbers (mobile 10 digits, landline 11), or null with ``phone_invalid``.

    Accepts +84 / 84 / 0084 / 0 forms with any separators (spaces, dots, dashes, brackets, slashes), also
    "+84 (0) 912…". A number of 9 or 10 digits without its leading 0 gets it back
    (``phone_leading_zero_restored``); an 11-digit mobile number of the 2018 table is converted
    (``phone_converted_2018``). The result must then be a valid mobile or fixed-line number for
    ``phonenumbers``. Two numbers in one cell are refused, not split.

    Args:
        arr: a string (or integer) array of phone numbers as sent.

    Returns:
        The canonical numbers (null when missing or refused) and the issue codes.
    """
    text = _as_text(arr)
    # Most numbers arrive in the national mobile form ("0912345678"): only the others are rewritten.
    plain = pc.fill_null(pc.match_substring_regex(text, r"^0[1-9]\d{8}$"), False)
    national, present, changes = text, plain, pa.nulls(len(text), pa.string())
    rest = pc.invert(plain)
    if pc.any(rest).as_py():
        written = _national_form(text.filter(rest))
        national, present, changes = (pc.replace_with_mask(base, rest, new) for base, new in
                                      zip((national, present, changes), written, strict=True))
    valid = pc.and_(_valid(national), present)
    values = pc.if_else(valid, national, _NULL)
    rejected = pc.and_(present, pc.invert(valid))
    issues = pc.if_else(rejected, pa.scalar("phone_invalid"), changes)
    return RuleResult(values, issues)


def _national_form(text: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(national form, whether anything was sent, the changes made) of numbers written otherwise."""
    text = pc.utf8_trim_whitespace(text)
    compact = pc.replace_substring_regex(text, r"[\s\x{00a0}\x{2007}\x{202f}.\-–()/_']", "")
    present = pc.fill_null(pc.not_equal(compact, ""), False)
    # International forms -> national: "+84…", "0084…", "84…" (only 11–12 digits: "84912345678"), "+840…".
    intl = pc.match_substring_regex(compact, r"^(?:\+84|0084|84\d{9,10}$)")
    national = pc.replace_substring_regex(compact, r"^(?:\+84|0084|84)0?", "0")
    national = pc.if_else(intl, national, compact)
    lost_zero = pc.fill_null(pc.match_substring_regex(national, r"^[1-9]\d{8,9}$"), False)
    national = pc.if_else(lost_zero, pc.binary_join_element_wise("0", national, ""), national)
    old_prefix = pc.utf8_slice_codeunits(national, 0, 4)
    is_old = pc.fill_null(pc.and_(pc.is_in(old_prefix, value_set=pa.array(list(CONVERSION_2018))),
                                  pc.match_substring_regex(national, r"^\d{11}$")), False)
    new_prefix = pc.take(pa.array(list(CONVERSION_2018.values())),
                         pc.index_in(old_prefix, value_set=pa.array(list(CONVERSION_2018))))
    converted = pc.binary_join_element_wise(new_prefix, pc.utf8_slice_codeunits(national, 4, 11), "")
    national = pc.if_else(is_old, converted, national)
    changes = pc.if_else(lost_zero, pa.scalar("phone_leading_zero_restored"), _NULL)
    both = pc.binary_join_element_wise(changes, "phone_converted_2018", ";")
    changes = pc.if_else(is_old, pc.coalesce(both, pa.scalar("phone_converted_2018")), changes)
    return national, present, changes


def is_valid_national(number: str) -> bool:
    """Whether ``phonenumbers`` accepts a national-form number as a Vietnamese mobile or landline."""
    if not number.isdigit() or not number.startswith("0") or not 10 <= len(number) <= 11:
        return False
    try:
        parsed = phonenumbers.parse(number, "VN")
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number_for_region(parsed, "VN"):
        return False
    kind = phonenumbers.number_type(parsed)
    # Canonical lengths: a mobile is 10 digits, a landline 11 (phonenumbers knows no other for VN today).
    return kind in _ACCEPTED_TYPES and "0" + str(parsed.national_number) == number


def explain(code: str, value: str | None) -> tuple[str, str]:
    """The exact (Vietnamese, English) message of one row's issue, with the number masked (``lienthong.masking``)."""
    issue = ISSUES[code]
    shown = mask(value)
    return f"Số điện thoại {shown}: {issue.message_vi}", f"Phone {shown}: {issue.message_en}"


def _valid(national: pa.Array) -> pa.Array:
    """Validity per row, computed with ``phonenumbers`` once per distinct (first 6 digits, length) key."""
    shaped = pc.fill_null(pc.match_substring_regex(national, r"^0\d{9,10}$"), False)
    candidates = pc.if_else(shaped, national, _NULL)
    keys = pc.binary_join_element_wise(pc.utf8_slice_codeunits(candidates, 0, _KEY_DIGITS),
                                       pc.cast(pc.utf8_length(candidates), pa.string()), ":")
    encoded = pc.dictionary_encode(keys)
    verdict = [_key_valid(key) for key in encoded.dictionary.to_pylist()]
    if not verdict:
        return pa.array([False] * len(national), pa.bool_())
    return pc.fill_null(pc.take(pa.array(verdict, pa.bool_()), encoded.indices), False)


@cache
def _key_valid(key: str) -> bool:
    prefix, length = key.split(":")
    return is_valid_national(prefix + "0" * (int(length) - len(prefix)))


def _as_text(arr: pa.Array) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
