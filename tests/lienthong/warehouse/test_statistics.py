"""Planner statistics after bulk writes: a table a write changed by a tenth or more is analysed at once."""

from __future__ import annotations

import pyarrow.csv as pacsv
import pytest
from sqlalchemy import create_engine, text

from lienthong.bench.hub_run import bench_source
from lienthong.demo.generator import generate_members
from lienthong.match.stage import match_dataset
from lienthong.pipeline import publish_all, sync_source
from lienthong.warehouse.statistics import FLOOR, refresh_statistics

pytestmark = pytest.mark.integration


def _analysed(engine, table: str) -> bool:  # noqa: ANN001 - a SQLAlchemy engine
    with engine.connect() as conn:
        return conn.execute(text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = :t"),
                            {"t": table}).scalar_one()


def test_a_table_is_analysed_once_a_write_reaches_the_threshold(pg_url):
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n integer, doc jsonb)")
            conn.exec_driver_sql(f"INSERT INTO t SELECT g, '{{}}' FROM generate_series(1, {FLOOR - 1}) g")
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")  # counted as of the commit (PostgreSQL 15)
        assert refresh_statistics(engine, {"t": FLOOR - 1}) == []
        assert not _analysed(engine, "t")
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t SELECT g, '{}' FROM generate_series(1, 20) g")
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        assert refresh_statistics(engine, {"t": 20}, columns={"t": ("n",)}) == ["t"]  # the counter holds both
        assert _analysed(engine, "t")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT array_agg(attname::text) FROM pg_stats WHERE tablename = 't'")
                                ).scalar_one() == ["n"]
        assert refresh_statistics(engine, {"t": 20}) == []  # 20 more rows of 519: not stale
    finally:
        engine.dispose()


def test_a_refresh_that_cannot_be_done_is_a_warning_not_an_error(pg_url, caplog):
    """The write it follows is committed: a table locked by someone else (or a lost connection) costs the refresh,
    not the publication."""
    engine, holder = create_engine(pg_url), create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n integer)")
            conn.exec_driver_sql(f"ALTER DATABASE \"{engine.url.database}\" SET lock_timeout = '200ms'")
        engine.dispose()  # new connections take the database's lock_timeout
        with holder.connect() as lock:
            lock.exec_driver_sql("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
            assert refresh_statistics(engine, {"t": 10**6, "no_such_table": 10**6}) == []
        assert "planner statistics not refreshed" in caplog.text
        assert refresh_statistics(engine, {"t": 10**6, "no_such_table": 10**6}) == ["t"]  # lock gone: done
    finally:
        engine.dispose()
        holder.dispose()


def test_nothing_is_done_off_postgresql(tmp_path):
    assert refresh_statistics(create_engine(f"sqlite:///{tmp_path / 'w.db'}"), {"t": 10**6}) == []


def test_publishing_and_matching_a_large_batch_leave_fresh_statistics(make_hub, pg_url, tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    pacsv.write_csv(generate_members(1_200, seed=5).records, feed / "members.csv")
    hub = make_hub([bench_source(feed)], pg_url)
    sync_source(hub, next(iter(hub.sources.values())))
    publish_all(hub, ["members"])
    assert _analysed(hub.engine, "pub_members")
    assert not _analysed(hub.engine, "match_link")
    match_dataset(hub.engine)
    assert all(_analysed(hub.engine, t) for t in ("match_link", "match_entity", "match_history"))
