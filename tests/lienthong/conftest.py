"""Fixtures for the engine's tests: a hub over a fresh warehouse, with sources written as real YAML files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from lienthong.hub import Hub
from lienthong.settings import Settings

MEMBER_COLUMNS = {
    "member_id": "Mã hội viên", "full_name": "Họ và tên", "sex": "Giới tính", "date_of_birth": "Ngày sinh",
    "id_number": "Số CCCD", "phone": "Số điện thoại", "ethnicity_code": "Dân tộc", "religion_code": "Tôn giáo",
    "ward_code": "Mã xã", "address": "Địa chỉ", "branch": "Chi hội", "joined_on": "Ngày vào hội",
    "status": "Trạng thái",
}
HEADER = ";".join(MEMBER_COLUMNS.values())
GOOD_ROWS = [
    "HV001;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 1;"
    "01/01/2010;active",
    "HV002;trần thị  lan;2;15/07/1990;079190123456;+84 983 123 456;01;00;00070;;Chi hội 1;2015-03-04;active",
    "HV003;Lê Thị Mai;nữ;1992-12-31;;0377 123 456;Kinh;Phật giáo;00004;;Chi hội 2;;active",
]
BAD_ROWS = [
    "HV004;;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;;Chi hội 1;;active",  # no name
    "HV005;Phạm Thị Hạnh;Nữ;31/02/1990;;;Kinh;Không;00070;;Chi hội 1;;active",  # impossible date
    "HV006;Vũ Thị Ngọc;Nữ;01/02/1985;0011850123;;Kinhh;Không;99999;;Chi hội 1;;active",  # 3 problems
]


def members_csv(rows: list[str]) -> str:
    return "\ufeff" + "\n".join([HEADER, *rows]) + "\n"


def file_source(folder: Path, source_id: str = "hlhpn_files", **overrides) -> dict:
    source = {
        "id": source_id,
        "title": "Test file drop",
        "organisation": "HLHPN",
        "dataset": "members",
        "connector": {"type": "files", "path": str(folder), "pattern": "*.csv"},
        "mapping": MEMBER_COLUMNS,
        "constants": {"organisation": "HLHPN"},
    }
    source.update(overrides)
    return source


HubFactory = Callable[..., Hub]


@pytest.fixture
def make_hub(tmp_path: Path) -> HubFactory:
    """Build a hub on ``url`` (SQLite in tmp_path by default) whose registry holds ``sources``; initialised."""
    return hub_factory(tmp_path)


def hub_factory(tmp_path: Path) -> HubFactory:
    """:func:`make_hub` for a folder of any scope (a module's fixture shares one warehouse among read-only tests)."""

    def make(sources: list[dict], url: str | None = None) -> Hub:
        sources_dir = tmp_path / "sources"
        sources_dir.mkdir(exist_ok=True)
        for old in sources_dir.glob("*.yml"):
            old.unlink()
        for s in sources:
            (sources_dir / f"{s['id']}.yml").write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")
        settings = Settings(home=tmp_path / "home", database_url=url or f"sqlite:///{tmp_path / 'wh.db'}",
                            sources_dir=sources_dir)
        hub = Hub.open(settings, require_init=False)
        hub.initialise()
        return hub

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each engine test runs on the embedded SQLite warehouse and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("pg_url")
