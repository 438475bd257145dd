"""Rebuild the frozen 2025 unit lists (catalog/data/provinces.csv, wards.csv) from vietnam-provinces 2025.10.1.

The lists were built from the installed package at every start until December 2026; they are now catalog data,
so the hub needs no package to know the 34 provinces and 3,321 communes. This script is how they were made and
how to check them: the package's names and codes, cleaned (NFC, plain apostrophes and dashes, single spaces),
the official codes of ``ward_code_corrections.csv`` applied (ADR 5, docs/catalog.md), the province spellings of
``province_aliases.csv`` and the usual short forms added as aliases.

    pip install vietnam-provinces==2025.10.1   # dev only: the extra "units"
    python scripts/freeze_admin_units.py [--out DIR]

A change of the output is a new version of the lists: update ``version`` in ``catalog/data/lists.yml`` (the
package version, the units' date and the digest of the corrections, as ``units_version()`` prints it).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catalog.admin_units import WARD_ABBREVIATIONS, WARD_PREFIXES  # noqa: E402 - after the repository is on the path
from catalog.manifest import DATA_DIR  # noqa: E402
from lienthong.vietnamese.folding import clean_text, spelling_key, without_diacritics  # noqa: E402

PACKAGE_VERSION = "2025.10.1"  # the version the catalog's lists were frozen from
UNITS_DATE = "2025-07-01"
PROVINCE_ALIASES_PATH = DATA_DIR / "province_aliases.csv"
WARD_CORRECTIONS_PATH = DATA_DIR / "ward_code_corrections.csv"
COLUMNS = ("code", "label_vi", "label_en", "parent", "aliases")
CITY_PREFIX, PROVINCE_PREFIX = "Thành phố ", "Tỉnh "


def missing_package() -> str | None:
    """Why the lists cannot be rebuilt here (a sentence), or ``None``."""
    try:
        installed = version("vietnam-provinces")
    except PackageNotFoundError:
        return f"vietnam-provinces is not installed (pip install vietnam-provinces=={PACKAGE_VERSION})"
    if installed != PACKAGE_VERSION:
        return f"vietnam-provinces {installed} is installed; the lists were frozen from {PACKAGE_VERSION}"
    return None


def units_version() -> str:
    """The lists' version: package version, units' date, digest of our code corrections."""
    digest = hashlib.sha256(WARD_CORRECTIONS_PATH.read_bytes()).hexdigest()[:8]
    return f"{PACKAGE_VERSION}/{UNITS_DATE}+{digest}"


def province_rows() -> list[dict]:
    """The 34 provinces, with aliases (name without its unit type, "TP …", extras of province_aliases.csv)."""
    from vietnam_provinces import Province

    with PROVINCE_ALIASES_PATH.open(encoding="utf-8-sig", newline="") as f:
        extra = {r["code"].strip(): [clean_text(a) for a in r["aliases"].split("|") if a.strip()]
                 for r in csv.DictReader(f)}
    rows = []
    for province in sorted(Province.iter_all(), key=lambda p: int(p.code)):
        code = f"{int(province.code):02d}"
        label = clean_text(province.name)
        short = _strip_prefix(label, (CITY_PREFIX, PROVINCE_PREFIX))
        if label.startswith(CITY_PREFIX):
            forms, label_en = [short, f"TP {short}", f"TP. {short}", f"TP.{short}"], f"{without_diacritics(short)} City"
        else:
            forms, label_en = [f"{PROVINCE_PREFIX}{short}"], without_diacritics(short)
        aliases = [a for a in dict.fromkeys([*forms, *extra.get(code, ())]) if a != label]
        rows.append({"code": code, "label_vi": label, "label_en": label_en, "parent": "", "aliases": aliases})
    return rows


def ward_rows() -> list[dict]:
    """The 3,321 communes, official codes applied, parent = province code, sorted by code."""
    from vietnam_provinces import Ward

    with WARD_CORRECTIONS_PATH.open(encoding="utf-8-sig", newline="") as f:
        corrections = {(r["province"], spelling_key(r["label_vi"])): r["code"] for r in csv.DictReader(f)}
    rows = []
    for ward in Ward.iter_all():
        province = f"{int(ward.province_code):02d}"
        label = clean_text(ward.name)
        code = corrections.get((province, spelling_key(label)), f"{int(ward.code):05d}")
        rows.append({"code": code, "label_vi": label, "label_en": "", "parent": province,
                     "aliases": _ward_aliases(label)})
    rows.sort(key=lambda r: r["code"])
    duplicates = sorted(code for code, n in Counter(r["code"] for r in rows).items() if n > 1)
    if duplicates:
        raise SystemExit(f"ward codes {', '.join(duplicates[:10])} are used twice after the corrections; "
                         "re-check ward_code_corrections.csv against the official list")
    return rows


def build(out: Path) -> None:
    reason = missing_package()
    if reason:
        raise SystemExit(f"cannot rebuild the unit lists: {reason}")
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("provinces.csv", province_rows()), ("wards.csv", ward_rows())):
        with (out / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows({**r, "aliases": "|".join(r["aliases"])} for r in rows)


def _ward_aliases(label: str) -> list[str]:
    for prefix in WARD_PREFIXES:
        if label.startswith(prefix):
            short = label[len(prefix):]
            return [short, *(f"{abbreviation}{short}" for abbreviation in WARD_ABBREVIATIONS[prefix])]
    return []


def _strip_prefix(text: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write provinces.csv and wards.csv")
    build(parser.parse_args().out)
    print(f"written; version {units_version()}")


if __name__ == "__main__":
    main()
