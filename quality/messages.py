"""What a rule says to people: the clerk's Vietnamese message, the engineer's English one, and a description.

Every expectation the hub runs carries a :class:`RuleText` in its GX ``meta`` (under the ``lienthong`` key).
The suite is thus self-describing: whoever holds a suite or a GX result can say, in both languages, what was
checked and what a failing row must fix, without a side table keyed by expectation id.

Row messages are templates. ``{value}`` is the offending value of the rule's first column, ``{<field>}`` the
value of any column the rule concerns (``{date_of_birth}``), ``{length}`` the length of the first column's
value. Values are masked before they are substituted, so a template can never leak an ID number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from schemas.base import FieldKind, FieldSpec

META_KEY = "lienthong"

# Human wording of the contracts' patterns, keyed by the exact regex so that a changed pattern falls back to
# the generic wording instead of describing a rule that no longer exists.
PATTERN_WORDING: dict[str, tuple[str, str]] = {
    r"^(\d{9}|\d{12})$": ("phải gồm 9 hoặc 12 chữ số", "must be 9 or 12 digits"),
    r"^0\d{9,10}$": (
        "phải bắt đầu bằng số 0 và gồm 10 hoặc 11 chữ số",
        "must start with 0 and have 10 or 11 digits",
    ),
}


@dataclass(frozen=True)
class RuleText:
    """The words of one expectation.

    Attributes:
        rule: stable rule id, copied into :attr:`Reason.rule` (``required``, ``in_code_list``, ...).
        columns: the contract fields the rule reads; the first is the one a failing row is filed under.
        message_vi: row message template for the organisation's clerk: what is wrong and what to do.
        message_en: row message template for the engineer.
        description_vi: what the rule checks, for the quality report.
        description_en: the same in English.
    """

    rule: str
    columns: tuple[str, ...]
    message_vi: str
    message_en: str
    description_vi: str
    description_en: str

    def to_meta(self) -> dict[str, Any]:
        """The GX ``meta`` dict to attach to the expectation (JSON-serialisable)."""
        data = asdict(self)
        data["columns"] = list(self.columns)
        return {META_KEY: data}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any] | None) -> RuleText:
        """Read the words back from an expectation's ``meta``.

        Raises:
            KeyError: the expectation was not built by the hub (it has no ``lienthong`` meta).
        """
        if not meta or META_KEY not in meta:
            msg = "expectation has no 'lienthong' meta; build suites with quality.suites.build_suite"
            raise KeyError(msg)
        data = dict(meta[META_KEY])
        data["columns"] = tuple(data["columns"])
        return cls(**data)

    def render(self, context_vi: Mapping[str, str], context_en: Mapping[str, str]) -> tuple[str, str]:
        """The Vietnamese and English row messages, filled in with masked values.

        Args:
            context_vi: values as a clerk reads them (:func:`display`: dd/mm/yyyy, 1.000.000).
            context_en: values as stored (ISO dates, plain numbers).
        """
        return self.message_vi.format_map(context_vi), self.message_en.format_map(context_en)


def literal(text: str) -> str:
    """Escape ``text`` (a label, a code-list title) so it can be put into a message template as it is."""
    return text.replace("{", "{{").replace("}", "}}")


def display(value: object, kind: FieldKind | None = None) -> str:
    """A value as a Vietnamese clerk reads it: dates dd/mm/yyyy, money with dot thousands separators."""
    if isinstance(value, datetime):
        if kind is FieldKind.DATE or (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    whole = isinstance(value, int | float) and float(value).is_integer()
    if kind in (FieldKind.MONEY, FieldKind.INTEGER) and whole:
        return f"{int(value):,}".replace(",", ".")
    return str(value)


def _number(value: float) -> str:
    return display(int(value) if float(value).is_integer() else value, FieldKind.INTEGER)


def required(field: FieldSpec) -> RuleText:
    """Words of ``expect_column_values_to_not_be_null`` for a required field."""
    label = literal(field.label_vi)
    return RuleText(
        rule="required",
        columns=(field.name,),
        message_vi=f"Thiếu {label} — bắt buộc phải có. Hãy bổ sung {label} rồi gửi lại.",
        message_en=f"{field.name} ({label}) is missing but required; fill it in at the source.",
        description_vi=f"{label} bắt buộc phải có",
        description_en=f"{field.name} is required",
    )


def in_code_list(field: FieldSpec, list_title_vi: str, list_name: str, version: str) -> RuleText:
    """Words of ``expect_column_values_to_be_in_set`` for a field bound to a shared code list."""
    label, title = literal(field.label_vi), literal(list_title_vi)
    return RuleText(
        rule="in_code_list",
        columns=(field.name,),
        message_vi=(
            f"Giá trị '{{value}}' của {label} không có trong danh mục dùng chung. "
            f"Hãy dùng một mã của danh mục «{title}»."
        ),
        message_en=f"value '{{value}}' of {field.name} is not in code list {list_name} (version {version})",
        description_vi=f"{label} thuộc danh mục dùng chung «{title}» (phiên bản {version})",
        description_en=f"{field.name} is a code of {list_name} (version {version})",
    )


def pattern(field: FieldSpec, regex: str) -> RuleText:
    """Words of ``expect_column_values_to_match_regex``; known patterns are described in plain words."""
    label = literal(field.label_vi)
    vi, en = PATTERN_WORDING.get(regex, ("không đúng định dạng quy định", f"must match {literal(regex)}"))
    return RuleText(
        rule="pattern",
        columns=(field.name,),
        message_vi=f"{label} {vi} (đang là '{{value}}'). Hãy kiểm tra và sửa lại.",
        message_en=f"{field.name} {en}; got '{{value}}'",
        description_vi=f"{label} {vi}",
        description_en=f"{field.name} {en}",
    )


def max_length(field: FieldSpec, limit: int) -> RuleText:
    """Words of ``expect_column_value_lengths_to_be_between`` for a field with a maximum length."""
    label = literal(field.label_vi)
    return RuleText(
        rule="max_length",
        columns=(field.name,),
        message_vi=f"{label} dài quá {limit} ký tự (đang có {{length}} ký tự). Hãy rút gọn.",
        message_en=f"{field.name} is longer than {limit} characters ({{length}})",
        description_vi=f"{label} không quá {limit} ký tự",
        description_en=f"{field.name} has at most {limit} characters",
    )


def number_range(field: FieldSpec, minimum: float | None, maximum: float | None) -> RuleText:
    """Words of ``expect_column_values_to_be_between`` for an INTEGER or MONEY field."""
    label = literal(field.label_vi)
    if minimum is not None and maximum is not None:
        vi = f"phải từ {_number(minimum)} đến {_number(maximum)}"
        en = f"must be between {minimum:g} and {maximum:g}"
    elif minimum is not None:
        vi, en = f"phải từ {_number(minimum)} trở lên", f"must be at least {minimum:g}"
    else:
        assert maximum is not None
        vi, en = f"không được lớn hơn {_number(maximum)}", f"must be at most {maximum:g}"
    return RuleText(
        rule="range",
        columns=(field.name,),
        message_vi=f"{label} {vi} (đang là {{value}}). Hãy kiểm tra lại.",
        message_en=f"{field.name} {en}; got {{value}}",
        description_vi=f"{label} {vi}",
        description_en=f"{field.name} {en}",
    )


def date_range(field: FieldSpec, first_year: int | None) -> RuleText:
    """Words of ``expect_column_values_to_be_between`` for a date: from 1 January ``first_year`` to today."""
    label = literal(field.label_vi)
    if first_year is not None:
        vi = f"phải từ ngày 01/01/{first_year} đến hôm nay, không được ở tương lai"
        en = f"must be between {first_year}-01-01 and today"
    else:
        vi, en = "không được ở tương lai", "must not be in the future"
    return RuleText(
        rule="date_range",
        columns=(field.name,),
        message_vi=f"{label} {{value}} không hợp lệ: {vi}. Hãy kiểm tra lại ngày, tháng, năm.",
        message_en=f"{field.name} {en}; got {{value}}",
        description_vi=f"{label} {vi}",
        description_en=f"{field.name} {en}",
    )


def not_in_future(field: FieldSpec) -> RuleText:
    """Words of ``expect_column_values_to_be_between`` for a datetime that may not be in the future."""
    label = literal(field.label_vi)
    return RuleText(
        rule="not_in_future",
        columns=(field.name,),
        message_vi=f"{label} {{value}} nằm ở tương lai. Hãy kiểm tra lại ngày giờ.",
        message_en=f"{field.name} is in the future; got {{value}}",
        description_vi=f"{label} không được ở tương lai",
        description_en=f"{field.name} is not in the future",
    )
