"""Throughput of the members suite: ``.venv/bin/python tests/quality/bench_members.py [rows] [repeats]``.

Generates a member batch with ~5% planted bad rows and times ``validate_frame`` (prepare + GX run + reasons)
on two frames: the fastest dtypes (``str`` strings, ``datetime64`` dates) and what ``Table.to_pandas()``
gives the engine (``date32`` columns become ``object`` columns of ``datetime.date``). Each is validated once
first so the suite and GX context are built and cached, as on the hot path. Checks that every planted row,
and no other, was quarantined.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from quality.validate import validate_frame  # noqa: E402
from schemas.members import Member  # noqa: E402
from tests.quality.quality_synthetic import code_lists, members  # noqa: E402


def _as_the_engine_reads_it(frame):  # noqa: ANN001, ANN202 - pandas DataFrame
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("date_of_birth", "joined_on"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table.column(name).cast(pa.date32()))
    return table.to_pandas()


def main(rows: int = 1_000_000, repeats: int = 3) -> None:
    lists = code_lists()
    frame, bad = members(rows)
    for label, batch in (("str + datetime64", frame), ("Table.to_pandas()", _as_the_engine_reads_it(frame))):
        validate_frame(batch.head(1000), Member, lists)  # build and cache the suite and context
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = validate_frame(batch, Member, lists)
            timings.append(time.perf_counter() - start)
        exact = result.quarantined_rows == bad.tolist()
        best = min(timings)
        print(
            f"{label:18} rows={rows:,} planted={len(bad):,} quarantined={len(result.reasons):,} "
            f"exact={exact} timings=[{', '.join(f'{t:.2f}s' for t in timings)}] "
            f"best={rows / best:,.0f} rows/s"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
