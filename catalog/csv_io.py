"""Reading a code list from a CSV file, with the checks that keep a list usable.

The format (UTF-8, a header row; a byte-order mark is tolerated):

    code,label_vi,label_en,parent,aliases[,valid_from,valid_to]

``code`` and ``label_vi`` are required in every row; ``aliases`` holds other spellings separated by ``|``;
``valid_from`` / ``valid_to`` are optional ISO dates (``2025-07-01``) for values that exist only for a while.
All text is normalised to NFC with whitespace collapsed, so a file saved from a Mac (NFD) reads the same.
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from datetime import date
from pathlib import Path

from catalog.admin_units import typed_code_list
from catalog.model import CodeList, CodeValue, match_key
from lienthong.vietnamese.folding import clean_text, spelling_key

REQUIRED_COLUMNS = ("code", "label_vi")
OPTIONAL_COLUMNS = ("label_en", "parent", "aliases", "valid_from", "valid_to")
ALIAS_SEPARATOR = "|"


class CodeListFileError(ValueError):
    """A code-list file that cannot be used as it is; says where, what is wrong and what to do.

    Attributes:
        path: the file.
        row: 1-based line number in the file (the header is line 1), or ``None`` for the whole file.
        column: the column at fault, if any.
        message_vi: the same message in Vietnamese, for the clerks who maintain the lists.
    """

    def __init__(
        self, path: Path, row: int | None, column: str | None, message: str, message_vi: str
    ) -> None:
        where = (
            f"{path}"
            + (f", line {row}" if row is not None else "")
            + (f", column {column!r}" if column else "")
        )
        vi_where = (
            f"{path}" + (f", dòng {row}" if row is not None else "") + (f", cột {column!r}" if column else "")
        )
        super().__init__(f"{where}: {message}")
        self.path, self.row, self.column = path, row, column
        self.message_vi = f"{vi_where}: {message_vi}"


def read_code_list_csv(
    path: str | Path,
    *,
    name: str,
    version: str,
    title_vi: str,
    title_en: str,
    valid_from: date,
    basis: str,
    parents: Collection[str] | None = None,
) -> CodeList:
    """Read and check one version of a code list from a CSV file.

    Args:
        path: the CSV file (format in the module docstring).
        name: the list's stable name (``ethnic_groups``); must match the contracts' ``code_list``.
        version: the version of this content (a new content is a new version).
        title_vi: Vietnamese title of the list.
        title_en: English title of the list.
        valid_from: date from which this version applies.
        basis: the legal or data source of the content.
        parents: when given, every non-empty ``parent`` must be one of these codes (e.g. the province codes).

    Returns:
        The list, values in file order (a ``WardList``, whose ``lookup`` takes codes only, for ``wards``).

    Raises:
        CodeListFileError: (a ``ValueError``) on a missing or unknown column, an empty code or Vietnamese
            label, a code that appears twice, an alias that also names another code, a bad or inverted date,
            an unknown parent, an unreadable or empty file. The message names the file, line and column.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as CSV UTF-8"
        raise CodeListFileError(
            path, None, None, msg, "tệp không phải UTF-8; hãy lưu lại dưới dạng CSV UTF-8"
        ) from None
    except OSError as exc:
        raise CodeListFileError(
            path, None, None, f"cannot be read: {exc.strerror}", "không đọc được tệp"
        ) from None

    reader = csv.DictReader(text.splitlines())
    _check_header(path, reader.fieldnames)
    values: list[CodeValue] = []
    first_line: dict[str, int] = {}
    key_owner: dict[tuple[str | None, str], tuple[str, int]] = {}  # (scope, name key) -> (code, line)
    for line, row in enumerate(reader, start=2):
        value = _read_row(path, line, row, parents)
        if value.code in first_line:
            first = first_line[value.code]
            msg = f"code {value.code!r} appears twice (first on line {first}); codes must be unique"
            vi = f"mã {value.code!r} bị trùng (đã có ở dòng {first}); mỗi mã chỉ được xuất hiện một lần"
            raise CodeListFileError(path, line, "code", msg, vi)
        first_line[value.code] = line
        _check_names_are_unambiguous(path, line, value, key_owner, wards=name == "wards")
        values.append(value)
    if not values:
        raise CodeListFileError(
            path, None, None, "has no rows under the header", "tệp không có dòng dữ liệu nào"
        )
    _check_names_do_not_shadow_codes(path, values, first_line)
    code_list = CodeList(
        name=name,
        version=version,
        title_vi=title_vi,
        title_en=title_en,
        valid_from=valid_from,
        basis=basis,
        values=tuple(values),
    )
    return typed_code_list(code_list)  # a WardList for "wards"


def _check_header(path: Path, fieldnames: list[str] | None) -> None:
    columns = [c.strip() for c in fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        header = ",".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS[:3])
        msg = f"missing column(s) {', '.join(missing)}; the header must be {header}"
        vi = f"thiếu cột {', '.join(missing)}; dòng tiêu đề phải là {header}"
        raise CodeListFileError(path, 1, None, msg, vi)
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        allowed = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        msg = f"unknown column(s) {', '.join(map(repr, unknown))}; allowed: {allowed}"
        raise CodeListFileError(
            path, 1, None, msg, f"cột không hợp lệ {', '.join(unknown)}; chỉ dùng: {allowed}"
        )


def _read_row(
    path: Path, line: int, row: dict[str, str | None], parents: Collection[str] | None
) -> CodeValue:
    if None in row:  # more cells than header columns (csv puts the extra cells under the key None)
        msg = "has more cells than the header; quote cells that contain a comma"
        raise CodeListFileError(
            path, line, None, msg, "dòng có nhiều ô hơn tiêu đề; ô có dấu phẩy phải đặt trong ngoặc kép"
        )
    cell = {k.strip(): clean_text(v or "") for k, v in row.items() if k is not None}
    code, label_vi = cell.get("code", ""), cell.get("label_vi", "")
    if not code:
        raise CodeListFileError(
            path, line, "code", "empty code; every row needs a code", "mã trống; mỗi dòng phải có mã"
        )
    if not label_vi:
        msg = f"empty Vietnamese label for code {code!r}; fill label_vi"
        raise CodeListFileError(path, line, "label_vi", msg, f"tên tiếng Việt của mã {code!r} bị trống")
    parent = cell.get("parent") or None
    if parent is not None and parents is not None and parent not in parents:
        msg = f"parent {parent!r} of code {code!r} is not a known parent code"
        raise CodeListFileError(path, line, "parent", msg, f"mã cha {parent!r} của mã {code!r} không tồn tại")
    aliases = tuple(
        dict.fromkeys(a for a in (clean_text(a) for a in cell.get("aliases", "").split(ALIAS_SEPARATOR)) if a)
    )
    valid_from = _read_date(path, line, "valid_from", cell.get("valid_from", ""))
    valid_to = _read_date(path, line, "valid_to", cell.get("valid_to", ""))
    if valid_from and valid_to and valid_to < valid_from:
        msg = f"valid_to {valid_to} is before valid_from {valid_from} for code {code!r}"
        raise CodeListFileError(
            path, line, "valid_to", msg, f"ngày hết hiệu lực trước ngày có hiệu lực (mã {code!r})"
        )
    return CodeValue(
        code=code,
        label_vi=label_vi,
        label_en=cell.get("label_en") or None,
        parent=parent,
        aliases=aliases,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def _read_date(path: Path, line: int, column: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a date; write it as YYYY-MM-DD"
        raise CodeListFileError(
            path, line, column, msg, f"{text!r} không phải ngày; hãy ghi dạng NNNN-TT-NN"
        ) from None


def _check_names_are_unambiguous(
    path: Path,
    line: int,
    value: CodeValue,
    key_owner: dict[tuple[str | None, str], tuple[str, int]],
    *,
    wards: bool,
) -> None:
    """A label or alias must not also name another code, or ``CodeList.lookup`` would depend on row order.

    Ward names repeat across provinces and may differ only by a diacritic within one (Văn Lang / Văn Lăng), so
    for ``wards`` a name must be unique within its parent, compared with diacritics kept.
    """
    scope, key_of = (value.parent, spelling_key) if wards else (None, match_key)
    for text in (value.label_vi, value.label_en, *value.aliases):
        if not text:
            continue
        owner = key_owner.setdefault((scope, key_of(text)), (value.code, line))
        if owner[0] != value.code:
            msg = (
                f"{text!r} (a label or alias of code {value.code!r}) also names code {owner[0]!r} "
                f"on line {owner[1]}; remove one, or make it more specific"
            )
            vi = f"{text!r} của mã {value.code!r} trùng với tên/bí danh của mã {owner[0]!r} ở dòng {owner[1]}"
            raise CodeListFileError(path, line, "aliases", msg, vi)


def _check_names_do_not_shadow_codes(path: Path, values: list[CodeValue], first_line: dict[str, int]) -> None:
    """A label or alias that reads as another value's code would be silently shadowed by that code."""
    code_of_key = {match_key(v.code): v.code for v in values}
    for value in values:
        for text in (value.label_vi, value.label_en, *value.aliases):
            other = code_of_key.get(match_key(text)) if text else None
            if other is not None and other != value.code:
                msg = f"{text!r} (a label or alias of code {value.code!r}) reads as code {other!r}; remove it"
                vi = f"{text!r} của mã {value.code!r} trùng với mã {other!r}; hãy bỏ đi"
                raise CodeListFileError(path, first_line[value.code], "aliases", msg, vi)
