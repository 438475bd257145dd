"""Fields a list spreads over several columns, put back together: the date of birth written in the column of the
person's sex, and an address split by administrative level.

Why: the classic Vietnamese member list has "Ngày, tháng, năm sinh" over two columns "Nam | Nữ" — the date stands
in the column of the person's sex, so one cell gives both the date and the sex. And many lists give the address as
"Thôn/Xóm | Xã/Phường | Huyện/Quận | Tỉnh/Thành phố" columns, which the 2025 ward mapping
(:func:`lienthong.cleaning.addresses.map_addresses`) reads as one text. Which column holds which part is decided
from the headers (:mod:`lienthong.vietnamese.header_labels`); the map stage calls these rules.

Nothing is guessed: a date in both columns, or in neither, leaves the date and the sex empty and says why.
"""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.cleaning.base import IssueType, RuleResult, Severity, issues_where

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType(
            "dob_in_both_sex_columns", Severity.REJECTED,
            "Ngày sinh được ghi ở cả cột Nam và cột Nữ: không biết người này là nam hay nữ nên chưa nhận ngày sinh "
            "và giới tính. Hãy để ngày sinh ở đúng một cột, cột giới tính của người đó.",
            "A date of birth stands in both the male and the female column: the sex is unknown, neither is read.",
        ),
        IssueType(
            "dob_in_no_sex_column", Severity.FLAGGED,
            "Cột Nam và cột Nữ đều để trống: chưa biết ngày sinh và giới tính của người này; hãy bổ sung.",
            "Neither the male nor the female column holds a date of birth: date and sex unknown.",
        ),
    )
}

MALE, FEMALE = "Nam", "Nữ"  # labels of the ``sexes`` code list (1 Nam, 2 Nữ): the clean stage maps them to codes
# A tick instead of a date ("Giới tính" over "Nam | Nữ"): the column gives the sex alone.
_MARKS = frozenset({"x", "✓", "✔", "v", "có", "co", "1", "+"})
_NULL = pa.scalar(None, pa.string())


def date_and_sex(male: pa.Array | None, female: pa.Array | None) -> tuple[pa.Array, RuleResult]:
    """(date of birth, sex) from the two columns of a "Nam | Nữ" pair (either may be absent).

    Returns:
        The date as written (null for a mark, or when both or neither column is filled) and a
        :class:`RuleResult` of sex labels ("Nam"/"Nữ", null when unknown) with the issue codes.
    """
    n = len(male if male is not None else female)  # type: ignore[arg-type]
    male, female = (_filled(c, n) for c in (male, female))
    has_male, has_female = pc.is_valid(male), pc.is_valid(female)
    one = pc.xor(has_male, has_female)
    date = pc.if_else(one, pc.coalesce(male, female), _NULL)
    date = pc.if_else(_is_mark(date), _NULL, date)
    sex = pc.if_else(one, pc.if_else(has_male, pa.scalar(MALE), pa.scalar(FEMALE)), _NULL)
    both = pc.and_(has_male, has_female)
    neither = pc.invert(pc.or_(has_male, has_female))
    return date, RuleResult(sex, issues_where([(both, "dob_in_both_sex_columns"), (neither, "dob_in_no_sex_column")]))


def join_address(parts: list[tuple[str, str, pa.Array]]) -> pa.Array:
    """One address text from its parts, each ``(part, header, values)``, given most precise first (street,
    hamlet, ward, district, province: the order :func:`lienthong.cleaning.addresses.map_addresses` reads).

    A bare name under a header of one unit type gets that type ("Tân Lập" under "Xã" -> "Xã Tân Lập"). Under a
    header of several types a bare ward stays bare ("Xã/Phường": the mapper resolves it), but a bare hamlet or
    district gets the first type its header names ("Tân Lập" under "Thôn/Xóm" -> "Thôn Tân Lập", "Đan Phượng"
    under "Huyện/Quận" -> "Huyện Đan Phượng"): the word tells the mapper the level, which it reads the name at
    whatever the word, while a bare hamlet or district name could be read as a ward of the same name. A bare
    number is a "Phường 5" or a "Quận 3" (only those are numbered). A province keeps its bare name (unique).
    """
    n = len(parts[0][2])
    out = pa.nulls(n, pa.string())
    for part, header, values in parts:
        typed = _with_type(_filled(values, n), part, header)
        out = pc.coalesce(pc.binary_join_element_wise(out, typed, ", "), out, typed)
    return out


_HAMLET_TYPES = ("Tổ dân phố", "Khu phố", "Thôn", "Xóm", "Ấp", "Bản", "Khóm", "Tổ")
_TYPES = {
    "address_hamlet": _HAMLET_TYPES,
    "address_ward": ("Thị trấn", "Đặc khu", "Phường", "Xã"),
    "address_district": ("Thành phố", "Thị xã", "Huyện", "Quận"),
}
_NUMBERED = {"address_ward": "Phường", "address_district": "Quận"}  # "Phường 5", "Quận 3": no numbered xã/huyện
# A value that already says its type, in full, abbreviated ("P.", "TX", "Q1") or without diacritics ("Xa", "Thon").
_TYPED = re.compile(
    r"^(?:(?:số|ngõ|ngách|hẻm|kiệt|đường|phố|tổ dân phố|tổ|thôn|xóm|ấp|bản|khóm|khu phố|khu|làng|xã|phường|"
    r"thị trấn|đặc khu|huyện|quận|thị xã|thành phố|tỉnh)(?:\s|\d|$)"
    r"|(?:so|ngo|duong|to dan pho|thon|xom|ap|ban|khom|khu pho|xa|phuong|thi tran|huyen|quan|thi xa|thanh pho|tinh)"
    r"\s[a-z0-9]"
    r"|(?:tdp|kp|tt|tx|tp|p|f|x|q|h|t|đk)(?:\.|\s*\d)|(?:tdp|kp|tt|tx|tp)\s)")


def _type_word(part: str, header: str) -> str | None:
    """The unit type a bare value of ``part`` is given under ``header`` (see :func:`join_address`), or None."""
    types = _TYPES.get(part, ())
    child = header.rpartition(" / ")[2].casefold()
    named = sorted((t for t in types if t.casefold() in child), key=lambda t: child.index(t.casefold()))
    if part in ("address_hamlet", "address_district"):
        return named[0] if named else None
    words = {w.strip() for w in re.split(r"[/,;]|\bhoặc\b", child) if w.strip()}
    return named[0] if len(named) == 1 and len(words) == 1 else None


def _with_type(values: pa.Array, part: str, header: str) -> pa.Array:
    type_word, numbered = _type_word(part, header), _NUMBERED.get(part)
    if (type_word is None and numbered is None) or len(values) == 0:
        return values
    encoded = values.dictionary_encode()  # few distinct units per column: decided once each

    def typed(value: str | None) -> str | None:
        if value is None or _says_type(value):
            return value
        word = numbered if value.isdigit() and numbered else type_word
        return f"{word} {value}" if word else value

    return pa.array([typed(v) for v in encoded.dictionary.to_pylist()], pa.string()).take(encoded.indices)


def _says_type(value: str) -> bool:
    return bool(_TYPED.match(unicodedata.normalize("NFC", value).casefold()))


def _filled(values: pa.Array | None, n: int) -> pa.Array:
    """A string column with blank cells as null (a cell of spaces is empty, not a value)."""
    if values is None:
        return pa.nulls(n, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = pc.utf8_trim_whitespace(values if pa.types.is_string(values.type) else values.cast(pa.string()))
    return pc.if_else(pc.equal(text, ""), _NULL, text)


def _is_mark(values: pa.Array) -> pa.Array:
    return pc.fill_null(pc.is_in(pc.utf8_lower(values), value_set=pa.array(sorted(_MARKS))), False)
