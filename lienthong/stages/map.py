"""Map: rename a source's columns onto the contract's fields, after checking the columns are the expected ones.

A field may also come from several columns, each holding a part of it (``COLUMN_PARTS`` of
:mod:`lienthong.vietnamese.header_labels`): the date of birth written in the column of the person's sex, an address
split by level. They are put together here (:mod:`lienthong.cleaning.columns`), and what that found is kept in a
``map_issues`` column for the clean stage, which files it with the row's other issues and reasons.
"""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.cleaning import columns as parts
from lienthong.cleaning.base import merge_issues
from lienthong.errors import MalformedInput
from lienthong.registry import SourceConfig
from lienthong.stages.clean import MAP_ISSUES
from lienthong.vietnamese.header_labels import ADDRESS_PARTS, COLUMN_PARTS
from lienthong.vietnamese.legacy_encodings import decode_tcvn3, decode_vni
from schemas import get_contract


def _norm(name: str) -> str:
    # Excel on a Mac writes NFD headers; a stray BOM or spaces must not make "Họ và tên" unknown.
    return unicodedata.normalize("NFC", name.replace("\ufeff", "")).strip()


def _by_name(columns: list[str]) -> dict[str, str]:
    """Normalised header -> header. A file typed in a legacy font has its headers in it too ("Hä vµ tªn" is
    TCVN3 for "Họ và tên"): their TCVN3 and VNI readings also name them, compared case-insensitively (the font
    has no capital tone letters, so "Sè CCCD" reads "SỐ CCCD")."""
    by_norm = {_norm(c): c for c in columns}
    for c in columns:
        if not c.isascii():
            for reading in (decode_tcvn3(c), decode_vni(c)):
                by_norm.setdefault(_norm(reading).casefold(), c)
    return by_norm


def _find(by_norm: dict[str, str], header: str) -> str | None:
    return by_norm.get(_norm(header)) or by_norm.get(_norm(header).casefold())


def check_columns(records: pa.Table, source: SourceConfig, origin: str) -> None:
    """Refuse a batch whose columns the source cannot take (docs/sources.md, "When a feed's columns change").

    A mapped column of an optional contract field may be missing (the field is left empty); one of a required
    field may not. A column neither mapped nor listed in ``ignore_columns`` is refused, unless the source says
    ``on_new_column: ignore``.

    Raises:
        MalformedInput: naming the source, the origin, the missing and the unknown columns, and the fix.
    """
    if records.num_rows == 0 and not records.column_names:
        return  # an empty page has no columns to check
    by_norm = _by_name(records.column_names)
    contract = get_contract(source.dataset)
    required = {spec.name for spec in contract.fields() if spec.required}
    missing = sorted(_norm(column) for field, column in source.mapping.items()
                     if field in required and _find(by_norm, column) is None)
    unknown: list[str] = []
    if source.on_new_column == "refuse":
        known = [*source.mapping.values(), *source.ignore_columns]
        matched = {_find(by_norm, k) for k in known}
        unknown = sorted(_norm(c) for c in records.column_names if c not in matched)
    if not missing and not unknown:
        return
    parts_en, parts_vi = [], []
    if missing:
        parts_en.append(f"missing required columns {missing}")
        parts_vi.append(f"thiếu cột bắt buộc {', '.join(missing)}")
    if unknown:
        parts_en.append(f"unknown columns {unknown} (map them or list them in ignore_columns)")
        parts_vi.append(f"có cột lạ {', '.join(unknown)}")
    msg = f"source {source.id}, {origin}: {'; '.join(parts_en)}"
    raise MalformedInput(
        msg,
        message_vi=f"Nguồn {source.id}, {origin}: {'; '.join(parts_vi)}. Hãy dùng đúng mẫu cột của nguồn.",
        source_id=source.id,
    )




def map_records(records: pa.Table, source: SourceConfig) -> pa.Table:
    """A table with one string column per mappable contract field (null where the source has no such field, or
    the batch lacks the column of an optional one); when the source maps parts of fields, also each part as sent
    and ``map_issues``."""
    by_norm = _by_name(records.column_names)
    n = records.num_rows

    def column(name: str) -> pa.Array | None:
        found = _find(by_norm, source.mapping[name]) if name in source.mapping else None
        if found is None:
            return None
        col = records.column(found).combine_chunks()
        return col.cast(pa.string()) if col.type != pa.string() else col

    columns: dict[str, pa.Array] = {}
    issues: list[pa.Array] = []
    for field in get_contract(source.dataset).mappable_fields():
        col = column(field)
        if col is not None:
            columns[field] = col
        elif field in source.constants:
            columns[field] = pa.array([source.constants[field]] * n, pa.string())
        else:
            columns[field] = pa.nulls(n, pa.string())
    male, female = column("date_of_birth_male"), column("date_of_birth_female")
    if male is not None or female is not None:
        date, sex = parts.date_and_sex(male, female)
        # A date column of its own beside ticks in the "Nam | Nữ" columns gives the date.
        columns["date_of_birth"] = pc.coalesce(column("date_of_birth"), date) if "date_of_birth" in source.mapping \
            else date
        columns["sex"] = sex.values
        issues.append(sex.issues)
    split = [(name, source.mapping[name], col) for name in ADDRESS_PARTS if (col := column(name)) is not None]
    if split:
        whole = [("address", source.mapping.get("address", ""), columns["address"])]
        columns["address"] = parts.join_address(whole + split)
    table = pa.table(columns)
    mapped_parts = [name for name in COLUMN_PARTS if name in source.mapping]
    for name in mapped_parts:  # kept as sent: a quarantined row and its rejects file show every cell
        col = column(name)
        table = table.append_column(name, col if col is not None else pa.nulls(n, pa.string()))
    if mapped_parts:
        table = table.append_column(MAP_ISSUES, merge_issues(*issues) if issues else pa.nulls(n, pa.string()))
    elif MAP_ISSUES in records.column_names:  # a quarantined record, mapped before, checked again (stages.retry)
        table = table.append_column(MAP_ISSUES, records.column(MAP_ISSUES).cast(pa.string()))
    return table
