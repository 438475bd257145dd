"""Charts are drawn again only when the figures they show change; otherwise the previous files are kept."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from lienthong.open_data.build import build_open_data
from lienthong.pipeline import publish_all, sync_source
from tests.lienthong.conftest import HEADER
from tests.lienthong.open_data.conftest import Fixture, Person, member_row

MEMBERS, RELIEF = "chart_members_by_province", "chart_relief_by_campaign"


def charts_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Each chart file: its bytes and modification time (a copy keeps the time, a drawing does not)."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.glob("chart_*"))}


def build(fx: Fixture, folder: Path) -> Path:
    return build_open_data(fx.hub.engine, folder, fx.hub.code_lists, threshold=5, as_of=date(2026, 1, 1)).folder


def test_unchanged_figures_keep_their_files_and_changed_ones_are_redrawn(tempting: Fixture, tmp_path: Path) -> None:
    folder = build(tempting, tmp_path / "open-data")
    first = charts_of(folder)
    assert len(first) == 4
    assert charts_of(build(tempting, folder)) == first  # nothing changed: the same files, not drawn again
    # 10 more members in province 04: the members chart changes, the relief chart does not
    more = [member_row(Person(f"HV{800 + i}", f"Đỗ Thị Nga {i}", f"00118507{i:04d}", f"09130{i:05d}", "Kinh",
                              "01273")) for i in range(10)]
    (tempting.drop / "m" / "c.csv").write_text("\ufeff" + "\n".join([HEADER, *more]) + "\n", encoding="utf-8")
    for source in tempting.hub.sources.values():
        sync_source(tempting.hub, source)
    publish_all(tempting.hub, ["members"])
    second = charts_of(build(tempting, folder))
    assert {n: second[n] == first[n] for n in first} == {
        f"{MEMBERS}.png": False, f"{MEMBERS}.svg": False, f"{RELIEF}.png": True, f"{RELIEF}.svg": True}
    # a previous release whose digests do not match (another drawing, or edited by hand) is drawn again
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for r in package["resources"]:
        if "x-figures-sha256" in r:
            r["x-figures-sha256"] = "0" * 64
    (folder / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    third = charts_of(build(tempting, folder))
    assert all(third[n][0] == second[n][0] and third[n][1] != second[n][1] for n in second)
