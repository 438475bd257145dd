"""The legacy → 2025 ward crosswalk as frozen catalog data: what the script builds, its provenance, hand edits
refused, the disputed wards listed in docs/addresses.md, and a runtime that needs neither source package."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from catalog import crosswalk
from catalog.crosswalk import CrosswalkDataError, crosswalk_status, ward_crosswalk

ROOT = Path(__file__).resolve().parents[2]
FILES = (crosswalk.CROSSWALK_PATH, crosswalk.KEYWORDS_PATH, crosswalk.PROVENANCE_PATH)


def _script():  # noqa: ANN202 - the module scripts/build_ward_crosswalk.py
    spec = importlib.util.spec_from_file_location("build_ward_crosswalk", ROOT / "scripts" / "build_ward_crosswalk.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_ward_crosswalk", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # rebuilds the crosswalk from both source packages when the [crosswalk] extra is installed
def test_the_frozen_crosswalk_is_what_the_script_builds_from_the_installed_sources(tmp_path: Path) -> None:
    script = _script()
    reason = script.missing_sources()
    if reason:
        pytest.skip(f"cannot rebuild the crosswalk here: {reason}")
    script.build(tmp_path)
    for path in FILES[:2]:
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), f"{path.name}: rebuild and commit it"
    built, frozen = (yaml.safe_load((d / FILES[2].name).read_text(encoding="utf-8"))
                     for d in (tmp_path, FILES[2].parent))
    built.pop("generated"), frozen.pop("generated")
    assert built == frozen


def test_the_provenance_names_the_sources_and_counts_the_rows() -> None:
    record = crosswalk.crosswalk_provenance()
    assert record["sources"]["vietnamadminunits"] == "1.0.4"
    assert record["sources"]["vietnam-provinces"] == "2026.9.0"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(record["generated"]))
    rows = ward_crosswalk()
    assert record["files"]["ward_crosswalk.csv"]["rows"] == len(rows) == 10_040
    assert record["files"]["address_keywords.csv"]["rows"] == len(crosswalk.address_keywords())
    wards = [r for r in rows if r.legacy_ward_code]
    assert {s: sum(r.status == s for r in wards) for s in crosswalk.STATUSES} == {
        s: record["counts"][s] for s in crosswalk.STATUSES}
    assert record["counts"] == {"one": 9562, "split": 436, "disputed": 37, "island districts without wards": 5}


def test_status_follows_from_the_two_readings() -> None:
    assert crosswalk_status(("00004",), ("00004",)) == "one"
    assert crosswalk_status(("00004", "00008"), ("00008", "00004")) == "split"
    assert crosswalk_status(("00004",), None) == "one"  # only one source lists the old ward
    assert crosswalk_status(("00004",), ("00004", "00008")) == "disputed"
    assert crosswalk_status(("00004", "00008"), ("00004",)) == "disputed"


@pytest.fixture
def copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - yields the folder of copies
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
        monkeypatch.setattr(crosswalk, next(k for k in ("CROSSWALK_PATH", "KEYWORDS_PATH", "PROVENANCE_PATH")
                                           if getattr(crosswalk, k) == path), tmp_path / path.name)
    for loader in (crosswalk.ward_crosswalk, crosswalk.address_keywords, crosswalk.crosswalk_provenance):
        loader.cache_clear()
    yield tmp_path
    for loader in (crosswalk.ward_crosswalk, crosswalk.address_keywords, crosswalk.crosswalk_provenance):
        loader.cache_clear()


def test_a_hand_edited_crosswalk_is_refused_with_how_to_rebuild(copied: Path) -> None:
    path = copied / "ward_crosswalk.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",disputed\n", ",one\n", 1), encoding="utf-8")
    with pytest.raises(CrosswalkDataError, match=r"edited by hand\?.*build_ward_crosswalk\.py"):
        ward_crosswalk()


def test_a_missing_crosswalk_file_says_so(copied: Path) -> None:
    (copied / "address_keywords.csv").unlink()
    with pytest.raises(CrosswalkDataError, match="address_keywords.csv: cannot be read"):
        crosswalk.address_keywords()


def test_docs_list_every_disputed_ward_with_both_readings() -> None:
    doc = (ROOT / "docs" / "addresses.md").read_text(encoding="utf-8")
    listed = doc.split("<!-- disputed wards: start -->")[1].split("<!-- disputed wards: end -->")[0]
    lines = [line[2:] for line in listed.strip().splitlines()]
    assert lines == _script().disputed_lines()
    count = int(re.search(r"\*\*(\d+) old wards\*\* on which the two sources disagree", doc).group(1))
    assert count == len(lines) == sum(r.status == "disputed" for r in ward_crosswalk())


RUNTIME_WITHOUT_SOURCES = """
import importlib.abc, sys
HIDDEN = ("vietnamadminunits", "vietnam_provinces", "geopy", "shapely")
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ImportError(f"{name} is hidden: the runtime must not need it")
sys.meta_path.insert(0, Hide())
import pyarrow as pa
from catalog import load_code_lists
from lienthong.cleaning.addresses import map_addresses
lists = load_code_lists()
result = map_addresses(pa.array(["P. Trúc Bạch, Q. Ba Đình, Hà Nội", "Xã Hồng Quang, H. Quảng Hòa, Cao Bằng"]))
print(len(lists["wards"].values), result.values.to_pylist(), result.issues.to_pylist())
print(sorted(m for m in sys.modules if m.split(".")[0] in HIDDEN))
"""


def test_the_runtime_needs_neither_source_package() -> None:
    out = subprocess.run([sys.executable, "-c", RUNTIME_WITHOUT_SOURCES], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.splitlines()
    assert out == ["3321 ['00004', None] ['address_legacy_converted', "
                   "'address_ward_split;address_ward_sources_disagree']", "[]"]
