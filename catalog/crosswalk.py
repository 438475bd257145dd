"""The legacy → 2025 ward crosswalk and the address keywords, as frozen catalog data.

Three files in ``data/``, written by ``scripts/build_ward_crosswalk.py`` and never edited by hand:

* ``ward_crosswalk.csv`` — one row per ward of the 63-province generation (and per island district that had
  no wards): its codes and names, the 2025 province, and the 2025 ward(s) it went into *as each public source
  reads it* (``vietnamadminunits`` and ``vietnam-provinces``), with a ``status``: ``one`` (both name the same
  single ward), ``split`` (both name the same several wards) or ``disputed`` (they differ: the hub flags the
  ward with both readings instead of picking one).
* ``address_keywords.csv`` — the names and keywords an address may use for each unit of both generations
  (provinces, old districts, old and 2025 wards), from ``vietnamadminunits``' parser tables.
* ``ward_crosswalk.yml`` — provenance: source packages and versions, date generated, row counts and the
  SHA-256 of each file, checked on load so that a hand edit is refused instead of silently used.

The runtime reads only these files: neither source package is needed to map an address.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from catalog.manifest import DATA_DIR

CROSSWALK_PATH = DATA_DIR / "ward_crosswalk.csv"
KEYWORDS_PATH = DATA_DIR / "address_keywords.csv"
PROVENANCE_PATH = DATA_DIR / "ward_crosswalk.yml"
REBUILD = "python scripts/build_ward_crosswalk.py (docs/addresses.md)"
LIST_SEPARATOR = "|"
STATUSES = ("one", "split", "disputed")

CROSSWALK_COLUMNS = (
    "legacy_province_code", "legacy_province", "legacy_district_code", "legacy_district", "legacy_ward_code",
    "legacy_ward", "province_code", "ward_codes_vietnamadminunits", "ward_codes_vietnam_provinces",
    "partly_merged_vietnam_provinces", "status",
)
KEYWORD_COLUMNS = ("generation", "level", "province_code", "district_code", "code", "name", "parent", "keywords",
                   "accented_keywords")


class CrosswalkDataError(ValueError):
    """The frozen crosswalk files are missing, edited by hand or inconsistent; says which and how to rebuild."""


@dataclass(frozen=True)
class CrosswalkRow:
    """One old ward (or an island district without wards: empty ``legacy_ward_code``) and its 2025 ward(s).

    ``by_vietnamadminunits`` / ``by_vietnam_provinces``: the 2025 catalog ward codes each source names; the
    latter is ``None`` when that source does not list the old ward.
    """

    legacy_province_code: str
    legacy_province: str
    legacy_district_code: str
    legacy_district: str
    legacy_ward_code: str
    legacy_ward: str
    province_code: str
    by_vietnamadminunits: tuple[str, ...]
    by_vietnam_provinces: tuple[str, ...] | None
    partly_merged: bool | None  # vietnam-provinces' "is_partly_merged" of the old ward
    status: str

    @property
    def ward_codes(self) -> tuple[str, ...]:
        """Every 2025 ward either source names, sorted: one code unless split or disputed."""
        return tuple(sorted({*self.by_vietnamadminunits, *(self.by_vietnam_provinces or ())}))


@dataclass(frozen=True)
class UnitKeywords:
    """One administrative unit and the keywords an address may name it by.

    ``generation`` is ``legacy`` (before 1 July 2025) or ``2025``; ``level`` ``province``, ``district`` or
    ``ward``. Codes are those of the unit's generation (2025 wards: the catalog's codes); ``parent`` is, for an
    old province, the 2025 province it merged into. ``keywords`` are keyed without diacritics;
    ``accented_keywords`` keep them, for names that differ only by diacritics ("Văn Lang", "Văn Lăng").
    """

    generation: str
    level: str
    province_code: str
    district_code: str
    code: str
    name: str
    parent: str
    keywords: tuple[str, ...]
    accented_keywords: tuple[str, ...]


def crosswalk_status(by_vietnamadminunits: tuple[str, ...], by_vietnam_provinces: tuple[str, ...] | None) -> str:
    """``one``/``split`` when the sources agree (or only one lists the ward), else ``disputed``."""
    if by_vietnam_provinces is not None and set(by_vietnam_provinces) != set(by_vietnamadminunits):
        return "disputed"
    return "split" if len(by_vietnamadminunits) > 1 else "one"


@cache
def ward_crosswalk() -> tuple[CrosswalkRow, ...]:
    """The frozen crosswalk, in file order (by old ward code; island districts first).

    Raises:
        CrosswalkDataError: the file is missing, differs from its provenance record, or a row is inconsistent.
    """
    rows = []
    for line, row in _read(CROSSWALK_PATH, CROSSWALK_COLUMNS):
        vau = _split(row["ward_codes_vietnamadminunits"])
        vp = _split(row["ward_codes_vietnam_provinces"]) if row["ward_codes_vietnam_provinces"] else None
        merged = {"1": True, "0": False, "": None}.get(row["partly_merged_vietnam_provinces"])
        if not vau or row["status"] != crosswalk_status(vau, vp):
            msg = f"{CROSSWALK_PATH}, line {line}: status {row['status']!r} does not follow from the two readings"
            raise CrosswalkDataError(f"{msg}; rebuild with {REBUILD}")
        rows.append(CrosswalkRow(
            **{k: row[k] for k in CROSSWALK_COLUMNS[:7]}, by_vietnamadminunits=vau, by_vietnam_provinces=vp,
            partly_merged=merged, status=row["status"],
        ))
    return tuple(rows)


@cache
def address_keywords() -> tuple[UnitKeywords, ...]:
    """Every unit of both generations with its keywords (see :class:`UnitKeywords`), in file order.

    Raises:
        CrosswalkDataError: the file is missing or differs from its provenance record.
    """
    return tuple(
        UnitKeywords(**{k: row[k] for k in KEYWORD_COLUMNS[:7]}, keywords=_split(row["keywords"]),
                     accented_keywords=_split(row["accented_keywords"]))
        for _, row in _read(KEYWORDS_PATH, KEYWORD_COLUMNS)
    )


@cache
def crosswalk_provenance() -> dict:
    """The provenance record (``ward_crosswalk.yml``): ``generated``, ``sources``, ``files``, ``counts``."""
    try:
        with PROVENANCE_PATH.open(encoding="utf-8") as f:
            return yaml.safe_load(f)
    except OSError as exc:
        msg = f"{PROVENANCE_PATH}: cannot be read ({exc.strerror}); rebuild with {REBUILD}"
        raise CrosswalkDataError(msg) from None


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> dict:
    """Write one of the frozen files (lists joined by ``|``); returns its provenance entry (rows, SHA-256)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: LIST_SEPARATOR.join(v) if isinstance(v, tuple | list) else v for k, v in row.items()})
    return {"rows": len(rows), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _read(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    expected = crosswalk_provenance().get("files", {}).get(path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror}); rebuild with {REBUILD}"
        raise CrosswalkDataError(msg) from None
    if expected is None or hashlib.sha256(data).hexdigest() != expected["sha256"]:
        msg = (f"{path} is not the file recorded in {PROVENANCE_PATH.name} (edited by hand?); the crosswalk is "
               f"generated data: rebuild it with {REBUILD}")
        raise CrosswalkDataError(msg)
    reader = csv.DictReader(data.decode("utf-8").splitlines())
    if tuple(reader.fieldnames or ()) != columns:
        msg = f"{path}: header {reader.fieldnames} is not {list(columns)}; rebuild with {REBUILD}"
        raise CrosswalkDataError(msg)
    return list(enumerate(reader, start=2))


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split(LIST_SEPARATOR)) if text else ()
