"""Rebuild the frozen ward crosswalk and address keywords (catalog/data/ward_crosswalk.*, address_keywords.csv).

Reads two public sources, installed as the dev-only extra ``crosswalk`` (never needed at run time):

* ``vietnamadminunits`` — its JSON tables (read as data; the package is not imported: its ``__init__`` builds an
  online geocoder): names and keywords of the units of both generations, and which old ward went into which
  2025 ward(s), a split ward listing several.
* ``vietnam-provinces`` ≥ 2026.1 — ``_ward_conversion_2025.OLD_TO_NEW`` (generated, its module says, from a
  conversion table): the 2025 ward(s) of each old ward, and whether the old ward was only partly merged.

2025 ward codes are turned into the catalog's (``catalog/data/wards.csv``): by code when the catalog has that
code for the same name in the same province, else by name in the province. Where the two readings name
different 2025 wards the row's status is ``disputed``; the hub then flags the ward with both readings.

    python scripts/build_ward_crosswalk.py             # rewrite catalog/data/
    python scripts/build_ward_crosswalk.py --out DIR   # write elsewhere (the test compares with the catalog)
    python scripts/build_ward_crosswalk.py --disputed  # list the disputed wards (docs/addresses.md)

vietnam-provinces ≥ 2026.1 declares Python ≥ 3.12; its data modules import on 3.11 too
(``pip install --no-deps --ignore-requires-python vietnam-provinces==2026.9.0`` into a separate environment).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import date
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catalog import get_code_list, match_key, ward_lookup  # noqa: E402 - after the repository is on the path
from catalog.crosswalk import (  # noqa: E402
    CROSSWALK_COLUMNS,
    CROSSWALK_PATH,
    KEYWORD_COLUMNS,
    KEYWORDS_PATH,
    PROVENANCE_PATH,
    STATUSES,
    crosswalk_status,
    write_csv,
)

SOURCES = ("vietnamadminunits", "vietnam-provinces")
_LEGACY_WARD_TABLES = {"DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED": False, "DICT_PROVINCE_DISTRICT_WARD_ACCENTED": True,
                       "DICT_PROVINCE_DISTRICT_WARD_SHORT_ACCENTED": True}
_NEW_WARD_TABLES = {"DICT_PROVINCE_WARD_NO_ACCENTED": False, "DICT_PROVINCE_WARD_ACCENTED": True,
                    "DICT_PROVINCE_WARD_SHORT_ACCENTED": True}


def missing_sources() -> str | None:
    """Why the sources cannot be read here (a sentence), or ``None`` when both are installed and usable."""
    if find_spec("vietnamadminunits") is None:
        return "vietnamadminunits is not installed (pip install -e '.[crosswalk]')"
    if find_spec("vietnam_provinces") is None:
        return "vietnam-provinces is not installed (pip install -e '.[crosswalk]')"
    if find_spec("vietnam_provinces._ward_conversion_2025") is None:
        return (f"vietnam-provinces {version('vietnam-provinces')} has no old→2025 ward table (added in 2026.1, "
                "which declares Python ≥ 3.12): install vietnam-provinces==2026.9.0 in a separate environment")
    return None


def build(out: Path) -> dict:
    """Write the three files into ``out``; returns the provenance record written."""
    reason = missing_sources()
    if reason:
        raise SystemExit(f"cannot rebuild the crosswalk: {reason}")
    legacy, new, conv = (_vau_table(n) for n in ("parser_legacy", "parser_from_2025", "converter_2025"))
    to_catalog = _CatalogCodes()
    keywords, ward_of_key = _keyword_rows(legacy, new, conv, to_catalog)
    crosswalk = _crosswalk_rows(legacy, new, conv, ward_of_key, to_catalog)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "generated": date.today().isoformat(),
        "script": "scripts/build_ward_crosswalk.py",
        "sources": {name: version(name) for name in SOURCES} | {"catalog wards": get_code_list("wards").version},
        "files": {
            CROSSWALK_PATH.name: write_csv(out / CROSSWALK_PATH.name, CROSSWALK_COLUMNS, crosswalk),
            KEYWORDS_PATH.name: write_csv(out / KEYWORDS_PATH.name, KEYWORD_COLUMNS, keywords),
        },
        "counts": {status: sum(r["status"] == status for r in crosswalk if r["legacy_ward_code"])
                   for status in STATUSES}
        | {"island districts without wards": sum(not r["legacy_ward_code"] for r in crosswalk)},
    }
    header = ("# Provenance of the frozen ward crosswalk (catalog/crosswalk.py). Generated with the files it\n"
              "# describes by scripts/build_ward_crosswalk.py: never edit by hand, rebuild.\n")
    (out / PROVENANCE_PATH.name).write_text(header + yaml.safe_dump(record, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")
    return record


def _vau_table(name: str) -> dict:
    spec = find_spec("vietnamadminunits")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


class _CatalogCodes:
    """A source's 2025 ward (code, name, province) -> the catalog's code: its own when the catalog agrees."""

    def __init__(self) -> None:
        self.labels = {v.code: (v.parent, match_key(v.label_vi)) for v in get_code_list("wards").values}

    def __call__(self, province: str, code: str, name: str) -> str:
        if self.labels.get(code) == (province, match_key(name)):
            return code
        found = ward_lookup(province, name)
        if found is None:
            raise SystemExit(f"the sources' 2025 ward {name} ({code}, province {province}) is not in the catalog")
        return found


def _keyword_rows(legacy: dict, new: dict, conv: dict, to_catalog: _CatalogCodes) -> tuple[list[dict], dict]:
    """Rows of address_keywords.csv, and (new province key, ward key) -> catalog code for the converter."""
    rows: list[dict] = []
    new_code = {key: p["provinceCode"] for key, p in new["DICT_PROVINCE"].items()}
    new_of_old = {old: new_code[key] for key, olds in conv["DICT_PROVINCE"].items() for old in olds}
    for key, p in legacy["DICT_PROVINCE"].items():
        rows.append(_unit("legacy", "province", p["provinceCode"], "", p["provinceCode"], p["province"],
                          new_of_old[key], p["provinceKeywords"], []))
    for p in new["DICT_PROVINCE"].values():
        rows.append(_unit("2025", "province", p["provinceCode"], "", p["provinceCode"], p["province"], "",
                          p["provinceKeywords"], []))
    divided: dict[tuple[str, str], list[str]] = defaultdict(list)  # an old district name shared after a split
    for pkey, groups in legacy["DICT_PROVINCE_DISTRICT_DIVIDED"].items():
        for group in groups.values():
            for dkey in group["districts"]:
                divided[pkey, dkey] += group["dividedDistrictKeywords"]
    for pkey, districts in legacy["DICT_PROVINCE_DISTRICT"].items():
        pcode = legacy["DICT_PROVINCE"][pkey]["provinceCode"]
        for dkey, d in districts.items():
            words = list(dict.fromkeys(d["districtKeywords"] + divided.pop((pkey, dkey), [])))
            rows.append(_unit("legacy", "district", pcode, d["districtCode"], d["districtCode"], d["district"], "",
                              words, []))
    if divided:
        raise SystemExit(f"divided districts not among the districts: {sorted(divided)}")
    wards: dict[tuple, dict] = {}
    for table, accented in _LEGACY_WARD_TABLES.items():
        for pkey, districts in legacy[table].items():
            for dkey, ward_table in districts.items():
                for wkey, w in ward_table.items():
                    if wkey == "NaN":  # an island district without wards: a crosswalk row, no keywords
                        continue
                    d = legacy["DICT_PROVINCE_DISTRICT"][pkey][dkey]
                    unit = wards.setdefault((pkey, dkey, wkey), _unit(
                        "legacy", "ward", legacy["DICT_PROVINCE"][pkey]["provinceCode"], d["districtCode"],
                        w["wardCode"], w["ward"], "", [], []))
                    unit["accented_keywords" if accented else "keywords"] += w["wardKeywords"]
    ward_of_key: dict[tuple[str, str], str] = {}
    for table, accented in _NEW_WARD_TABLES.items():
        for pkey, ward_table in new[table].items():
            for wkey, w in ward_table.items():
                code = to_catalog(new_code[pkey], w["wardCode"], w["ward"])
                ward_of_key[pkey, wkey] = code
                unit = wards.setdefault((pkey, wkey), _unit("2025", "ward", new_code[pkey], "", code, w["ward"], "",
                                                           [], []))
                unit["accented_keywords" if accented else "keywords"] += w["wardKeywords"]
    for unit in wards.values():
        unit["keywords"], unit["accented_keywords"] = (list(dict.fromkeys(unit[k]))
                                                       for k in ("keywords", "accented_keywords"))
    rows += sorted(wards.values(), key=lambda r: (r["generation"] != "legacy", r["code"]))
    return rows, ward_of_key


def _unit(generation: str, level: str, province: str, district: str, code: str, name: str, parent: str,
          keywords: list[str], accented: list[str]) -> dict:
    return {"generation": generation, "level": level, "province_code": province, "district_code": district,
            "code": code, "name": name, "parent": parent, "keywords": list(keywords), "accented_keywords": accented}


def _crosswalk_rows(legacy: dict, new: dict, conv: dict, ward_of_key: dict, to_catalog: _CatalogCodes) -> list[dict]:
    from vietnam_provinces import Ward
    from vietnam_provinces._ward_conversion_2025 import OLD_TO_NEW

    province_of_old = {old: new["DICT_PROVINCE"][key]["provinceCode"]
                       for key, olds in conv["DICT_PROVINCE"].items() for old in olds}
    vau: dict[str, tuple[str, ...]] = {}
    for pkey, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for wkey, olds in wards.items():
            vau.update(dict.fromkeys(olds, (ward_of_key[pkey, wkey],)))
    for pkey, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, targets in olds.items():
            vau[old] = tuple(sorted({ward_of_key[pkey, t["newWardKey"]] for t in targets}))
    vp_wards = {int(w.code): (f"{int(w.province_code):02d}", w.name) for w in Ward.iter_all()}
    rows = []
    for old_key, codes in vau.items():
        pkey, dkey, wkey = old_key.split("_")
        p, d = legacy["DICT_PROVINCE"][pkey], legacy["DICT_PROVINCE_DISTRICT"][pkey][dkey]
        w = _legacy_ward(legacy, pkey, dkey, wkey)
        entry = OLD_TO_NEW.get(int(w["wardCode"])) if w else None
        if entry and (f"{entry.old_ward.district_code:03d}" != d["districtCode"]):
            raise SystemExit(f"vietnam-provinces places old ward {w['wardCode']} in another district")
        vp = tuple(sorted({to_catalog(vp_wards[n.code][0], f"{n.code:05d}", vp_wards[n.code][1])
                           for n in entry.new_wards})) if entry else None
        rows.append({
            "legacy_province_code": p["provinceCode"], "legacy_province": p["province"],
            "legacy_district_code": d["districtCode"], "legacy_district": d["district"],
            "legacy_ward_code": w["wardCode"] if w else "", "legacy_ward": w["ward"] if w else "",
            "province_code": province_of_old[pkey],
            "ward_codes_vietnamadminunits": codes, "ward_codes_vietnam_provinces": vp if vp is not None else "",
            "partly_merged_vietnam_provinces": ("1" if entry.old_ward.is_partly_merged else "0") if entry else "",
            "status": crosswalk_status(codes, vp),
        })
    return sorted(rows, key=lambda r: (r["legacy_ward_code"], r["legacy_district_code"]))


def _legacy_ward(legacy: dict, pkey: str, dkey: str, wkey: str) -> dict | None:
    for table in _LEGACY_WARD_TABLES:
        w = legacy[table].get(pkey, {}).get(dkey, {}).get(wkey)
        if w is not None:
            return w
    if wkey:
        raise SystemExit(f"the converter names old ward {pkey}_{dkey}_{wkey}, which the parser does not list")
    return None  # an island district without wards


def disputed_lines() -> list[str]:
    """One line per disputed old ward, both readings named (the list docs/addresses.md refers to)."""
    from catalog.crosswalk import ward_crosswalk

    wards = get_code_list("wards")

    def named(codes: tuple[str, ...] | None) -> str:
        return " + ".join(f"{wards.label(c)} ({c})" for c in codes or ()) or "—"

    return [f"{r.legacy_ward} ({r.legacy_ward_code}), {r.legacy_district}, {r.legacy_province}: "
            f"vietnamadminunits {named(r.by_vietnamadminunits)}; vietnam-provinces {named(r.by_vietnam_provinces)}"
            for r in ward_crosswalk() if r.status == "disputed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=CROSSWALK_PATH.parent, help="folder to write the files into")
    parser.add_argument("--disputed", action="store_true", help="only list the disputed wards of the catalog")
    args = parser.parse_args()
    if args.disputed:
        print("\n".join(disputed_lines()))
        return
    record = build(args.out)
    print(yaml.safe_dump(record["counts"], allow_unicode=True, sort_keys=False), end="")


if __name__ == "__main__":
    main()
