"""The manifest ``catalog/data/lists.yml``: which code lists exist, where their content comes from, and their
metadata (version, titles, validity, legal basis)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"
MANIFEST_PATH = DATA_DIR / "lists.yml"


@dataclass(frozen=True)
class ListSpec:
    """One manifest entry: a CSV file in ``data/`` and its metadata."""

    name: str
    title_vi: str
    title_en: str
    valid_from: date
    basis: str
    version: str
    file: str
    generated_by: str | None = None  # the script that writes the file (read without the hand-edit checks)


_REQUIRED = ("name", "file", "version", "title_vi", "title_en", "valid_from", "basis")


def read_manifest(path: Path = MANIFEST_PATH) -> tuple[ListSpec, ...]:
    """The manifest's entries, checked.

    Raises:
        ValueError: naming the entry and field, when a field is missing, unknown or of the wrong type, or a
            name repeats.
    """
    with path.open(encoding="utf-8") as f:
        document = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    entries = (document or {}).get("lists")
    if not isinstance(entries, list) or not entries:
        msg = f"{path}: expected a non-empty 'lists:' sequence"
        raise ValueError(msg)
    specs = tuple(_read_entry(path, i, entry) for i, entry in enumerate(entries, start=1))
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            msg = f"{path}: list {spec.name!r} is declared twice; names must be unique"
            raise ValueError(msg)
        seen.add(spec.name)
    return specs


def _read_entry(path: Path, index: int, entry: Any) -> ListSpec:
    where = f"{path}: entry {index}"
    if not isinstance(entry, dict):
        msg = f"{where}: expected a mapping with {', '.join(_REQUIRED)}"
        raise ValueError(msg)
    where = f"{path}: list {entry.get('name', f'#{index}')!r}"
    missing = [k for k in _REQUIRED if entry.get(k) in (None, "")]
    if missing:
        msg = f"{where}: missing {', '.join(missing)}"
        raise ValueError(msg)
    if not isinstance(entry["valid_from"], date):
        msg = f"{where}: valid_from must be a date written YYYY-MM-DD, got {entry['valid_from']!r}"
        raise ValueError(msg)
    unknown = set(entry) - {*_REQUIRED, "generated_by"}
    if unknown:
        msg = f"{where}: unknown field(s) {', '.join(sorted(unknown))}"
        raise ValueError(msg)
    return ListSpec(
        name=str(entry["name"]),
        title_vi=str(entry["title_vi"]),
        title_en=str(entry["title_en"]),
        valid_from=entry["valid_from"],
        basis=" ".join(str(entry["basis"]).split()),
        version=str(entry["version"]),
        file=str(entry["file"]),
        generated_by=str(entry["generated_by"]) if entry.get("generated_by") else None,
    )
