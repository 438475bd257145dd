"""The 2025 administrative units (34 provinces, 3,321 commune-level units) as code lists.

They are built at load time from the installed ``vietnam-provinces`` package, never hand-typed, with two
reviewed data files on top:

* ``data/province_aliases.csv`` — extra province spellings ("TP HCM", "Sài Gòn", "Thừa Thiên Huế").
* ``data/ward_code_corrections.csv`` — official codes for the 122 communes whose code in vietnam-provinces
  2025.10.1 differs from the official list (Công văn 1027/CTK-CSCL of 25 June 2025, the list of Quyết định
  19/2025/QĐ-TTg). Corrections are keyed by province and name, so they become no-ops once the package is
  fixed.
  How they were checked: docs/catalog.md.

Codes are zero-padded strings: provinces 2 digits ("01"), wards 5 digits ("00070"); a ward's parent is its
province code.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, fields
from functools import cached_property
from importlib.metadata import version as package_version
from typing import TypeVar

from catalog.manifest import DATA_DIR, ListSpec
from catalog.model import CodeList, CodeValue
from catalog.text import clean_text, spelling_key, without_diacritics

UNITS_DATE = "2025-07-01"
_L = TypeVar("_L", bound=CodeList)
PROVINCE_ALIASES_PATH = DATA_DIR / "province_aliases.csv"
WARD_CORRECTIONS_PATH = DATA_DIR / "ward_code_corrections.csv"

CITY_PREFIX = "Thành phố "
PROVINCE_PREFIX = "Tỉnh "
# Unit types of a commune-level name, longest first, with the abbreviations sources use ("P. Hoàn Kiếm").
WARD_PREFIXES = ("Phường ", "Xã ", "Đặc khu ")
WARD_ABBREVIATIONS = {"Phường ": ("P. ",), "Xã ": ("X. ",), "Đặc khu ": ("ĐK ",)}


def units_version() -> str:
    """Version of the unit lists: package version, date of the units, and a digest of our code corrections
    ("2025.10.1/2025-07-01+c1a2b3c4"), so that a change to the corrections is stored as a new list version."""
    digest = hashlib.sha256(WARD_CORRECTIONS_PATH.read_bytes()).hexdigest()[:8]
    return f"{package_version('vietnam-provinces')}/{UNITS_DATE}+{digest}"


@dataclass(frozen=True)
class WardList(CodeList):
    """The commune-level list. ``lookup`` accepts only codes: ward names repeat across provinces (238 names
    occur in more than one), so a name means nothing without its province — use ``catalog.ward_lookup``."""

    def lookup(self, text: str | None) -> str | None:
        """The code for ``text`` if it is a ward code, else ``None``; names are deliberately not looked up.

        "70" (a spreadsheet dropped the leading zeros) is read as "00070".
        """
        if text is None:
            return None
        candidate = text.strip()
        if candidate.isdigit() and len(candidate) <= 5:
            candidate = candidate.zfill(5)
        return candidate if candidate in self.codes else None

    @cached_property
    def province_of(self) -> dict[str, str]:
        """Ward code -> province code."""
        return {v.code: v.parent for v in self.values if v.parent}


def typed_code_list(code_list: CodeList) -> CodeList:
    """The same list as the class its name calls for: a ``WardList`` for ``wards`` (code-only ``lookup``).

    Use it when a list is rebuilt elsewhere (the warehouse, an imported CSV) so it behaves as when loaded.
    """
    if code_list.name == "wards" and not isinstance(code_list, WardList):
        return WardList(**{f.name: getattr(code_list, f.name) for f in fields(CodeList)})
    return code_list


def build_provinces(spec: ListSpec) -> CodeList:
    """The 34 provinces from vietnam-provinces, with aliases (name without its unit type, "TP …", extras)."""
    from vietnam_provinces import Province  # imported here: only this loader needs the package

    extra = _read_province_aliases()
    values = []
    for province in sorted(Province.iter_all(), key=lambda p: int(p.code)):
        code = f"{int(province.code):02d}"
        label = clean_text(province.name)
        short = _strip_prefix(label, (CITY_PREFIX, PROVINCE_PREFIX))
        if label.startswith(CITY_PREFIX):
            forms = [short, f"TP {short}", f"TP. {short}", f"TP.{short}"]
            label_en = f"{without_diacritics(short)} City"
        else:
            forms = [f"{PROVINCE_PREFIX}{short}"]
            label_en = without_diacritics(short)
        aliases = tuple(dict.fromkeys(a for a in (*forms, *extra.get(code, ())) if a != label))
        values.append(CodeValue(code=code, label_vi=label, label_en=label_en, aliases=aliases))
    return _code_list(CodeList, spec, values)


def build_wards(spec: ListSpec) -> WardList:
    """The 3,321 commune-level units from vietnam-provinces, official codes applied, parent = province code.

    Raises:
        RuntimeError: if, after corrections, two wards share a code — the package data changed in a way the
            corrections file does not cover; re-check it against the official list (docs/catalog.md).
    """
    from vietnam_provinces import Ward

    corrections = _read_ward_corrections()
    values = []
    for ward in Ward.iter_all():
        province = f"{int(ward.province_code):02d}"
        label = clean_text(ward.name)
        code = corrections.get((province, spelling_key(label)), f"{int(ward.code):05d}")
        values.append(CodeValue(code=code, label_vi=label, parent=province, aliases=ward_aliases(label)))
    values.sort(key=lambda v: v.code)
    duplicates = sorted(code for code, n in Counter(v.code for v in values).items() if n > 1)
    if duplicates:
        msg = (
            f"ward codes {', '.join(duplicates[:10])} are used twice after {WARD_CORRECTIONS_PATH.name}; "
            "vietnam-provinces changed: re-check the corrections against the official list"
        )
        raise RuntimeError(msg)
    return _code_list(WardList, spec, values)


def ward_aliases(label: str) -> tuple[str, ...]:
    """A ward's name without its unit type ("Hoàn Kiếm") and the abbreviated form ("P. Hoàn Kiếm")."""
    for prefix in WARD_PREFIXES:
        if label.startswith(prefix):
            short = label[len(prefix) :]
            return (short, *(f"{abbreviation}{short}" for abbreviation in WARD_ABBREVIATIONS[prefix]))
    return ()


def _code_list(cls: type[_L], spec: ListSpec, values: list[CodeValue]) -> _L:
    return cls(
        name=spec.name,
        version=units_version(),
        title_vi=spec.title_vi,
        title_en=spec.title_en,
        valid_from=spec.valid_from,
        basis=spec.basis,
        values=tuple(values),
    )


def _strip_prefix(text: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _read_province_aliases() -> dict[str, tuple[str, ...]]:
    with PROVINCE_ALIASES_PATH.open(encoding="utf-8-sig", newline="") as f:
        return {
            row["code"].strip(): tuple(clean_text(a) for a in row["aliases"].split("|") if a.strip())
            for row in csv.DictReader(f)
        }


def _read_ward_corrections() -> dict[tuple[str, str], str]:
    """(province code, spelling key of the ward's name) -> official ward code."""
    with WARD_CORRECTIONS_PATH.open(encoding="utf-8-sig", newline="") as f:
        return {(row["province"], spelling_key(row["label_vi"])): row["code"] for row in csv.DictReader(f)}
