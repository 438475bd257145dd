"""Process one landed batch: map → clean → validate → stage valid rows, quarantine the rest with every reason.

A plain function over a batch id, so the CLI, an Airflow task and the API call the same thing. It is idempotent:
running it again on the same batch replaces what the previous attempt wrote (see ``warehouse.staging``). That is
also why its database work is tried again when the connection to the warehouse is lost (``reconnect``): landing is
keyed by content and the batch's rows are written in one transaction that replaces any earlier attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from catalog.model import CodeList
from connectors.base import Batch
from connectors.file_parts import PART, part_identity
from connectors.formats import read_payload
from lienthong.registry import SourceConfig
from lienthong.stages.clean import Cleaned, clean_batch
from lienthong.stages.map import map_records
from lienthong.warehouse.engine import Reconnect
from lienthong.warehouse.landing import Landed, batch_identity, land, read_raw
from lienthong.warehouse.queries import batches, staged_keys
from lienthong.warehouse.staging import QuarantinedRow, write_processed
from quality.reasons import Reason
from quality.validate import ValidationResult, validate_frame
from schemas import Contract, get_contract

NO_RETRY = Reconnect(attempts=1)  # callers that own a retry policy pass theirs (the runner: from the settings)


@dataclass(frozen=True)
class BatchCounts:
    batch_id: str
    rows_read: int
    rows_valid: int
    rows_quarantined: int
    seconds: float


@dataclass(frozen=True)
class Checked:
    """The outcome of map → clean → validate, before anything is written."""

    valid: pa.Table  # row_no, record_key and the contract's columns
    rejected: list[QuarantinedRow]
    outcomes: list[dict]
    cleaned: Cleaned | None = None  # every row as cleaned: what `lienthong normalize` writes out


SeenBefore = Callable[[pa.Array], Mapping[str, int]]  # record keys -> their record number earlier in the file


def check_records(
    records: pa.Table, source: SourceConfig, code_lists: Mapping[str, CodeList],
    *, timings: dict[str, float] | None = None, seen_before: SeenBefore | None = None,
) -> Checked:
    """Map, clean and validate ``records`` of ``source`` without writing anything.

    ``timings``, when given, receives the seconds spent in each step (the benchmark reads them). ``seen_before``
    (a part of a file read in parts) tells which of the records' keys an earlier part of the file holds: those rows
    are refused as repeated keys, as in a file read whole.
    """
    contract = get_contract(source.dataset)
    clock = _Clock(timings)
    with clock("map"):
        mapped = map_records(records, source)
    with clock("clean"):
        cleaned = clean_batch(mapped, contract, code_lists)
    with clock("validate"):
        result = validate_frame(to_validation_frame(cleaned.table), contract, code_lists)
    with clock("split"):
        return _split(records.num_rows, source, contract, mapped, cleaned, result, seen_before)


def _split(
    n: int, source: SourceConfig, contract: type[Contract], mapped: pa.Table, cleaned: Cleaned,
    result: ValidationResult, seen_before: SeenBefore | None = None,
) -> Checked:
    """Valid rows (typed, keyed) and rejected rows (as received, with every reason)."""
    reasons: dict[int, list[Reason]] = {}
    for source_of_reasons in (cleaned.reasons, result.reasons):
        for row, rs in source_of_reasons.items():
            reasons.setdefault(row, []).extend(rs)
    keys = _record_keys(cleaned.table, source.id, contract)
    for row, first in _duplicate_keys(keys, reasons):
        reasons.setdefault(row, []).append(Reason(
            rule="duplicate_key", column=",".join(contract.key), value=None,
            message_vi=f"Trùng mã với dòng {first + 1} trong cùng tệp/lô: mỗi bản ghi chỉ gửi một lần.",
            message_en=f"same key as row {first + 1} of this batch; a record may appear once per batch",
        ))
    earlier = seen_before(keys) if seen_before is not None else {}
    for row in pc.indices_nonzero(pc.is_in(keys, value_set=pa.array(list(earlier), pa.string()))).to_pylist() \
            if earlier else ():
        if row not in reasons:
            first = earlier[keys[row].as_py()]
            reasons[row] = [Reason(
                rule="duplicate_key", column=",".join(contract.key), value=None,
                message_vi=f"Trùng mã với dòng {first + 1} trong cùng tệp/lô: mỗi bản ghi chỉ gửi một lần.",
                message_en=f"same key as row {first + 1} of this file; a record may appear once per file")]
    bad = sorted(reasons)
    good = np.ones(n, dtype=bool)
    good[bad] = False
    good_mask = pa.array(good)
    valid = cleaned.table.filter(good_mask)
    valid = valid.append_column("row_no", pc.indices_nonzero(good_mask).cast(pa.int32()))
    valid = valid.append_column("record_key", keys.filter(good_mask))
    rejected_records = mapped.take(pa.array(bad, pa.int64())).to_pylist() if bad else []
    rejected = [
        QuarantinedRow(row_no=row, record=rec, reasons=[r.to_dict() for r in reasons[row]])
        for row, rec in zip(bad, rejected_records, strict=True)
    ]
    return Checked(valid, rejected, [asdict(o) for o in result.outcomes], cleaned)


def land_and_process(
    engine: Engine, source: SourceConfig, item: Batch, code_lists: Mapping[str, CodeList],
    *, reconnect: Reconnect = NO_RETRY,
) -> tuple[Landed, BatchCounts]:
    """Land a new batch and process it, checking its rows while the payload is being written.

    The two overlap on the machine's cores: checking is Python and Arrow work, landing is zstd and the database.
    The checked rows are written only once the batch is landed.
    """
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        landing = pool.submit(land_batch, engine, source, item, reconnect=reconnect)
        checked = check_records(item.records, source, code_lists,
                                seen_before=_seen_in_file(engine, source, item.read_options))
        landed = landing.result()
    return landed, _write(engine, source, landed.batch_id, item.records.num_rows, checked, started, reconnect)


def land_batch(engine: Engine, source: SourceConfig, item: Batch, *, reconnect: Reconnect = NO_RETRY) -> Landed:
    """Land ``item`` in the raw zone, again after a lost connection (landing is keyed by its content)."""
    return reconnect.run(
        lambda: land(engine, source_id=source.id, dataset=source.dataset, item=item),
        what=f"landing {item.origin} of source {source.id}", what_vi=f"lưu {item.origin} của nguồn {source.id}",
        action="nothing of it was kept; check the database and run the sync again",
        action_vi="chưa lưu gì của lô này; hãy kiểm tra cơ sở dữ liệu rồi chạy lại",
    )


def process_batch(
    engine: Engine,
    source: SourceConfig,
    batch_id: str,
    code_lists: Mapping[str, CodeList],
    *,
    records: pa.Table | None = None,
    reconnect: Reconnect = NO_RETRY,
) -> BatchCounts:
    """Process a landed batch; ``records`` saves re-reading the raw payload when the caller still has it."""
    started = time.perf_counter()
    if records is None:
        raw = reconnect.run(lambda: read_raw(engine, batch_id), **_reading(source, batch_id))
        records, options = read_payload(raw.payload, raw.media_type, raw.read_options, origin=raw.origin), \
            raw.read_options
    else:
        options = reconnect.run(lambda: batches(engine, batch_ids=[batch_id])[0]["read_options"],
                                **_reading(source, batch_id))
    checked = check_records(records, source, code_lists, seen_before=_seen_in_file(engine, source, options))
    return _write(engine, source, batch_id, records.num_rows, checked, started, reconnect)


def _seen_in_file(engine: Engine, source: SourceConfig, read_options: Mapping | None) -> SeenBefore | None:
    """For a part of a file after the first: which keys the file's earlier parts hold (as staged), and at which
    record of the file. A part published before the rest (a sync stopped between parts, then a publish) is not
    looked at: its keys are no longer staged."""
    part = (read_options or {}).get(PART)
    if not part or int(part["number"]) == 1:
        return None
    earlier = [batch_identity(source.id, b"", part_identity({**part, "number": n}))[0]
               for n in range(1, int(part["number"]))]

    def seen_before(keys: pa.Array) -> dict[str, int]:
        found = staged_keys(engine, source.dataset, earlier, keys.to_pylist())
        if not found:
            return {}
        offsets, at = {}, 0
        for b in batches(engine, batch_ids=earlier):  # landing order: the file's order
            offsets[b["batch_id"]], at = at, at + b["rows_read"]
        return {key: offsets[batch_id] + row for key, (batch_id, row) in found.items()}

    return seen_before


def _reading(source: SourceConfig, batch_id: str) -> dict[str, str]:
    return {"what": f"reading batch {batch_id} of source {source.id}",
            "what_vi": f"đọc lô {batch_id} của nguồn {source.id}",
            "action": "it stays landed: check the database and run the sync again",
            "action_vi": "lô vẫn được giữ: hãy kiểm tra cơ sở dữ liệu rồi chạy lại"}


def _write(
    engine: Engine, source: SourceConfig, batch_id: str, rows: int, checked: Checked, started: float,
    reconnect: Reconnect,
) -> BatchCounts:
    reconnect.run(
        lambda: write_processed(
            engine, batch_id=batch_id, source_id=source.id, dataset=source.dataset, valid=checked.valid,
            rejected=checked.rejected, outcomes=checked.outcomes, seconds=time.perf_counter() - started,
        ),
        what=f"staging batch {batch_id} of source {source.id}",
        what_vi=f"ghi lô {batch_id} của nguồn {source.id}",
        action="the batch stays landed and nothing of this attempt was kept (one transaction): check the database "
               "and run the sync again",
        action_vi="lô vẫn được giữ, lần ghi này không để lại gì: hãy kiểm tra cơ sở dữ liệu rồi chạy lại",
    )
    return BatchCounts(batch_id, rows, checked.valid.num_rows, len(checked.rejected), time.perf_counter() - started)


def to_validation_frame(table: pa.Table):  # noqa: ANN201 - pandas DataFrame
    """The pandas frame GX validates: one column per contract field, RangeIndex = row position in the batch."""
    return table.to_pandas()


class _Clock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.timings is not None:
                self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - started


def _record_keys(table: pa.Table, source_id: str, contract: type[Contract]) -> pa.Array:
    parts = [pc.coalesce(table.column(k), "") for k in contract.key]
    return pc.binary_join_element_wise(source_id, *parts, ":")


def _duplicate_keys(keys: pa.Array, reasons: Mapping[int, list[Reason]]) -> list[tuple[int, int]]:
    """(row, first row with the same key) for each repeated key, ignoring rows already failing."""
    counts = pc.value_counts(keys)
    repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
    if len(repeated) == 0:
        return []
    out: list[tuple[int, int]] = []
    first_seen: dict[str, int] = {}
    for row in pc.indices_nonzero(pc.is_in(keys, value_set=repeated)).to_pylist():
        if row in reasons:
            continue
        key = keys[row].as_py()
        if key in first_seen:
            out.append((row, first_seen[key]))
        else:
            first_seen[key] = row
    return out
