"""The contract-driven guard: no direct identifier, and no sensitive attribute below a safe level, in open data.

Checked twice. Before computing (:func:`check_tables`): the fields an open table reads come from the contract, and
none may be a DIRECT_IDENTIFIER; a SENSITIVE attribute may be crossed only with public dimensions (province,
organisation) or its own grouping, never with a quasi-identifier such as the ward, sex or date of birth, where
cells get small and combine with what neighbours know. After writing (:func:`check_outputs`): no output column is
named after a direct identifier, and no output value equals an ID number or phone held in the published tables.
A failure stops the build: an open output is never written "with a warning".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sqlalchemy import Column, Connection, Engine, Table, Text, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from lienthong.errors import HubError
from lienthong.open_data.aggregates import DIMS, OpenTable
from lienthong.warehouse.tables import PUBLISHED
from schemas import CONTRACTS, FieldKind, Privacy


class DisclosureError(HubError):
    """An open output would disclose personal data; nothing is published."""


def direct_identifiers(dataset: str) -> set[str]:
    """The contract fields of ``dataset`` classed as direct identifiers."""
    return {f.name for f in CONTRACTS[dataset].fields() if f.privacy is Privacy.DIRECT_IDENTIFIER}


def check_tables(tables: Iterable[OpenTable]) -> None:
    """Refuse table definitions the contracts' privacy classes do not allow.

    Raises:
        DisclosureError: a table reads a direct identifier, or crosses a sensitive attribute with a
            quasi-identifier.
    """
    for t in tables:
        privacy = {f.name: f.privacy for f in CONTRACTS[t.dataset].fields()}
        read = t.fields_read
        direct = sorted(f for f in read if privacy.get(f) is Privacy.DIRECT_IDENTIFIER)
        if direct:
            msg = f"open table {t.name} reads direct identifiers {direct}: they may never reach open data"
            raise DisclosureError(msg, message_vi=f"Bảng dữ liệu mở {t.name} dùng trường định danh trực tiếp "
                                                  f"{', '.join(direct)}: không được phép công khai")
        dim_privacy = {d: {privacy.get(f, Privacy.PUBLIC) for f in DIMS[d].fields} for d in t.dims}
        if any(Privacy.SENSITIVE in p for p in dim_privacy.values()):
            finer = sorted(d for d, p in dim_privacy.items() if Privacy.QUASI_IDENTIFIER in p)
            if finer:
                msg = (f"open table {t.name} crosses a sensitive attribute with quasi-identifiers {finer}; "
                       "sensitive data is published only by province or nationally")
                raise DisclosureError(msg, message_vi=f"Bảng dữ liệu mở {t.name} kết hợp dữ liệu nhạy cảm với "
                                                      f"{', '.join(finer)}: chỉ công khai theo tỉnh hoặc toàn quốc")


def check_output(engine: Engine, dataset: str, columns: Iterable[str], values: Iterable[object]) -> None:
    """:func:`check_outputs` for the output of one dataset."""
    check_outputs(engine, {dataset: (columns, values)})


def check_outputs(engine: Engine, outputs: Mapping[str, tuple[Iterable[str], Iterable[object]]]) -> None:
    """Refuse outputs whose columns are direct identifiers or whose values are ID numbers/phones on file.

    ``outputs`` maps each dataset to the columns and values of its open tables. A published ID number or phone
    always has its contract's pattern (``^(\\d{9}|\\d{12})$``, ``^0\\d{9,10}$``): the cleaning rules write the
    digits in that form or nothing, and validation quarantines a record whose value does not match. So only the
    output strings of that shape (and that fit the column) can equal one, and only those are looked up: none in
    a normal release, where the strings are codes and labels. When there are some, all datasets' outputs are
    looked up together, one statement per published table holding ID numbers or phones.

    Raises:
        DisclosureError: naming the column, never the value found.
    """
    identifiers = {f for ds in CONTRACTS for f in direct_identifiers(ds)}
    strings: dict[str, set[str]] = {}
    for dataset, (columns, values) in outputs.items():
        bad = sorted(set(columns) & identifiers)
        if bad:
            msg = f"open output of {dataset} has direct-identifier columns {bad}"
            raise DisclosureError(msg, message_vi=f"Dữ liệu mở {dataset} có cột định danh trực tiếp {', '.join(bad)}")
        strings[dataset] = {v for v in values if isinstance(v, str) and v}
    everything = set().union(*strings.values())
    with engine.connect() as conn:
        for ds, contract in CONTRACTS.items():
            table = PUBLISHED[ds]
            fields = [f for f in contract.fields() if f.kind in (FieldKind.ID_NUMBER, FieldKind.PHONE)]
            candidates = sorted(set().union(*(_could_be(table.c[f.name], f.pattern, everything) for f in fields)))
            if not candidates or not _holds_any(conn, table, [f.name for f in fields], candidates):
                continue
            found = next(d for d, mine in strings.items()
                         if _holds_any(conn, table, [f.name for f in fields], sorted(mine.intersection(candidates))))
            msg = f"open output of {found} contains an ID number or phone held in pub_{ds}"
            raise DisclosureError(msg, message_vi=f"Dữ liệu mở {found} chứa số CCCD hoặc số điện thoại")


def _could_be(column: Column, pattern: str | None, values: set[str]) -> set[str]:
    """The ``values`` that could be stored in ``column`` of a published table: they fit, and have the pattern."""
    width = getattr(column.type, "length", None)
    shape = re.compile(pattern) if pattern else None
    return {v for v in values if (width is None or len(v) <= width) and (shape is None or shape.fullmatch(v))}


def _holds_any(conn: Connection, table: Table, fields: list[str], strings: list[str]) -> bool:
    """Whether a record of ``table`` has one of ``strings`` in one of ``fields``. PostgreSQL: one statement, one
    scan of the table (the array is hashed; IN lists of 500 scanned a million-row table once per list)."""
    if not strings:
        return False
    if conn.dialect.name == "postgresql":
        found = bindparam("found", strings, type_=ARRAY(Text))
        return conn.execute(select(table.c.record_key).where(
            or_(*(table.c[f] == func.any(found) for f in fields))).limit(1)).first() is not None
    return any(conn.execute(select(table.c.record_key).where(
        or_(*(table.c[f].in_(strings[i:i + 500]) for f in fields))).limit(1)).first() is not None
        for i in range(0, len(strings), 500))
