"""Rows of a batch that were published with something still to choose: an old ward split into several 2025 wards
(or a ward name that fits several). The result page lists them as "đã công bố, cần bổ sung", with the candidate
wards by name, so the clerk can complete them without a code list at hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, or_, select

from connectors.formats import row_shown
from lienthong.cleaning.addresses import map_addresses, named_candidates
from lienthong.warehouse.tables import PUBLISHED

TO_CHOOSE = ("address_ward_split", "address_ward_ambiguous")  # issue codes of a ward still to choose


@dataclass(frozen=True)
class ToComplete:
    row: int | str  # as the file shows it (with its sheet when the workbook was read from several)
    name: str | None
    address: str | None
    candidates: str  # "Phường Hồng Hà (00097) hoặc Phường Ba Đình (00004)"


def rows_to_complete(engine: Engine, batch: dict[str, Any], limit: int) -> list[ToComplete]:
    """The published rows of ``batch`` (a ``batch_status`` row) whose ward is still to choose, in file order."""
    table = PUBLISHED.get(batch["dataset"])
    if table is None or not {"address", "ward_code", "issues"} <= set(table.c.keys()):
        return []
    name = table.c.full_name if "full_name" in table.c else table.c.address
    query = (select(table.c.row_no, name, table.c.address)
             .where(table.c.batch_id == batch["batch_id"], table.c.deleted.is_(False), table.c.ward_code.is_(None),
                    or_(*(table.c.issues.contains(code) for code in TO_CHOOSE)))
             .order_by(table.c.row_no).limit(limit))
    with engine.connect() as conn:
        found = conn.execute(query).all()
    if not found:
        return []
    candidates = map_addresses(pa.array([r[2] for r in found], pa.string())).candidates.to_pylist()
    return [ToComplete(row_shown(row_no, batch["media_type"], batch["read_options"]), shown_name, address,
                       named_candidates(codes) or "")
            for (row_no, shown_name, address), codes in zip(found, candidates, strict=True)]
