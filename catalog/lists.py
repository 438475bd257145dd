"""Loading the shared code lists named in ``data/lists.yml``.

    >>> from catalog import get_code_list
    >>> get_code_list("ethnic_groups").lookup("Hmong")
    '08'

Everything is read once per process (about 0.1 s) and cached; the lists are immutable.
"""

from __future__ import annotations

import csv
from functools import cache

from catalog.admin_units import typed_code_list
from catalog.csv_io import ALIAS_SEPARATOR, read_code_list_csv
from catalog.manifest import DATA_DIR, ListSpec, read_manifest
from catalog.model import CodeList, CodeValue


def load_code_lists() -> dict[str, CodeList]:
    """All code lists by name, as the manifest declares them (each a CSV file of ``catalog/data``).

    Returns:
        A new dict on each call (the lists in it are shared and immutable), in manifest order.

    Raises:
        ValueError: the manifest or a CSV file is invalid (the message names file, line and column).
    """
    return dict(_load_all())


def get_code_list(name: str) -> CodeList:
    """The code list called ``name``.

    Raises:
        KeyError: naming the known lists, when there is no such list.
    """
    lists = _load_all()
    for list_name, code_list in lists:
        if list_name == name:
            return code_list
    msg = f"unknown code list {name!r}; known: {', '.join(sorted(n for n, _ in lists))}"
    raise KeyError(msg)


@cache
def _load_all() -> tuple[tuple[str, CodeList], ...]:
    specs = read_manifest()
    loaded = {}
    for spec in specs:  # provinces first: legacy_provinces' parents are checked against them
        loaded[spec.name] = _load_one(spec, loaded)
    return tuple(loaded.items())


def _load_one(spec: ListSpec, loaded: dict[str, CodeList]) -> CodeList:
    if spec.generated_by:
        return _read_generated(spec)
    parents = loaded["provinces"].codes if spec.name == "legacy_provinces" and "provinces" in loaded else None
    return read_code_list_csv(
        DATA_DIR / str(spec.file),
        name=spec.name,
        version=str(spec.version),
        title_vi=spec.title_vi,
        title_en=spec.title_en,
        valid_from=spec.valid_from,
        basis=spec.basis,
        parents=parents,
    )


def _read_generated(spec: ListSpec) -> CodeList:
    """A list written by a script (the 2025 units, 3,321 rows): read as written, without the row checks of
    ``read_code_list_csv`` that make a hand-kept file safe (1 s per process for the wards). Its test compares
    the file with what the script builds, and with what ``read_code_list_csv`` reads from it."""
    with (DATA_DIR / spec.file).open(encoding="utf-8", newline="") as f:
        values = tuple(
            CodeValue(code=row["code"], label_vi=row["label_vi"], label_en=row["label_en"] or None,
                      parent=row["parent"] or None,
                      aliases=tuple(a for a in row["aliases"].split(ALIAS_SEPARATOR) if a))
            for row in csv.DictReader(f)
        )
    return typed_code_list(CodeList(name=spec.name, version=spec.version, title_vi=spec.title_vi,
                                    title_en=spec.title_en, valid_from=spec.valid_from, basis=spec.basis,
                                    values=values))
