"""The usual Vietnamese labels of a member list's columns, and the matching of a file's headers to contract fields.

Used by `check`, `normalize` and the files source they build (``lienthong.file_check``); a header typed in a legacy
font ("Hä vµ tªn" is TCVN3 for "Họ và tên") is matched by its legacy readings too.
"""

from __future__ import annotations

from collections.abc import Mapping

from lienthong.errors import MalformedInput
from lienthong.vietnamese.folding import match_key
from lienthong.vietnamese.legacy_encodings import decode_tcvn3, decode_viqr, decode_vni

HEADER_LABELS: dict[str, tuple[str, ...]] = {
    "member_id": ("Mã hội viên", "Mã đoàn viên", "Mã HV", "Mã số", "ID"),
    "full_name": ("Họ và tên", "Họ tên", "Họ và tên hội viên", "Tên hội viên", "Họ tên đầy đủ"),
    "sex": ("Giới tính", "Giới", "GT", "Nam/Nữ"),
    "date_of_birth": ("Ngày sinh", "Ngày tháng năm sinh", "Năm sinh", "NS", "Ngày, tháng, năm sinh"),
    "id_number": ("Số CCCD", "CCCD/CMND", "CCCD", "CMND", "Số CMND", "Số CCCD/CMND", "Số định danh",
                  "Số định danh cá nhân", "CMND/CCCD"),
    "phone": ("Số điện thoại", "SĐT", "SDT", "Điện thoại", "ĐT", "Di động", "Số di động"),
    "address": ("Địa chỉ", "Nơi ở hiện nay", "Chỗ ở hiện nay", "Nơi cư trú", "Địa chỉ thường trú", "Quê quán"),
    "ethnicity_code": ("Dân tộc",),
    "religion_code": ("Tôn giáo",),
    "ward_code": ("Mã xã", "Mã xã/phường", "Mã phường/xã", "Mã ĐVHC"),
    "branch": ("Chi hội", "Chi đoàn", "Chi hội/chi đoàn"),
    "joined_on": ("Ngày vào hội", "Ngày vào đoàn", "Ngày kết nạp"),
    "status": ("Trạng thái",),
}


def match_headers(columns: list[str], mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Contract field -> input column, from an explicit ``mapping`` or the usual labels (first match wins)."""
    if mapping:
        missing = [c for c in mapping.values() if c not in columns]
        if missing:
            msg = f"the mapping names columns the file does not have: {', '.join(missing)}"
            raise MalformedInput(msg, message_vi=f"Tệp không có các cột: {', '.join(missing)}")
        return dict(mapping)
    by_key = {}
    for c in reversed(columns):
        # A file typed in a legacy font has its headers in it too ("Hä vµ tªn" is TCVN3 for "Họ và tên").
        for reading in (c, decode_tcvn3(c), decode_vni(c), decode_viqr(c)):
            by_key.setdefault(match_key(reading), c)
    found: dict[str, str] = {}
    for name, labels in HEADER_LABELS.items():
        for label in (name, *labels):
            if match_key(label) in by_key:
                found[name] = by_key[match_key(label)]
                break
    return found


def header_field(cell: str) -> str | None:
    """The contract field a header cell names, by any of its usual labels or legacy readings, else None.

    The readers use it to tell a header row from the title block above it (``connectors.formats``).
    """
    keys = {match_key(reading) for reading in (cell, decode_tcvn3(cell), decode_vni(cell), decode_viqr(cell))}
    return next((name for name, labels in HEADER_LABELS.items()
                 if any(match_key(label) in keys for label in (name, *labels))), None)
