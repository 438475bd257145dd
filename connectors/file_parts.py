"""Read a large CSV or NDJSON file in bounded parts: the whole-file reader, one part at a time.

A file with more rows than one part is cut at record boundaries (a line break outside quotes) every ``part_rows``
rows, or sooner when a part would outgrow :data:`PART_WINDOW_BYTES`, so memory stays bounded by the part, not the
file. What the whole-file reader detects is detected once, on the first part — the encoding and the delimiter on
the file's head, the header below any title block — and pinned for the others: each later part is the header's own
bytes followed by its rows, a CSV readable alone, so the raw zone keeps each part re-readable exactly as it was
read. The footer is looked for in the last part only, which always holds more than ``TAIL_ROWS`` rows. Each part's
read options give the file row of its first record (:data:`connectors.row_numbers.FILE_ROWS`), so a reason says
"dòng 1234567" of the file, and name the part (:data:`PART`).

The file is read twice. The first pass reads every part (and hashes the file) keeping none, so a file with a bad
line at row 1,900,000 is refused whole, as before, rather than half landed; the second yields the parts. A file the
first pass finds unfit (an encoding that is not ASCII-compatible, a head in UTF-8 and a later part not, columns
differing between parts) is read whole, as before: :func:`plan_parts` returns None.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.base import MEDIA_CSV, MEDIA_NDJSON
from connectors.csv_table import header_bytes
from connectors.formats import read_resolved
from connectors.limits import DEFAULT_LIMITS, MiB, ReadLimits
from connectors.row_numbers import FILE_ROWS
from connectors.table_layout import TAIL_ROWS
from lienthong.errors import MalformedInput
from lienthong.vietnamese.encoding_detection import detect_encoding

DEFAULT_PART_ROWS = 200_000
PART_WINDOW_BYTES = 64 * MiB  # the most of a file held at once, and so the largest part
PART = "part"  # read option: {"file_sha256", "rows" (part size), "number", "of"}
_HEAD_BYTES = 1 * MiB  # where the encoding is detected
_ASCII_SAFE = frozenset({"utf-8", "utf-8-sig", "cp1258", "cp1252", "latin-1"})  # quotes and line breaks are bytes
_NEWLINE, _QUOTE = 10, 34
_LINE = re.compile(r"\b(line|dòng) (\d+)")
_FIRST_ROW = {MEDIA_CSV: 2, MEDIA_NDJSON: 1}  # row_numbers' usual first record row


@dataclass(frozen=True)
class Chunk:
    """A run of whole records of the file: its bytes and how many rows (lines outside quotes) come before it."""

    data: bytes
    rows_before: int
    last: bool
    lines_before: int = 0  # line breaks before it, quoted ones too: the line numbers of error messages


@dataclass(frozen=True)
class Part:
    """One part, ready to land: its payload (a file readable alone), records and read options."""

    number: int
    of: int
    payload: bytes
    records: pa.Table
    read_options: dict[str, Any]
    identity: str  # the file's SHA-256, the part size and the part's number: Batch.identity


def cut(path: Path, *, part_rows: int, quoted: bool, window: int = PART_WINDOW_BYTES) -> Iterator[Chunk]:
    """The file's records in runs of ``part_rows`` rows (fewer when the run would pass ``window`` bytes).

    A run always ends after a line break outside quotes, and the last run holds the file's last ``TAIL_ROWS`` + 1
    rows at least (a footer is never split). A CR-only file has no line break to cut at: one run.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        buf, offset, rows_before, lines_before = b"", 0, 0, 0
        while True:
            if len(buf) < window:
                buf += f.read(window - len(buf))
            eof = offset + len(buf) >= size
            ends = _record_ends(buf, quoted)
            rows = len(ends) + (1 if eof and buf and (not len(ends) or ends[-1] != len(buf) - 1) else 0)
            if eof and rows <= part_rows + TAIL_ROWS:
                yield Chunk(buf, rows_before, last=True, lines_before=lines_before)
                return
            take = min(part_rows, len(ends) - TAIL_ROWS - 1)  # keep a footer's worth of rows for the next run
            if take < 1:
                raise _Unfit  # rows too long for the window: the whole-file reader and its limits decide
            end = int(ends[take - 1]) + 1
            chunk = Chunk(buf[:end], rows_before, last=False, lines_before=lines_before)
            yield chunk
            buf, offset, rows_before = buf[end:], offset + end, rows_before + take
            lines_before += chunk.data.count(b"\n")


def _record_ends(buf: bytes, quoted: bool) -> np.ndarray:
    """Offsets of the line breaks that end a record: outside quotes (an even number of ``"`` before it, counted
    from the start of ``buf``, which is a record's start; an escaped quote ``""`` counts twice)."""
    arr = np.frombuffer(buf, np.uint8)
    ends = np.flatnonzero(arr == _NEWLINE)
    if quoted:
        quotes = np.flatnonzero(arr == _QUOTE)
        if len(quotes):
            ends = ends[(np.searchsorted(quotes, ends) & 1) == 0]
    return ends


class _Unfit(Exception):  # noqa: N818 - internal signal: read this file whole
    pass


@dataclass(frozen=True)
class FileParts:
    """A file checked to read well in parts; iterate it for the parts (the second pass)."""

    path: Path
    media_type: str
    base_options: dict[str, Any]  # encoding, delimiter, forced options; NDJSON: every column seen
    layout: dict[str, Any] | None  # CSV: where the header is (pinned for every part after the first)
    header: bytes  # CSV: the header rows' own bytes, which every part after the first starts with
    file_sha256: str
    part_rows: int
    count: int
    rows: int
    origin: str
    limits: ReadLimits

    def __iter__(self) -> Iterator[Part]:
        stamp = _stamp(self.path)
        chunks = cut(self.path, part_rows=self.part_rows, quoted=self.media_type == MEDIA_CSV)
        for number, chunk in enumerate(chunks, start=1):
            if _stamp(self.path) != stamp:
                msg = (f"{self.origin}: the file changed while it was being read (part {number} of {self.count}); "
                       "send it again once it is completely written")
                msg_vi = f"{self.origin}: tệp bị thay đổi trong lúc đang đọc; hãy gửi lại khi tệp đã ghi xong"
                raise MalformedInput(msg, message_vi=msg_vi)
            yield self._part(number, chunk)

    def _part(self, number: int, chunk: Chunk) -> Part:
        payload, options = _part_input(self.media_type, self.base_options, self.layout, self.header, number, chunk)
        records, options = _read_part(payload, self.media_type, options, number, chunk, self.layout,
                                      f"{self.origin} (part {number}/{self.count})", self.limits)
        options[PART] = {"file_sha256": self.file_sha256, "rows": self.part_rows, "number": number, "of": self.count}
        return Part(number, self.count, payload, records, options, part_identity(options[PART]))


def part_identity(part: Mapping[str, Any]) -> str:
    """The ``Batch.identity`` of a part, from its :data:`PART` read option: the file's SHA-256, size, number."""
    return f"{part['file_sha256']}:{part['rows']}:{part['number']}"


def plan_parts(path: Path, media_type: str, forced: Mapping[str, Any], *, part_rows: int = DEFAULT_PART_ROWS,
               origin: str | None = None, limits: ReadLimits = DEFAULT_LIMITS) -> FileParts | None:
    """Read ``path`` once in parts, keeping none: the plan of its parts, or None when it is read whole (it fits
    in one part, is not CSV or NDJSON, or is unfit for parts).

    Raises:
        MalformedInput: a part cannot be read (its message names the part's file rows where known); nothing of
            the file is to be landed.
    """
    if media_type not in _FIRST_ROW:
        return None
    origin = origin or str(path)
    sha = hashlib.sha256()
    base: dict[str, Any] = dict(forced)
    layout: dict[str, Any] | None = None
    header, names, count, rows, detected = b"", None, 0, 0, not base.get("encoding")
    try:
        for number, chunk in enumerate(cut(path, part_rows=part_rows, quoted=media_type == MEDIA_CSV), start=1):
            if number == 1:
                if chunk.last:
                    return None  # one part: the whole-file reader, batch identity by content as ever
                if not _fit_encoding(base, chunk.data, origin):
                    return None
            elif detected and base["encoding"].startswith("utf-8"):
                chunk.data.decode("utf-8")  # the head was UTF-8, which says nothing of the rest: check it
            sha.update(chunk.data)
            payload, options = _part_input(media_type, base, layout, header, number, chunk)
            table, options = _read_part(payload, media_type, options, number, chunk, layout,
                                        f"{origin} (part {number})", limits)
            if number == 1 and media_type == MEDIA_CSV:
                base["delimiter"] = options["delimiter"]
                layout = options["table"]
                header = header_bytes(chunk.data, options["delimiter"], layout)
            if media_type == MEDIA_NDJSON:
                names = list(dict.fromkeys([*(names or []), *table.column_names]))
            elif names is None:
                names = table.column_names
            elif table.column_names != names:
                return None  # e.g. an unnamed column empty in one part only: the whole file decides
            count, rows = number, rows + table.num_rows
    except (_Unfit, UnicodeDecodeError):
        return None
    if media_type == MEDIA_NDJSON:
        base["columns"] = names
    return FileParts(path, media_type, base, layout, header, sha.hexdigest(), part_rows, count, rows, origin, limits)


def _fit_encoding(base: dict[str, Any], data: bytes, origin: str) -> bool:
    """Detect the encoding on the file's head (cut after a line break); False when parts cannot carry it."""
    if not base.get("encoding"):
        head = data[:_HEAD_BYTES]
        if len(data) > _HEAD_BYTES:
            head = head[: head.rfind(b"\n") + 1] or head
        base["encoding"] = detect_encoding(head, origin=origin)
    return base["encoding"].lower() in _ASCII_SAFE


def _part_input(media_type: str, base: Mapping[str, Any], layout: Mapping[str, Any] | None, header: bytes,
                number: int, chunk: Chunk) -> tuple[bytes, dict[str, Any]]:
    """The part's payload and the options it is read with: the layout pinned after the first part, a footer
    looked for in the last part only."""
    options = dict(base)
    if media_type != MEDIA_CSV:
        return chunk.data, options
    if number == 1:
        options["table"] = {"footer": 0}
        return chunk.data, options
    pinned = {k: layout[k] for k in ("header", "header_rows", "skip")} if layout else {}
    options["table"] = {"header": 1, "header_rows": pinned.get("header_rows", 1), "skip": pinned.get("skip", 0)}
    if not chunk.last:
        options["table"]["footer"] = 0
    return header + chunk.data, options


def _read_part(payload: bytes, media_type: str, options: dict[str, Any], number: int, chunk: Chunk,
               layout: Mapping[str, Any] | None, origin: str, limits: ReadLimits) -> tuple[pa.Table, dict[str, Any]]:
    """Read one part; its layout written out in full and its rows numbered as the file's."""
    try:
        table, options = read_resolved(payload, media_type, options, origin=origin, limits=limits)
    except MalformedInput as exc:
        if type(exc) is not MalformedInput or number == 1:
            raise
        above = payload.count(b"\n", 0, len(payload) - len(chunk.data))  # the header lines the part starts with
        raise _in_file(exc, chunk.lines_before - above) from exc
    if media_type == MEDIA_CSV:
        found = options.get("table") or {}
        if "header" not in found:  # the usual layout: header on row 1
            found = {"header": 1, "header_rows": 1, "skip": 0, **found}
        options["table"] = {**found, "footer": int(found.get("footer", 0))}
    if number > 1:  # the part's rows follow its own header (CSV): move them to where they are in the file
        above = (int(layout.get("header_rows", 1)) + int(layout.get("skip", 0))) if layout else 0
        rows = dict(options.get(FILE_ROWS) or {"first": _FIRST_ROW[media_type], "skipped": []})
        rows["first"] = int(rows["first"]) + chunk.rows_before - above
        options[FILE_ROWS] = rows
    return table, options


def _in_file(exc: MalformedInput, shift: int) -> MalformedInput:
    """``exc`` with the line it names counted in the file, not in the part."""
    def moved(text: str) -> str:
        return _LINE.sub(lambda m: f"{m.group(1)} {int(m.group(2)) + shift}", text)
    return MalformedInput(moved(str(exc)), message_vi=moved(exc.message_vi), source_id=exc.source_id)


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
