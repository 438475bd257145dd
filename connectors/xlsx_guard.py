"""Pre-scan of an XLSX workbook: every limit checked while streaming, before python-calamine allocates anything.

python-calamine reads a sheet into a dense grid spanning its used range: one cell at ``A1`` and one at
``XFD1048576`` make it allocate 512 GiB, and Rust aborts the whole process when that fails. Nor does it bound
what a zip member inflates to. So before calamine opens the workbook this module:

1. checks the zip: number of members, no repeated member names, no encryption, deflate or stored only;
2. inflates every member itself, from the central directory's offsets (as calamine does), counting the bytes
   really produced — not the sizes the zip declares, which a bomb can forge — against the total and the
   compression ratio, and refusing a member whose real size differs from its declared one;
3. streams the shared strings and the chosen sheet through expat, counting rows, strings and cells, taking every
   cell's position (its ``r`` reference, or its place in the row as calamine does) and stopping at the first
   limit exceeded: the used range (rows, columns, area) is that of the cells holding a value, as calamine's.

Only then is the workbook handed to calamine, whose grid is now bounded by ``ReadLimits.max_cells``.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.parsers import expat

from connectors.limits import LimitExceeded, ReadLimits, exceeded
from lienthong.errors import MalformedInput

_IN_CHUNK = 64 * 1024
_OUT_CHUNK = 256 * 1024
_SMALL_PART = 16 * 1024 * 1024  # workbook.xml and its relationships: a few KB in a real workbook
_EXCEL_ROWS, _EXCEL_COLUMNS = 1_048_576, 16_384
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


@dataclass(frozen=True)
class SheetShape:
    """What the scan found in the sheet calamine is about to read."""

    part: str  # zip member of the sheet
    rows: int  # height of the used range (header included)
    columns: int  # width of the used range
    cells: int  # cells holding a value


def sheet_names(payload: bytes, limits: ReadLimits, origin: str) -> list[str]:
    """The workbook's sheets in order, from ``xl/workbook.xml`` alone (cheap: for detecting the first sheet).

    Raises:
        LimitExceeded, MalformedInput: as :func:`guard_xlsx`, for the zip's directory and the workbook part.
    """
    archive = _open_zip(payload, limits, origin)
    root = _small_part(payload, archive, "xl/workbook.xml", limits, origin)
    return [e.get("name", "") for e in root.iter() if e.tag.rpartition("}")[2] == "sheet"]


def guard_xlsx(payload: bytes, sheet: str, limits: ReadLimits, origin: str) -> SheetShape | None:
    """Steps 1–3 for ``sheet``: None when the workbook has no such sheet (calamine then names the ones it has).

    Raises:
        LimitExceeded: a size limit (members, unzipped bytes, ratio, rows, columns, cells, a cell's bytes).
        MalformedInput: not a zip, an encrypted or forged one, invalid XML or cell references.
    """
    archive = _open_zip(payload, limits, origin)
    total = 0
    for info in archive.infolist():
        for chunk in _inflate(payload, info, limits, origin, limits.max_uncompressed_bytes - total):
            total += len(chunk)
    rels = _relationships(payload, archive, limits, origin)
    names = set(archive.namelist())
    strings = sorted(({m for kind, m in rels.values() if kind.endswith("/sharedStrings")}
                      | {"xl/sharedStrings.xml"}) & names)
    for part in strings:
        _scan(payload, archive.getinfo(part), limits, origin, _StringsScan(limits, origin))
    part = _sheet_part(payload, archive, rels, sheet, limits, origin)
    if part is None:
        return None
    scan = _SheetScan(limits, origin)
    _scan(payload, archive.getinfo(part), limits, origin, scan)
    return SheetShape(part, scan.height(), scan.width(), scan.cells)


def _open_zip(payload: bytes, limits: ReadLimits, origin: str) -> zipfile.ZipFile:
    """Step 1, and the sizes the zip declares (refused before inflating anything when they already tell)."""
    try:
        archive = zipfile.ZipFile(_Bytes(payload))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise unreadable(origin, str(exc)) from exc
    if len(infos) > limits.max_zip_members:
        raise exceeded(origin, "zip_members", "files inside the workbook", "số tệp con trong tệp Excel",
                       len(infos), limits.max_zip_members)
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):  # two readers could each pick a different one
        raise unreadable(origin, "the zip holds two members of the same name")
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_uncompressed_bytes:
        raise exceeded(origin, "uncompressed_bytes", "bytes once unzipped (declared)", "số byte khi giải nén", declared,
                       limits.max_uncompressed_bytes)
    for info in infos:
        if info.flag_bits & 0x1:
            msg = f"{origin}: the workbook is password-protected; remove the password in Excel and send it again"
            raise MalformedInput(msg, message_vi=f"{origin}: tệp Excel có mật khẩu; hãy bỏ mật khẩu rồi gửi lại")
        _check_ratio(info.filename, info.file_size, info.compress_size, limits, origin)
    return archive


# --- zip ---------------------------------------------------------------------------------------------------

class _Bytes:
    """A read-only file over ``bytes`` without copying them (``io.BytesIO`` would)."""

    def __init__(self, data: bytes) -> None:
        self._view, self._pos = memoryview(data), 0

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._pos + size
        data = bytes(self._view[self._pos:end])
        self._pos += len(data)
        return data


def _inflate(payload: bytes, info: zipfile.ZipInfo, limits: ReadLimits, origin: str, budget: int
             ) -> Iterator[bytes]:
    """The member's bytes as really inflated, in bounded chunks, refused past ``budget`` or the ratio."""
    start = _data_offset(payload, info, origin)
    data = memoryview(payload)[start:start + info.compress_size]
    if len(data) != info.compress_size:
        raise unreadable(origin, f"member {info.filename} is cut short")
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(data[i:i + _OUT_CHUNK]) for i in range(0, len(data), _OUT_CHUNK))
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        pieces = _deflated(data, info, origin)
    else:
        raise unreadable(origin, f"member {info.filename} uses compression method {info.compress_type}")
    produced = 0
    for piece in pieces:
        produced += len(piece)
        if produced > budget:
            raise exceeded(origin, "uncompressed_bytes", "bytes once unzipped", "số byte khi giải nén",
                           limits.max_uncompressed_bytes, limits.max_uncompressed_bytes, at_least=True)
        _check_ratio(info.filename, produced, len(data), limits, origin)
        yield piece
    if produced != info.file_size:
        raise unreadable(origin, f"member {info.filename} declares {info.file_size} bytes but holds {produced}")


def _check_ratio(member: str, size: int, compressed: int, limits: ReadLimits, origin: str) -> None:
    ratio = size / max(compressed, 1)
    if size > limits.ratio_grace_bytes and ratio > limits.max_compression_ratio:
        msg = (f"{origin}: {member} unzips to {ratio:,.0f} times its compressed size (limit "
               f"{limits.max_compression_ratio:g}): a zip bomb, not a spreadsheet; send the original export")
        msg_vi = (f"{origin}: tệp Excel giải nén lớn gấp {ratio:,.0f} lần (giới hạn "
                  f"{limits.max_compression_ratio:g} lần); đây không phải là bảng tính bình thường")
        raise LimitExceeded(msg, message_vi=msg_vi, limit="compression_ratio")


def _deflated(data: memoryview, info: zipfile.ZipInfo, origin: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for i in range(0, len(data), _IN_CHUNK):
            piece = inflater.decompress(data[i:i + _IN_CHUNK], _OUT_CHUNK)
            while True:
                yield piece
                if not inflater.unconsumed_tail:
                    break
                piece = inflater.decompress(inflater.unconsumed_tail, _OUT_CHUNK)
        yield inflater.flush()
    except zlib.error as exc:
        raise unreadable(origin, f"member {info.filename}: {exc}") from exc
    if not inflater.eof:
        raise unreadable(origin, f"member {info.filename} is cut short")


def _data_offset(payload: bytes, info: zipfile.ZipInfo, origin: str) -> int:
    header = payload[info.header_offset:info.header_offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise unreadable(origin, f"no local header for member {info.filename}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_length + extra_length


def unreadable(origin: str, why: str) -> MalformedInput:
    msg = f"{origin}: not a readable Excel (.xlsx) workbook ({why}); open it in Excel, save it as .xlsx"
    msg_vi = f"{origin}: không đọc được tệp Excel (.xlsx); hãy mở bằng Excel và lưu lại dưới dạng .xlsx"
    return MalformedInput(msg, message_vi=msg_vi)


# --- parts -------------------------------------------------------------------------------------------------

def _small_part(payload: bytes, archive: zipfile.ZipFile, name: str, limits: ReadLimits, origin: str
                ) -> ElementTree.Element:
    """A small XML part (workbook, relationships), inflated by :func:`_inflate` and parsed whole."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise unreadable(origin, f"no {name}") from None
    data = b"".join(_inflate(payload, info, limits, origin, min(_SMALL_PART, limits.max_uncompressed_bytes)))
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # Excel never writes one; entities can expand a lot
        raise unreadable(origin, f"{name} declares a DOCTYPE")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise unreadable(origin, f"{name}: invalid XML ({exc})") from exc


def _relationships(payload: bytes, archive: zipfile.ZipFile, limits: ReadLimits, origin: str
                   ) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, member) of ``xl/workbook.xml``; targets resolved as calamine does."""
    root = _small_part(payload, archive, "xl/_rels/workbook.xml.rels", limits, origin)
    out: dict[str, tuple[str, str]] = {}
    for rel in root.iter():
        if rel.tag.rpartition("}")[2] == "Relationship":
            target = rel.get("Target", "")
            member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            out[rel.get("Id", "")] = (rel.get("Type", ""), member)
    return out


def _sheet_part(payload: bytes, archive: zipfile.ZipFile, rels: dict[str, tuple[str, str]], sheet: str,
                limits: ReadLimits, origin: str) -> str | None:
    root = _small_part(payload, archive, "xl/workbook.xml", limits, origin)
    for element in root.iter():
        if element.tag.rpartition("}")[2] == "sheet" and element.get("name") == sheet:
            rel = next((v for k, v in element.attrib.items() if k.rpartition("}")[2] == "id"), "")
            member = rels.get(rel, ("", ""))[1]
            if member not in archive.namelist():
                raise unreadable(origin, f"sheet {sheet!r} points to a missing part {member!r}")
            return member
    return None


# --- streaming scans ---------------------------------------------------------------------------------------

def _scan(payload: bytes, info: zipfile.ZipInfo, limits: ReadLimits, origin: str, scan: _Scan) -> None:
    parser = expat.ParserCreate()
    scan.position = lambda: parser.CurrentByteIndex
    parser.StartElementHandler = scan.on_start
    parser.StartDoctypeDeclHandler = scan.on_doctype
    try:
        for chunk in _inflate(payload, info, limits, origin, limits.max_uncompressed_bytes):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise unreadable(origin, f"{info.filename}: invalid XML ({exc})") from exc
    scan.measure(parser.CurrentByteIndex)


class _Scan:
    """Start-element handler of expat. A cell's size is bounded by the bytes between two element starts: no text
    node or tag may be larger than ``max_cell_bytes`` (expat keeps none of it: no text handler is set)."""

    def __init__(self, limits: ReadLimits, origin: str) -> None:
        self.limits, self.origin = limits, origin
        self.position: Callable[[], int] = lambda: 0
        self._mark = 0

    def on_start(self, name: str, attrs: dict[str, str]) -> None:
        self.measure(self.position())
        self.start(name.rpartition(":")[2], attrs)

    def on_doctype(self, *_: object) -> None:
        # entity declarations can expand a few bytes into gigabytes; Excel never writes a DOCTYPE
        raise unreadable(self.origin, "an XML part declares a DOCTYPE")

    def start(self, local: str, attrs: dict[str, str]) -> None:
        raise NotImplementedError

    def measure(self, here: int) -> None:
        if here - self._mark > self.limits.max_cell_bytes:
            raise exceeded(self.origin, "cell_bytes", "bytes in one cell or XML element", "số byte trong một ô",
                           here - self._mark, self.limits.max_cell_bytes, at_least=True)
        self._mark = here


class _StringsScan(_Scan):
    """``xl/sharedStrings.xml``: the number of strings."""

    def __init__(self, limits: ReadLimits, origin: str) -> None:
        super().__init__(limits, origin)
        self.count = 0

    def start(self, local: str, attrs: dict[str, str]) -> None:
        if local == "si":
            self.count += 1
            if self.count > self.limits.max_cells:
                raise exceeded(self.origin, "cells", "shared strings", "số chuỗi dùng chung", self.count,
                               self.limits.max_cells, at_least=True)


class _SheetScan(_Scan):
    """A worksheet: its declared dimension, its rows, and the used range of the cells holding a value (``<v>``,
    ``<is>`` or ``<f>``: calamine's grid spans those), each placed by its ``r`` reference or its place in the row."""

    def __init__(self, limits: ReadLimits, origin: str) -> None:
        super().__init__(limits, origin)
        self.rows = self.cells = 0
        self._row = self._col = -1
        self._cell: tuple[int, int] | None = None  # the open cell, until a value is seen in it
        self._top = self._left = self._bottom = self._right = -1

    def height(self) -> int:
        return 0 if self._top < 0 else self._bottom - self._top + 1

    def width(self) -> int:
        return 0 if self._left < 0 else self._right - self._left + 1

    def start(self, local: str, attrs: dict[str, str]) -> None:
        if local == "c":
            self._open_cell(attrs.get("r"))
        elif local in ("v", "is", "f"):
            if self._cell is not None:
                self._valued(*self._cell)
                self._cell = None
        elif local == "row":
            self._cell = None
            self.rows += 1
            if self.rows > self.limits.max_rows + 1:
                raise exceeded(self.origin, "rows", "rows", "số dòng", self.rows, self.limits.max_rows + 1,
                               at_least=True)
            number = attrs.get("r")
            self._row = self._row + 1 if number is None else self._number(number) - 1
            self._col = -1
        elif local == "dimension":
            self._dimension(attrs.get("ref", ""))

    def _dimension(self, ref: str) -> None:
        """The range the sheet declares: calamine ignores it today, but a reader that trusts it would allocate it."""
        corners = [self._position(part) for part in ref.split(":")[:2] if part]
        if len(corners) == 2:
            (top, left), (bottom, right) = corners
            height, width = abs(bottom - top) + 1, abs(right - left) + 1
            self._bounded(height, width, "declared dimension", "vùng khai báo của trang tính")

    def _open_cell(self, ref: str | None) -> None:
        if ref is None:
            self._col += 1
            self._row = max(self._row, 0)
        else:
            self._row, self._col = self._position(ref)
        if self._col >= _EXCEL_COLUMNS or self._row >= _EXCEL_ROWS:
            msg = f"{self.origin}: a cell lies outside Excel's grid (row {self._row + 1}, column {self._col + 1})"
            raise MalformedInput(msg, message_vi=f"{self.origin}: tệp Excel có ô nằm ngoài bảng tính")
        self._cell = (self._row, self._col)

    def _position(self, ref: str) -> tuple[int, int]:
        match = _REF.fullmatch(ref.replace("$", ""))
        if match is None:
            msg = f"{self.origin}: the sheet has an invalid cell reference {ref[:20]!r}; save it again in Excel"
            raise MalformedInput(msg, message_vi=f"{self.origin}: tệp Excel có địa chỉ ô không hợp lệ")
        col = 0
        for letter in match.group(1):
            col = col * 26 + ord(letter) - 64
        if col > _EXCEL_COLUMNS:
            msg = f"{self.origin}: the sheet has a cell reference beyond column XFD ({ref[:20]!r})"
            raise MalformedInput(msg, message_vi=f"{self.origin}: tệp Excel có địa chỉ ô ngoài bảng tính")
        return self._number(match.group(2)) - 1, col - 1

    def _number(self, text: str) -> int:
        if not text.isdigit() or not 0 < int(text) <= _EXCEL_ROWS:
            msg = f"{self.origin}: the sheet has an invalid row number {text[:20]!r}; save it again in Excel"
            raise MalformedInput(msg, message_vi=f"{self.origin}: tệp Excel có số dòng không hợp lệ")
        return int(text)

    def _valued(self, row: int, col: int) -> None:
        self.cells += 1
        if self.cells > self.limits.max_cells:
            raise exceeded(self.origin, "cells", "cells", "số ô", self.cells, self.limits.max_cells, at_least=True)
        if self._top < 0:
            self._top = self._bottom = row
            self._left = self._right = col
            return
        if self._top <= row <= self._bottom and self._left <= col <= self._right:
            return
        self._top, self._bottom = min(self._top, row), max(self._bottom, row)
        self._left, self._right = min(self._left, col), max(self._right, col)
        self._bounded(self.height(), self.width(), "used range", "vùng dữ liệu của trang tính")

    def _bounded(self, height: int, width: int, what_en: str, what_vi: str) -> None:
        limits = self.limits
        if height > limits.max_rows + 1:
            raise exceeded(self.origin, "rows", f"rows in the sheet's {what_en}", f"số dòng trong {what_vi}",
                           height, limits.max_rows + 1, at_least=True)
        if width > limits.max_columns:
            raise exceeded(self.origin, "columns", f"columns in the sheet's {what_en}", f"số cột trong {what_vi}",
                           width, limits.max_columns, at_least=True)
        if height * width > limits.max_cells:
            raise exceeded(self.origin, "cells", f"cells in the sheet's {what_en}", f"số ô trong {what_vi}",
                           height * width, limits.max_cells, at_least=True)
