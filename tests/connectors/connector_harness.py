"""Source harnesses for the connector conformance suite, one per connector kind, each with a real source.

A harness owns a source (a folder, the simulated member API, a SQLite file, a PostgreSQL database), can add
member records to it, break it and corrupt it, and builds a connector reading it ``CHUNK`` records at a time.
The fixtures that create them are in ``conftest.py``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from connectors import FilesConfig, RestConfig, SqlConfig, build_connector
from connectors.base import Connector
from lienthong.demo.member_api import MemberApi
from lienthong.errors import ExtractError, MalformedInput

CHUNK = 10
COLUMNS = ["id", "ho_ten", "dien_thoai", "updated_at"]


def members(start: int, stop: int) -> list[dict[str, Any]]:
    """Readable generated member records; phones keep their leading zero, names their tone marks."""
    names = ["Nguyễn Thị Hoà", "Trần Văn Đức", "Lê Thị Hường", "Phạm Quốc Việt"]
    return [
        {
            "id": i,
            "ho_ten": f"{names[i % len(names)]} {i}",
            "dien_thoai": f"09{i:08d}",
            "updated_at": f"2025-01-{1 + i // 100:02d}T08:{(i // 60) % 60:02d}:{i % 60:02d}",
        }
        for i in range(start, stop)
    ]


class FilesHarness:
    """A drop folder; each ``add`` writes CSV files of ``CHUNK`` records."""

    kind, incremental, can_corrupt = "files", False, True

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = 0

    def add(self, records: list[dict[str, Any]]) -> None:
        for i in range(0, len(records), CHUNK):
            self._write(records[i:i + CHUNK])

    def _write(self, records: list[dict[str, Any]], ragged: bool = False) -> None:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([[r[c] for c in COLUMNS] for r in records])
        if ragged:
            out.write("1;only two\n")
        self.files += 1
        (self.folder / f"members_{self.files:03d}.csv").write_text(out.getvalue(), encoding="utf-8")

    def connector(self) -> Connector:
        return build_connector(FilesConfig(path=str(self.folder), pattern="*.csv"), source_id="test_files")

    def break_source(self) -> type[Exception]:
        self.folder = self.folder / "gone"
        return ExtractError

    def corrupt(self) -> type[Exception]:
        self._write(members(0, 3), ragged=True)
        return MalformedInput


class RestHarness:
    """The simulated member API, read with one of the pagination strategies."""

    incremental, can_corrupt = True, True
    PAGINATION: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
        "page": ({"type": "page", "page_size": CHUNK}, {}),
        "offset": ({"type": "offset", "limit": CHUNK}, {}),
        "cursor": ({"type": "cursor"}, {"limit": str(CHUNK)}),
        "next_link": ({"type": "next_link"}, {"page_size": str(CHUNK)}),
    }

    def __init__(self, api: MemberApi, pagination: str) -> None:
        self.api, self.pagination, self.kind = api, pagination, f"rest-{pagination}"

    def add(self, records: list[dict[str, Any]]) -> None:
        self.api.records.extend(records)

    def connector(self) -> Connector:
        pagination, params = self.PAGINATION[self.pagination]
        config = RestConfig.model_validate({
            "url": self.api.members_url, "pagination": pagination, "params": params, "incremental": {},
            "max_retries": 2, "backoff_s": 0.001, "timeout_s": 5,
        })
        return build_connector(config, source_id="test_rest")

    def break_source(self) -> type[Exception]:
        self.api.faults.fail_every_nth_with_500 = 1
        return ExtractError

    def corrupt(self) -> type[Exception]:
        self.api.faults.html_on_page = len(self.api.requests) + 2  # the second page of the next run
        return MalformedInput


class SqlHarness:
    """A ``members`` table in a real database, read by keyset on (updated_at, id)."""

    incremental, can_corrupt = True, False

    def __init__(self, url: str, kind: str, broken_url: str) -> None:
        self.url, self.kind, self.broken_url = url, kind, broken_url
        engine = sa.create_engine(url)
        self.timestamp = "TIMESTAMP" if engine.dialect.name == "postgresql" else "TEXT"
        with engine.begin() as conn:
            conn.execute(sa.text(
                "CREATE TABLE members (id INTEGER PRIMARY KEY, ho_ten TEXT, dien_thoai TEXT, "
                f"updated_at {self.timestamp})"
            ))
        self.engine = engine

    def add(self, records: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO members (id, ho_ten, dien_thoai, updated_at) "
                    f"VALUES (:id, :ho_ten, :dien_thoai, CAST(:updated_at AS {self.timestamp}))"
                ),
                records,
            )

    def connector(self) -> Connector:
        config = SqlConfig(url=self.url, table="members", watermark="updated_at", key="id", chunk_size=CHUNK)
        return build_connector(config, source_id="test_sql")

    def break_source(self) -> type[Exception]:
        self.url = self.broken_url
        return ExtractError

    def corrupt(self) -> type[Exception]:
        raise NotImplementedError("a database returns typed rows: there is nothing to corrupt")
