"""Bulk loading: what COPY writes is what was given, whatever the session's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, create_engine, select

from lienthong.warehouse.bulk import insert_arrow


@pytest.mark.integration
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_zoned_timestamps_keep_their_instant_in_any_session_time_zone(pg_url, unit):
    saigon = ZoneInfo("Asia/Ho_Chi_Minh")
    given = [datetime(2026, 1, 2, 3, 4, 5, 123456 if unit in ("us", "ns") else 0, tzinfo=saigon),
             None, datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    table = Table("t", MetaData(), Column("n", Integer), Column("at", DateTime(timezone=True)))
    engine = create_engine(pg_url)
    try:
        table.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("SET TIME ZONE 'America/New_York'")  # a naive text would be read as New York time
            insert_arrow(conn, table, pa.table({"n": [0, 1, 2],
                                                "at": pa.array(given, pa.timestamp(unit, tz="Asia/Ho_Chi_Minh"))}))
        with engine.connect() as conn:
            read = conn.execute(select(table.c.at).order_by(table.c.n)).scalars().all()
    finally:
        engine.dispose()
    assert read == given
