"""Codes said in words for the dashboard: a schedule ("@hourly" → "hằng giờ") and a rule ("phone_invalid" →
"Số điện thoại không hợp lệ"), each as (Vietnamese, English)."""

from __future__ import annotations

import re

from lienthong.stages.clean import ISSUES as CLEAN_ISSUES
from lienthong.stages.verify import ISSUES as VERIFY_ISSUES

_PRESETS = {
    "@hourly": ("hằng giờ", "hourly"), "@daily": ("hằng ngày", "daily"), "@midnight": ("hằng ngày", "daily"),
    "@weekly": ("hằng tuần", "weekly"), "@monthly": ("hằng tháng", "monthly"), "@yearly": ("hằng năm", "yearly"),
    "@annually": ("hằng năm", "yearly"), "@once": ("một lần", "once"),
}
_WEEKDAYS = (("Chủ nhật", "Sunday"), ("thứ Hai", "Monday"), ("thứ Ba", "Tuesday"), ("thứ Tư", "Wednesday"),
             ("thứ Năm", "Thursday"), ("thứ Sáu", "Friday"), ("thứ Bảy", "Saturday"))
_NUMBER = re.compile(r"^\d{1,2}$")

# The validation suite's rules (quality/messages.py, quality/rules/) and the stages' own, by name.
RULE_NAMES: dict[str, tuple[str, str]] = {
    "required": ("Thiếu giá trị bắt buộc", "Required value missing"),
    "in_code_list": ("Không có trong danh mục dùng chung", "Not in the shared code list"),
    "pattern": ("Sai định dạng", "Wrong format"),
    "max_length": ("Dài quá mức cho phép", "Longer than allowed"),
    "range": ("Ngoài khoảng cho phép", "Out of range"),
    "date_range": ("Ngày ngoài khoảng cho phép", "Date out of range"),
    "not_in_future": ("Ngày ở tương lai", "Date in the future"),
    "duplicate_key": ("Trùng mã trong cùng tệp", "Same key twice in one batch"),
    "joined_after_birth": ("Ngày vào hội trước ngày sinh", "Joined before birth"),
    "resolved_after_received": ("Ngày giải quyết trước ngày tiếp nhận", "Resolved before received"),
    "resolved_requires_time": ("Đã giải quyết nhưng thiếu thời điểm", "Resolved without a time"),
    "amount_below_limit": ("Số tiền vượt mức", "Amount above the limit"),
}


def schedule_words(cron: str | None) -> tuple[str, str]:
    """A source's schedule as people say it; a cron expression not of the usual shapes is shown as it is."""
    if not cron:
        return "khi có yêu cầu", "on demand"
    if cron in _PRESETS:
        return _PRESETS[cron]
    parts = cron.split()
    if len(parts) != 5:
        return cron, cron
    minute, hour, day, month, weekday = parts
    if minute.startswith("*/") and _NUMBER.match(minute[2:]) and parts[1:] == ["*"] * 4:
        return f"mỗi {minute[2:]} phút", f"every {minute[2:]} minutes"
    if _NUMBER.match(minute) and hour == "*" and (day, month, weekday) == ("*", "*", "*"):
        return f"hằng giờ, phút {int(minute)}", f"hourly, at minute {int(minute)}"
    if not (_NUMBER.match(minute) and _NUMBER.match(hour)) or month != "*":
        return cron, cron
    at = f"{int(hour)}:{int(minute):02d}"
    if (day, weekday) == ("*", "*"):
        return f"hằng ngày lúc {at}", f"daily at {at}"
    if day == "*" and weekday.isdigit() and int(weekday) <= 7:
        vi, en = _WEEKDAYS[int(weekday) % 7]
        return f"{vi} hằng tuần lúc {at}", f"{en}s at {at}"
    if weekday == "*" and _NUMBER.match(day):
        return f"ngày {int(day)} hằng tháng lúc {at}", f"monthly on day {int(day)} at {at}"
    return cron, cron


ISSUES = {**CLEAN_ISSUES, **VERIFY_ISSUES}


def rule_name(rule: str) -> tuple[str, str]:
    """A rule or issue code's short name; a code no one named is shown as it is."""
    if rule in RULE_NAMES:
        return RULE_NAMES[rule]
    issue = ISSUES.get(rule)
    if issue is None:
        return rule, rule
    return _first_clause(issue.message_vi), _first_clause(issue.message_en)


def _first_clause(text: str) -> str:
    return re.split(r"[:.(]", text, maxsplit=1)[0].strip() or text
