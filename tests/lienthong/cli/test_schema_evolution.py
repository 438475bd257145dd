"""When a feed's columns change (docs/sources.md): optional columns may go missing, required ones may not, new
columns are refused unless ignored — by the sync, and by `check`, which uses the same rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from lienthong.errors import MalformedInput
from lienthong.file_check import check_file
from lienthong.pipeline import sync_source
from lienthong.registry import SourceConfig
from lienthong.warehouse.queries import batches
from tests.lienthong.conftest import GOOD_ROWS, MEMBER_COLUMNS, HubFactory, file_source


def _feed(folder: Path, drop: tuple[str, ...] = (), add: dict[str, str] | None = None) -> Path:
    """The good rows without the columns ``drop`` and with the extra columns ``add`` (header -> value)."""
    header = list(MEMBER_COLUMNS.values())
    keep = [i for i, h in enumerate(header) if h not in drop]
    lines = [";".join([*(header[i] for i in keep), *(add or {})])]
    for row in GOOD_ROWS:
        cells = row.split(";")
        lines.append(";".join([*(cells[i] for i in keep), *(add or {}).values()]))
    folder.mkdir(exist_ok=True)
    path = folder / "feed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _source(folder: Path, **overrides) -> dict:
    return file_source(folder, **overrides)


def test_a_missing_optional_column_is_accepted_and_left_empty(make_hub: HubFactory, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    path = _feed(folder, drop=("Tôn giáo", "Chi hội"))
    source = _source(folder)
    assert check_file(path, SourceConfig.model_validate(source)).to_json()["failing"] == []
    hub = make_hub([source])
    run = sync_source(hub, hub.sources[source["id"]])
    assert not run.problems and run.rows_valid == len(GOOD_ROWS)
    with hub.engine.connect() as conn:
        staged = conn.execute(text("SELECT religion_code, branch FROM stg_members")).all()
    assert staged and all(r == (None, None) for r in staged)
    hub.engine.dispose()


def test_a_missing_required_column_is_refused_with_its_name(make_hub: HubFactory, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    path = _feed(folder, drop=("Họ và tên", "Tôn giáo"))
    source = _source(folder)
    with pytest.raises(MalformedInput) as refused:
        check_file(path, SourceConfig.model_validate(source))
    assert "Họ và tên" in str(refused.value) and "Tôn giáo" not in str(refused.value)
    assert "thiếu cột bắt buộc Họ và tên" in refused.value.message_vi
    hub = make_hub([source])
    run = sync_source(hub, hub.sources[source["id"]])
    assert run.rows_read == 0 and any("Họ và tên" in p.message for p in run.problems)
    assert batches(hub.engine, source_id=source["id"]) == []  # nothing of a refused file is landed
    hub.engine.dispose()


def test_an_unknown_column_is_refused_unless_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    path = _feed(folder, add={"Sở thích": "đọc sách"})
    with pytest.raises(MalformedInput, match="Sở thích"):
        check_file(path, SourceConfig.model_validate(_source(folder)))
    listed = SourceConfig.model_validate(_source(folder, ignore_columns=["Sở thích"]))
    assert check_file(path, listed).to_json()["failing"] == []
    ignoring = SourceConfig.model_validate(_source(folder, on_new_column="ignore"))
    assert check_file(path, ignoring).to_json()["failing"] == []


def test_on_new_column_takes_only_its_two_values(tmp_path: Path) -> None:
    assert SourceConfig.model_validate(_source(tmp_path)).on_new_column == "refuse"
    with pytest.raises(ValidationError, match="on_new_column"):
        SourceConfig.model_validate(_source(tmp_path, on_new_column="sometimes"))
