"""What every connector shares: the batch it yields and the small interface it implements.

A connector only extracts. It reads a source from a given cursor and yields batches of raw records; it never
writes to the warehouse and never stores state itself — the runner passes the cursor in and saves the next one
only after the batch is safely landed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

Cursor = dict[str, Any]

MEDIA_CSV = "text/csv"
MEDIA_JSON = "application/json"
MEDIA_NDJSON = "application/x-ndjson"
MEDIA_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_XLS = "application/vnd.ms-excel"  # Excel 97-2003 (BIFF in an OLE2 file), still what many offices save


@dataclass(frozen=True)
class Batch:
    """One unit of landing: a file, an API page or a chunk of query rows.

    Attributes:
        payload: the raw bytes as received (a file), or the records as canonical NDJSON (an API page, a SQL
            chunk). Its SHA-256 is the batch's identity, so landing the same payload twice is a no-op.
        media_type: one of the ``MEDIA_*`` constants; with ``read_options`` it lets ``connectors.formats``
            re-read the payload later (retry, audit) exactly as the connector did.
        origin: where it came from (file path, URL with page, query chunk), for lineage and error messages.
        records: the parsed records; every column is a string column so nothing is lost to type guessing
            (leading zeros of phones and codes, dd/mm dates).
        cursor: the source state to save once this batch is landed; ``None`` means "do not advance yet".
        read_options: how the payload was decoded (e.g. ``{"encoding": "cp1258"}``).
        identity: what identifies the batch when its payload alone does not: a part of a file read in bounded
            parts (``connectors.file_parts``) is identified by the file's SHA-256, the part size and its number,
            so a re-sent file gives the same parts and a part can never be mistaken for another file's.
    """

    payload: bytes
    media_type: str
    origin: str
    records: pa.Table
    cursor: Cursor | None = None
    read_options: dict[str, Any] = field(default_factory=dict)
    identity: str | None = None

    @property
    def row_count(self) -> int:
        return self.records.num_rows


class ConnectorConfig(BaseModel):
    """Base of connector configurations; ``type`` is the discriminator used in source YAML files."""

    model_config = ConfigDict(extra="forbid")
    type: str


C = TypeVar("C", bound=ConnectorConfig)


class Connector(ABC, Generic[C]):
    """A source kind. Subclasses declare ``Config`` and implement :meth:`extract`."""

    Config: ClassVar[type[ConnectorConfig]]
    #: How the runner (``lienthong.pipeline``) contains a failure. ``"batch"``: each batch stands alone (a file),
    #: a bad one is refused and the others go on. ``"cursor"``: batches follow a cursor saved after each (SQL
    #: chunks), a failure stops the run there. ``"run"``: the run is one unit (REST pages, also behind a gateway or an
    #: X-Road Security Server; the cursor rides on the last page), so its batches are landed as they come and
    #: processed only once the last one has arrived.
    isolation: ClassVar[Literal["batch", "cursor", "run"]] = "cursor"
    #: Whether the runner may read the next batch while it lands and checks this one
    #: (:func:`connectors.read_ahead.read_ahead`): only for a source whose reading has no side effect to order.
    read_ahead: ClassVar[bool] = False

    def __init__(self, config: C, *, source_id: str) -> None:
        self.config = config
        self.source_id = source_id

    @abstractmethod
    def extract(self, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield the batches that are new since ``cursor`` (``None`` on the first run).

        Raises:
            lienthong.errors.ExtractError: the source cannot be reached or answers with something unusable.
            lienthong.errors.MalformedInput: a payload cannot be parsed.
        """
