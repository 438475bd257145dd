"""Floors: what the libraries we build on do alone on the same data, measured in the same run as the hub."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Column, MetaData, Table, Text, create_engine, insert

EXECUTEMANY_SAMPLE = 50_000  # executemany is slow: measured on a sample, reported as a rate
GX_FLOOR_EXPECTATIONS = 8


def _timed(fn) -> float:  # noqa: ANN001
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def pyarrow_csv_parse(path: Path, columns: list[str]) -> float:
    types = {c: pa.string() for c in columns}
    return _timed(lambda: pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types)))


def pandas_read_csv(path: Path) -> float:
    return _timed(lambda: pd.read_csv(path, dtype=str, keep_default_na=False))


def psycopg_copy(dsn: str, table: pa.Table, *, with_index: bool) -> float:
    """COPY of the generated rows into a plain text table (optionally with a primary-key index)."""
    cols = table.column_names
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    data = buf.getvalue()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_copy")
        pk = f", PRIMARY KEY ({cols[0]})" if with_index else ""
        conn.execute(f"CREATE TABLE floor_copy ({', '.join(f'{c} text' for c in cols)}{pk})")

        def copy() -> None:
            with conn.cursor() as cur, cur.copy("COPY floor_copy FROM STDIN (FORMAT csv)") as cp:
                cp.write(data)

        seconds = _timed(copy)
        conn.execute("DROP TABLE floor_copy")
    return seconds


def psycopg_copy_file(dsn: str, path: Path, columns: list[str]) -> float:
    """COPY of a CSV file as it is (header skipped) into an unindexed text table, streamed in 1 MiB pieces."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_copy_file")
        conn.execute(f"CREATE TABLE floor_copy_file ({', '.join(f'{c} text' for c in columns)})")

        def copy() -> None:
            with path.open("rb") as handle, conn.cursor() as cur, \
                    cur.copy("COPY floor_copy_file FROM STDIN (FORMAT csv, HEADER true)") as cp:
                while piece := handle.read(1 << 20):
                    cp.write(piece)

        seconds = _timed(copy)
        conn.execute("DROP TABLE floor_copy_file")
    return seconds


def sqlalchemy_executemany(url: str, table: pa.Table) -> tuple[float, int]:
    """Seconds for SQLAlchemy Core executemany of a sample, and the sample size."""
    sample = table.slice(0, EXECUTEMANY_SAMPLE)
    engine = create_engine(url)
    md = MetaData()
    target = Table("floor_executemany", md, *[Column(c, Text) for c in sample.column_names])
    md.drop_all(engine)
    md.create_all(engine)
    rows = sample.to_pylist()

    def run() -> None:
        with engine.begin() as conn:
            conn.execute(insert(target), rows)

    seconds = _timed(run)
    md.drop_all(engine)
    engine.dispose()
    return seconds, sample.num_rows


def gx_eight_expectations(frame: pd.DataFrame) -> float:
    """Great Expectations 1.x alone: 8 simple column expectations on the raw string frame, COMPLETE results."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_def = context.data_sources.add_pandas("floor").add_dataframe_asset("members") \
        .add_batch_definition_whole_dataframe("all")
    suite = gx.ExpectationSuite(name="floor", expectations=[
        gxe.ExpectColumnValuesToNotBeNull(column="member_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="full_name"),
        gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["1", "2", "Nam", "Nữ"]),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["active", "transferred", "left", "deceased"]),
        gxe.ExpectColumnValuesToMatchRegex(column="id_number", regex=r"^\d{9}$|^\d{12}$"),
        gxe.ExpectColumnValuesToMatchRegex(column="ward_code", regex=r"^\d{5}$"),
        gxe.ExpectColumnValueLengthsToBeBetween(column="full_name", min_value=1, max_value=120),
        gxe.ExpectColumnValuesToNotBeNull(column="organisation"),
    ])
    suite = context.suites.add(suite)
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    return _timed(lambda: batch.validate(suite, result_format={
        "result_format": "COMPLETE", "return_unexpected_index_query": False}))
