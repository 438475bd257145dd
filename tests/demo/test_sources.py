"""The demo's source registry (sources/*.yml) agrees with what prepare_demo writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lienthong.demo.environment import (
    DTN_COLUMNS,
    DTN_WATERMARK,
    FEEDBACK_HEADERS,
    FEEDBACK_SUMMARY,
    HLHPN_KEYS,
    HLHPN_UPDATED,
    HND_HEADERS,
    HND_NOTE,
    RELIEF_KEYS,
    RELIEF_NOTE,
    prepare_demo,
)
from lienthong.registry import SourceConfig, load_registry
from lienthong.settings import PROJECT_ROOT

SOURCES = PROJECT_ROOT / "sources"
DEMO_SOURCES = {  # id -> (organisation, dataset, contract field -> column, ignored columns)
    "hlhpn_api": ("HLHPN", "members", HLHPN_KEYS, [HLHPN_UPDATED]),
    "hnd_files": ("HND", "members", HND_HEADERS, [HND_NOTE]),
    "dtn_db": ("DTN", "members", DTN_COLUMNS, [DTN_WATERMARK]),
    "feedback_247": ("MTTQ", "feedback", FEEDBACK_HEADERS, [FEEDBACK_SUMMARY]),
    "relief_campaigns": ("MTTQ", "relief", RELIEF_KEYS, [RELIEF_NOTE]),
}


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, SourceConfig]:
    monkeypatch.setenv("LIENTHONG_HOME", str(tmp_path))
    monkeypatch.delenv("LIENTHONG_DEMO_API_URL", raising=False)
    return load_registry(SOURCES)


def test_each_demo_source_is_valid_and_maps_what_the_demo_writes(registry: dict[str, SourceConfig]) -> None:
    for source_id, (organisation, dataset, columns, ignored) in DEMO_SOURCES.items():
        source = registry[source_id]
        assert (source.organisation, source.dataset) == (organisation, dataset)
        assert source.mapping == {f: c for f, c in columns.items() if f not in source.constants}
        assert source.ignore_columns == ignored
    assert registry["hlhpn_api"].constants == {"organisation": "HLHPN"}
    assert registry["hlhpn_api"].connector.url == "http://127.0.0.1:8765/api/members"


def test_file_and_sql_sources_read_the_demo_with_every_mapped_column(
    registry: dict[str, SourceConfig], tmp_path: Path
) -> None:
    """The real connectors over a prepared demo: all expected columns, nothing unknown, every row."""
    from connectors.files import FilesConnector
    from connectors.sql import SqlConnector

    demo = prepare_demo(tmp_path / "demo")
    for source_id in ("hnd_files", "dtn_db", "feedback_247", "relief_campaigns"):
        source = registry[source_id]
        kind = SqlConnector if source.connector.type == "sql" else FilesConnector
        rows = 0
        for batch in kind(source.connector, source_id=source_id).extract(None):
            expected = set(source.expected_columns) | set(source.ignore_columns)
            assert set(batch.records.column_names) == expected
            rows += batch.row_count
        assert rows == demo.counts[source_id], source_id
