"""The match tables' writer on PostgreSQL: a first run's many links go in with their entity index built after them,
and the table ends the same as by the plain COPY."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text

from lienthong.warehouse import tables_match as T
from lienthong.warehouse.migrate import upgrade

pytestmark = pytest.mark.integration


def _links(keys: range, entity_of) -> pa.Table:  # noqa: ANN001 - key number -> entity id
    return pa.table({"record_key": [f"s:{k:04d}" for k in keys], "entity_id": [entity_of(k) for k in keys],
                     "organisation": ["HLHPN"] * len(keys), "rule": ["new"] * len(keys)})


def _index_used(conn, entity: str) -> tuple[list[str], str]:  # noqa: ANN001
    """The records of ``entity`` and the plan that found them (sequential scans turned off)."""
    conn.exec_driver_sql("SET enable_seqscan = off")
    query = "SELECT record_key FROM match_link WHERE dataset = 'members' AND entity_id = %(e)s ORDER BY 1"
    plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {query}", {"e": entity}))
    return [r[0] for r in conn.exec_driver_sql(query, {"e": entity})], plan


def test_a_first_runs_many_links_are_indexed_after_the_copy(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(T, "BULK_LINKS", 100)  # the first write below is "many"; the second goes the usual way
    engine = create_engine(pg_url)
    upgrade(engine)
    first = T.start_run(engine, "members", 0, "full", 300)
    T.write_outcome(engine, "members", first, links=_links(range(300), lambda k: f"e{k % 150:03d}"), stats={})
    second = T.start_run(engine, "members", 0, "incremental", 200)
    T.write_outcome(engine, "members", second, links=_links(range(300, 500), lambda k: f"e{k % 150:03d}"), stats={})
    with engine.connect() as conn:
        indexes = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'match_link'"))}
        records, plan = _index_used(conn, "e007")
        count = conn.execute(text("SELECT count(*) FROM match_link")).scalar()
    assert indexes == {"pk_match_link", "ix_match_link_entity"}
    assert "ix_match_link_entity" in plan
    assert records == ["s:0007", "s:0157", "s:0307", "s:0457"]  # both writes' links, found through the index
    assert count == 500
