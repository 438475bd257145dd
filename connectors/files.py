"""Files connector: every CSV, Excel (.xlsx, .xls) or JSON file in a folder that member organisations drop exports into.

Each file is one batch whose payload is the file's bytes, so landing identifies it by content hash: a file
seen before is skipped there, whatever its name or date. That is why this connector keeps no cursor. A CSV or NDJSON
file of more than ``part_rows`` rows is several batches, one per part (:mod:`connectors.file_parts`), each
identified by the file's hash and its number: a re-sent file, or a sync resumed after a crash between parts, lands
only the parts not landed yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from connectors.base import (
    MEDIA_CSV,
    MEDIA_JSON,
    MEDIA_NDJSON,
    MEDIA_XLS,
    MEDIA_XLSX,
    Batch,
    Connector,
    ConnectorConfig,
    Cursor,
)
from connectors.file_parts import DEFAULT_PART_ROWS, FileParts, plan_parts
from connectors.formats import read_feed
from connectors.limits import DEFAULT_LIMITS, ReadLimits, exceeded
from lienthong.errors import ExtractError, FilesRefused, MalformedInput

log = logging.getLogger(__name__)

MEDIA_BY_SUFFIX = {
    ".csv": MEDIA_CSV,
    ".tsv": MEDIA_CSV,
    ".txt": MEDIA_CSV,
    ".xlsx": MEDIA_XLSX,
    ".xlsm": MEDIA_XLSX,  # a macro-enabled workbook: its cells are read, its macros never run
    ".xls": MEDIA_XLS,  # Excel 97-2003
    ".json": MEDIA_JSON,
    ".ndjson": MEDIA_NDJSON,
    ".jsonl": MEDIA_NDJSON,
}


class FilesConfig(ConnectorConfig):
    """A folder of export files, e.g. ``{type: files, path: /srv/drop/hoi_nong_dan, pattern: "*.xlsx"}``."""

    type: Literal["files"] = "files"
    path: str = Field(description="Folder to read; files are taken in name order.")
    pattern: str = Field(default="*", description="Glob inside the folder, e.g. '*.csv' or '2025/**/*.xlsx'.")
    sheet: str | None = Field(default=None, description="Excel sheet to read; default every sheet holding a table.")
    encoding: str | None = Field(default=None, description="Force an encoding (e.g. cp1258); default detect.")
    delimiter: str | None = Field(default=None, min_length=1, max_length=1, description="Force a delimiter.")
    records_path: str | None = Field(default=None, description="JSON files: dot-path of the record list.")
    part_rows: int | None = Field(
        default=DEFAULT_PART_ROWS, ge=100,
        description="CSV/NDJSON files with more rows are read and landed in parts of this many rows (fewer when "
                    "a part would pass 64 MiB), so memory is bounded by a part, not the file "
                    "(connectors.file_parts); null: every file is read whole.")


class FilesConnector(Connector[FilesConfig]):
    """One batch per matching file, cursor always ``None``; an unreadable file does not hide the others."""

    Config = FilesConfig
    isolation = "batch"
    read_ahead = True  # a large file's next part is parsed while the one before lands and is checked

    def extract(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Every matching file, whatever ``cursor`` says: landing skips the ones it has by content hash.

        Raises:
            FilesRefused: after yielding every readable file, when some could not be read (one error per file).
        """
        folder = Path(self.config.path)
        if not folder.is_dir():
            msg = f"{self.source_id}: folder {folder} does not exist or is not a folder; check `path`"
            msg_vi = f"{self.source_id}: không tìm thấy thư mục {folder}; hãy kiểm tra `path` trong cấu hình"
            raise ExtractError(msg, message_vi=msg_vi, source_id=self.source_id)
        refused: list[MalformedInput] = []
        for path in sorted(p for p in folder.glob(self.config.pattern) if p.is_file()):
            media_type = media_type_of(path)
            if media_type is None:
                log.warning("%s: skipping %s: unknown file type (known: %s)", self.source_id, path,
                            ", ".join(MEDIA_BY_SUFFIX))
                continue
            try:
                parts = self._parts(path, media_type)
                whole = self._batch(path, media_type) if parts is None else None
            except Exception as exc:  # noqa: BLE001 - reading has no side effect: refuse this file, read the next
                refused.append(self._refusal(path, exc))
                continue
            if whole is not None:
                yield whole
                continue
            try:
                for part in parts:
                    yield Batch(part.payload, media_type, f"{path} (part {part.number}/{part.of})", part.records,
                                read_options=part.read_options, identity=part.identity)
            except Exception as exc:  # noqa: BLE001 - read once already: only a file changed meanwhile gets here
                refused.append(self._refusal(path, exc))
        if refused:
            raise FilesRefused(refused, source_id=self.source_id)

    def _refusal(self, path: Path, exc: Exception) -> MalformedInput:
        if isinstance(exc, MalformedInput):
            return exc
        log.info("%s: %s could not be read", self.source_id, path, exc_info=exc)  # the traceback: task logs only
        msg = (f"{self.source_id}: {path} could not be read ({type(exc).__name__}: {str(exc)[:200]}); "
               "open it, save it again as CSV or XLSX and send it again")
        msg_vi = (f"{self.source_id}: không đọc được tệp {path.name}; hãy mở tệp, lưu lại dạng CSV hoặc XLSX "
                  "rồi gửi lại")
        return MalformedInput(msg, message_vi=msg_vi, source_id=self.source_id)

    def _parts(self, path: Path, media_type: str) -> FileParts | None:
        """The file's parts when it has more rows than one part (checked readable end to end), else None."""
        if self.config.part_rows is None:
            return None
        try:
            return plan_parts(path, media_type, self._forced(path, media_type), part_rows=self.config.part_rows)
        except MalformedInput as exc:
            exc.source_id = exc.source_id or self.source_id
            raise

    def _batch(self, path: Path, media_type: str) -> Batch:
        origin = str(path)
        try:
            payload = read_limited(path, DEFAULT_LIMITS)
            records, options = read_feed(payload, media_type, self._forced(path, media_type), origin=origin)
        except MalformedInput as exc:
            exc.source_id = exc.source_id or self.source_id
            raise
        return Batch(payload, media_type, origin, records, read_options=options)

    def _forced(self, path: Path, media_type: str) -> dict[str, Any]:
        """The read options the config fixes; the rest is detected per file."""
        cfg = self.config
        delimiter = cfg.delimiter or ("\t" if path.suffix.lower() == ".tsv" else None)
        options: dict[str, Any] = {
            MEDIA_CSV: {"encoding": cfg.encoding, "delimiter": delimiter},
            MEDIA_XLSX: {"sheet": cfg.sheet},
            MEDIA_XLS: {"sheet": cfg.sheet},
            MEDIA_JSON: {"encoding": cfg.encoding, "records_path": cfg.records_path},
            MEDIA_NDJSON: {"encoding": cfg.encoding},
        }[media_type]
        return {key: value for key, value in options.items() if value is not None}


def media_type_of(path: Path) -> str | None:
    """The media type a file is read as, by its suffix (``None``: not a feed file)."""
    return MEDIA_BY_SUFFIX.get(path.suffix.lower())


def read_limited(path: Path, limits: ReadLimits) -> bytes:
    """The file's bytes, refused by its size before they are read.

    Raises:
        LimitExceeded: the file is larger than ``limits.max_bytes``.
    """
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise exceeded(str(path), "bytes", "bytes", "số byte", size, limits.max_bytes)
    return path.read_bytes()
