"""Retry: run open quarantined rows through clean and validation again (after a code-list or rule fix)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

import pyarrow as pa

from lienthong.hub import Hub
from lienthong.stages.clean import MAP_ISSUES
from lienthong.stages.process import check_records
from lienthong.warehouse.queries import quarantined
from lienthong.warehouse.staging import QuarantinedRow, release_from_quarantine
from schemas import get_contract


@dataclass(frozen=True)
class RetryResult:
    batch_id: str
    source_id: str
    dataset: str
    released: int
    still_failing: int


def retry_quarantine(hub: Hub, *, source_id: str | None = None) -> list[RetryResult]:
    """Re-check every open quarantined row (per batch); rows that pass move to staging, ready to publish."""
    rows = quarantined(hub.engine, source_id=source_id)
    results = []
    for batch_id, grouped in groupby(rows, key=lambda q: q["batch_id"]):
        # A repeated key stays quarantined: which copy is right is the organisation's call, not a retry's.
        group = [q for q in grouped if all(r["rule"] != "duplicate_key" for r in q["reasons"])]
        if not group:
            continue
        source = hub.source(group[0]["source_id"])
        contract = get_contract(source.dataset)
        fields = contract.mappable_fields()
        # The stored record is already mapped: feed it back through an identity mapping.
        identity = source.model_copy(update={"mapping": {f: f for f in fields}, "constants": {}})
        # ... with what mapping found (a date in both sex columns stays refused: stages.map, MAP_ISSUES).
        kept = [*fields, *([MAP_ISSUES] if any(MAP_ISSUES in q["record"] for q in group) else [])]
        records = pa.table({f: pa.array([q["record"].get(f) for q in group], pa.string()) for f in kept})
        checked = check_records(records, identity, hub.code_lists)
        row_nos = [q["row_no"] for q in group]
        valid = checked.valid.set_column(
            checked.valid.schema.get_field_index("row_no"), "row_no",
            pa.array([row_nos[i] for i in checked.valid.column("row_no").to_pylist()], pa.int32()),
        )
        failing = [QuarantinedRow(row_nos[r.row_no], group[r.row_no]["record"], r.reasons) for r in checked.rejected]
        release_from_quarantine(hub.engine, batch_id=batch_id, dataset=source.dataset, source_id=source.id,
                                valid=valid, still_failing=failing)
        results.append(RetryResult(batch_id, source.id, source.dataset, valid.num_rows, len(failing)))
    return results
