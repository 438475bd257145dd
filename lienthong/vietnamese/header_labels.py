"""The usual Vietnamese labels of a member list's columns, and the matching of a file's headers to contract fields.

Used by every door that reads a file without a mapping (``check``, ``normalize``, through
``lienthong.file_check.source_for``); a header typed in a legacy font ("Hä vµ tªn" is TCVN3 for "Họ và tên") is
matched by its legacy readings too.

Clerks name columns in many ways ("Họ và tên", "Họ, tên", "HỌ VÀ TÊN (*)", "Họ và tên\\nhội viên"), and a two-row
header arrives flattened as "<parent> / <child>" ("Ngày, tháng, năm sinh / Nam", "Địa chỉ / Thôn/Xóm"). Such a
child column holds one PART of a field (:data:`COLUMN_PARTS`): the date of birth written in the column of the
person's sex, or one level of an address; the map stage (``lienthong.stages.map``) puts the parts together.

Matching is scored, not first-come: an exact label beats a label spelled with other punctuation, which beats a
label contained in a longer header, which beats a near spelling (a typo); each column is claimed once, by its best
field. Anything but an exact label is reported as GUESSED, so the clerk can see it and override it with a mapping.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from lienthong.errors import MalformedInput
from lienthong.vietnamese.folding import match_key
from lienthong.vietnamese.legacy_encodings import decode_tcvn3, decode_viqr, decode_vni

HEADER_LABELS: dict[str, tuple[str, ...]] = {
    "member_id": ("Mã hội viên", "Mã đoàn viên", "Mã HV", "Mã số", "ID", "Mã số hội viên", "Mã định danh hội viên"),
    "full_name": ("Họ và tên", "Họ tên", "Họ và tên hội viên", "Tên hội viên", "Họ tên đầy đủ",
                  "Họ và tên đoàn viên", "Họ tên hội viên", "Họ và tên khai sinh"),
    "sex": ("Giới tính", "Giới", "GT", "Nam/Nữ", "Nam, Nữ", "Phái"),
    "date_of_birth": ("Ngày sinh", "Ngày tháng năm sinh", "Năm sinh", "NS", "Ngày, tháng, năm sinh",
                      "Ngày/tháng/năm sinh", "Sinh ngày", "Năm sinh/Ngày sinh"),
    "id_number": ("Số CCCD", "CCCD/CMND", "CCCD", "CMND", "Số CMND", "Số CCCD/CMND", "Số định danh",
                  "Số định danh cá nhân", "CMND/CCCD", "Số CMND/CCCD", "Căn cước công dân", "Số căn cước",
                  "Số căn cước công dân", "Chứng minh nhân dân", "Số chứng minh nhân dân", "Mã định danh",
                  "Số thẻ căn cước", "Số ĐDCN"),
    "phone": ("Số điện thoại", "SĐT", "SDT", "Điện thoại", "ĐT", "Di động", "Số di động", "Điện thoại liên hệ",
              "Số ĐT", "ĐTDĐ", "Điện thoại di động"),
    "address": ("Địa chỉ", "Nơi ở hiện nay", "Chỗ ở hiện nay", "Nơi thường trú", "Nơi cư trú", "Địa chỉ thường trú",
                "Thường trú", "Địa chỉ liên hệ", "Nơi ở", "Địa chỉ cư trú", "Nơi đăng ký thường trú", "Quê quán"),
    "ethnicity_code": ("Dân tộc",),
    "religion_code": ("Tôn giáo",),
    "ward_code": ("Mã xã", "Mã xã/phường", "Mã phường/xã", "Mã ĐVHC"),
    "branch": ("Chi hội", "Chi đoàn", "Chi hội/chi đoàn", "Tổ hội", "Đơn vị"),
    "joined_on": ("Ngày vào hội", "Ngày vào đoàn", "Ngày kết nạp", "Ngày vào Hội", "Ngày kết nạp hội"),
    "status": ("Trạng thái", "Tình trạng"),
}

# Columns that each hold one part of a field, and the fields the part feeds. The date of birth written in the
# column of the person's sex ("Ngày, tháng, năm sinh" over "Nam | Nữ") gives both the date and the sex; a mark
# ("x") in such a column gives the sex alone. The address levels are joined into one address, in this order.
COLUMN_PARTS: dict[str, tuple[str, ...]] = {
    "date_of_birth_male": ("date_of_birth", "sex"),
    "date_of_birth_female": ("date_of_birth", "sex"),
    "address_street": ("address",),
    "address_hamlet": ("address",),
    "address_ward": ("address",),
    "address_district": ("address",),
    "address_province": ("address",),
}
ADDRESS_PARTS = ("address_street", "address_hamlet", "address_ward", "address_district", "address_province")

PART_LABELS: dict[str, tuple[str, ...]] = {
    "address_street": ("Số nhà", "Số nhà, đường phố", "Số nhà/Đường", "Đường", "Đường phố", "Số nhà, đường"),
    "address_hamlet": ("Thôn/Xóm", "Thôn", "Xóm", "Ấp", "Bản", "Tổ dân phố", "Khu phố", "Khóm", "Tổ", "Thôn/Ấp",
                       "Thôn/Bản", "Thôn/Tổ dân phố", "Thôn/Xóm/Ấp/Bản", "Thôn/Xóm/Ấp", "Ấp/Khu phố",
                       "Thôn/Tổ", "Tổ/Khu phố", "Thôn, tổ dân phố", "Thôn/Xóm/Tổ dân phố", "Thôn/Tổ dân phố/Khu phố",
                       "Thôn/Xóm/Ấp/Bản/Tổ dân phố", "Ấp/Khóm", "Khu phố/Ấp", "Bản/Tổ"),
    "address_ward": ("Xã/Phường", "Xã", "Phường", "Thị trấn", "Phường/Xã", "Xã/Phường/Thị trấn", "Xã/Thị trấn",
                     "Phường/Xã/Thị trấn", "Xã, phường, thị trấn", "Xã/Phường/Đặc khu"),
    "address_district": ("Huyện/Quận", "Huyện", "Quận", "Thị xã", "Quận/Huyện", "Huyện/Quận/Thị xã",
                         "Huyện/Quận/Thị xã/Thành phố", "Huyện/Thị xã", "Huyện/Thị xã/Thành phố",
                         "Quận/Huyện/Thị xã", "Huyện/Thành phố", "Huyện, quận, thị xã"),
    "address_province": ("Tỉnh/Thành phố", "Tỉnh", "Tỉnh/TP", "Tỉnh, thành phố", "Tỉnh/Thành", "Tỉnh/TP trực thuộc TW"),
}
# The child of a "Nam | Nữ" pair, compared WITH diacritics: folded, "Năm" (year) would read as "Nam" (male).
_MALE, _FEMALE = frozenset({"nam"}), frozenset({"nữ", "nu"})

_EXACT, _LOOSE, _CONTAINED, _NEAR = 4, 3, 2, 1  # how a header matched a label, best first
_NEAR_RATIO = 0.88  # difflib ratio of two loose keys for a typo ("Họ và tê") to count as the label
_DECORATION = re.compile(r"\(\s*\*+\s*\)|\*+|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\[\d+\]|\s\(\d{1,2}\)$|:$")
_PARENTHETICAL = re.compile(r"\([^)]*\)")
_PUNCTUATION = re.compile(r"[^\w]+")
_FILLERS = frozenset({"va", "hoac", "cua"})  # "Họ và tên" is "Họ tên"; "Xã hoặc phường" is "Xã/Phường"
_CONTAINABLE_ACRONYMS = frozenset({"cccd", "cmnd", "sdt"})  # one word, yet never part of another word


@dataclass(frozen=True)
class ColumnMatch:
    """What each column of a file was taken for: field (or part, :data:`COLUMN_PARTS`) -> column, and those of
    them that were guessed (not an exact label), which ``check`` and ``normalize`` show the clerk."""

    fields: dict[str, str]
    guessed: dict[str, str] = field(default_factory=dict)


def clean_header(cell: str) -> str:
    """A header cell without what clerks add around the label: a BOM, line breaks, NFD accents, the "(*)" of a
    required column, footnote marks ("¹", "[1]", "*"), a column number "(3)" and a trailing colon."""
    text = unicodedata.normalize("NFC", cell.replace("\ufeff", ""))
    return " ".join(_DECORATION.sub(" ", text).split())


def match_headers(columns: list[str], mapping: Mapping[str, str | None] | None = None) -> ColumnMatch:
    """Field (or part) -> column of a file, from the usual labels, an explicit ``mapping`` winning field by field.

    ``mapping`` names, for some fields, the column to read (the clerk's ``--mapping``); a field mapped to nothing
    (null or "") is not read at all. The other fields are found among the remaining columns by their labels.

    Raises:
        MalformedInput: the mapping names a column the file does not have.
    """
    mapping = dict(mapping or {})
    missing = [c for c in mapping.values() if c and c not in columns]
    if missing:
        msg = f"the mapping names columns the file does not have: {', '.join(missing)}"
        raise MalformedInput(msg, message_vi=f"Tệp không có các cột: {', '.join(missing)}")
    fields = {name: column for name, column in mapping.items() if column}
    claimed = set(fields.values())
    candidates = sorted(
        ((score, index, name, column) for index, column in enumerate(columns) if column not in claimed
         for name, score in _scores(column).items() if name not in mapping),
        key=lambda c: (-c[0], c[1]))
    guessed: dict[str, str] = {}
    for score, _index, name, column in candidates:
        if name in fields or column in claimed or _conflicts(name, fields):
            continue
        fields[name] = column
        claimed.add(column)
        if score <= _LOOSE * 100:  # below every exact label, whatever its rank
            guessed[name] = column
    return ColumnMatch(fields, guessed)


def header_field(cell: str) -> str | None:
    """The contract field a header cell names, by one of its usual labels (any punctuation) or legacy readings,
    else None. The readers use it to tell a header row from the title block above it (``connectors.formats``)."""
    scores = {name: s for name, s in _scores(cell).items() if name in HEADER_LABELS and s >= _LOOSE * 100}
    return max(scores, key=lambda name: scores[name]) if scores else None


def _conflicts(name: str, fields: Mapping[str, str]) -> bool:
    """The columns of a "Nam | Nữ" pair give the sex: they are not read beside a "Giới tính" column. (A "Ngày
    sinh" column may stand beside them, when they hold ticks: it gives the date, the ticks the sex.)"""
    if name == "sex":
        return "date_of_birth_male" in fields or "date_of_birth_female" in fields
    if name in ("date_of_birth_male", "date_of_birth_female"):
        return "sex" in fields
    return False


def _scores(column: str) -> dict[str, int]:
    """Field or part -> the best score of ``column`` for it (level * 100 minus the label's rank), over the
    header's own reading and its legacy-font readings; a "<parent> / <child>" header is scored by its child."""
    best: dict[str, int] = {}
    for reading in dict.fromkeys((column, decode_tcvn3(column), decode_vni(column), decode_viqr(column))):
        header = clean_header(reading)
        parent, _, child = header.rpartition(" / ")
        found = (_child_scores(parent, child) if parent
                 else {**_label_scores(header, "fields"), **_part_scores(header)})
        for name, score in found.items():
            best[name] = max(best.get(name, 0), score)
    return best


def _child_scores(parent: str, child: str) -> dict[str, int]:
    """A two-row header: the child names a part of the parent's field ("Ngày sinh / Nam", "Địa chỉ / Xã"), or,
    under a parent that is no field ("Thông tin cá nhân / Họ và tên"), a field of its own."""
    of_parent = _label_scores(parent, "fields")
    parts = _part_scores(child)
    if "date_of_birth" in of_parent or "sex" in of_parent:
        return {name: score for name, score in parts.items() if name.startswith("date_of_birth_")}
    if "address" in of_parent:
        # The home address, not the birthplace: "Quê quán / Xã" loses to "Nơi ở hiện nay / Xã".
        rank = -of_parent["address"] % 100
        return {name: score - rank for name, score in parts.items() if name in ADDRESS_PARTS}
    if of_parent:
        return {}  # a field over sub-columns this module does not know: nothing is guessed
    return {**_label_scores(child, "fields"), **parts}


def _part_scores(header: str) -> dict[str, int]:
    exact = " ".join(header.casefold().split())
    if exact in _MALE:
        return {"date_of_birth_male": _EXACT * 100}
    if exact in _FEMALE:
        return {"date_of_birth_female": _EXACT * 100}
    # Unit names are short words ("Xã", "Tổ"): only an exact or re-punctuated label counts, never one inside a
    # longer header ("Mã xã" is a code, "Giới tính" is not a "Tỉnh").
    return {name: s for name, s in _label_scores(header, "parts").items() if s > _CONTAINED * 100}


def _label_scores(header: str, table: str) -> dict[str, int]:
    """Field (``table`` "fields") or part ("parts") -> the best score of ``header`` for it."""
    key, loose = match_key(header), _loose(header)
    bare = _loose(_PARENTHETICAL.sub(" ", header))  # "Ngày sinh (dd/mm/yyyy)" is a "Ngày sinh"
    scores: dict[str, int] = {}
    for label in _labels(table):
        level = _level(key, loose, bare, label)
        if level:
            scores[label.name] = max(scores.get(label.name, 0), level * 100 - label.rank)
    return scores


@dataclass(frozen=True)
class _Label:
    name: str  # the field or part
    rank: int  # 0 for the field's own name, then its labels in order: the earlier, the better
    key: str  # match_key of the label
    loose: str  # its words without punctuation or fillers
    containable: bool  # may be found inside a longer header


@cache
def _labels(table: str) -> list[_Label]:
    out = []
    for name, names in {"fields": HEADER_LABELS, "parts": PART_LABELS}[table].items():
        for rank, label in enumerate((name, *names)):
            loose = _loose(label)
            out.append(_Label(name, rank, match_key(label), loose,
                              len(loose.split()) > 1 or loose in _CONTAINABLE_ACRONYMS))
    return out


def _level(key: str, loose: str, bare: str, label: _Label) -> int:
    if key == label.key:
        return _EXACT
    wanted = label.loose
    if not wanted:
        return 0
    if wanted in (loose, bare):
        return _LOOSE
    # Inside a longer header, the label must be at least half of it: "Số CCCD của hội viên" is an ID number,
    # "Ghi chú của chi hội về hội viên" is no branch.
    if label.containable and f" {wanted} " in f" {bare} " and 2 * len(wanted.split()) >= len(bare.split()):
        return _CONTAINED
    if len(wanted) >= 6 and abs(len(bare) - len(wanted)) <= len(wanted) // 4:  # a typo, not another header
        matcher = difflib.SequenceMatcher(None, bare, wanted)
        if matcher.quick_ratio() >= _NEAR_RATIO and matcher.ratio() >= _NEAR_RATIO:
            return _NEAR
    return 0


def _loose(text: str) -> str:
    """The words of a label without punctuation or filler words: "Họ, tên" and "Họ và tên" are both "ho ten"."""
    words = _PUNCTUATION.sub(" ", match_key(text).replace("_", " ")).split()
    return " ".join(w for w in words if w not in _FILLERS)
