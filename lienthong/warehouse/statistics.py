"""Planner statistics brought up to date after the hub's own bulk writes (PostgreSQL's ``ANALYZE``).

Autovacuum analyses a table once a tenth of it changed, but on its own schedule (a minute apart by default) and not at
all where it is turned off. Until then PostgreSQL plans on what it knew before: after the first million members were
published and matched, the links table still counted as empty, so a 100-row push's match read every link through a
hash instead of looking up its hundred, and went on doing so (docs/BENCHMARKS.md, the match stage).
The writer knows how many rows it wrote; when that reaches autovacuum's own threshold the table is analysed at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

SHARE = 0.1  # autovacuum_analyze_scale_factor's default
FLOOR = 500  # rows: below this a table's plans do not change (autovacuum_analyze_threshold is 50)


def refresh_statistics(engine: Engine, written: Mapping[str, int],
                       columns: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """``ANALYZE`` the tables of ``written`` (table name → rows just written by a committed transaction) whose
    changes since their last analysis reach ``FLOOR`` rows plus ``SHARE`` of the rows they held then.

    Args:
        engine: the warehouse; nothing is done elsewhere than on PostgreSQL.
        written: rows inserted, updated or deleted per table.
        columns: per table, the columns worth statistics when not all are (a JSON document is never filtered on,
            and sampling it is most of the cost).

    Returns:
        The tables analysed.
    """
    if engine.dialect.name != "postgresql" or not any(n > 0 for n in written.values()):
        return []
    try:
        return _refresh(engine, written, columns or {})
    except SQLAlchemyError as exc:  # the write it follows is committed: a lost refresh only costs better plans
        log.warning("planner statistics not refreshed after a bulk write (%s): %s", ", ".join(written), exc)
        return []


_COUNTS = text("SELECT c.reltuples, coalesce(s.n_mod_since_analyze, 0) FROM pg_class c "
               "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass(:t)")


def _refresh(engine: Engine, written: Mapping[str, int], columns: Mapping[str, Sequence[str]]) -> list[str]:
    stale = []
    with engine.connect() as conn:
        for table, rows in written.items():
            if rows <= 0:
                continue
            found = conn.execute(_COUNTS, {"t": table}).first()
            # the counter may not hold this write yet (statistics are reported a moment after a commit)
            if found is not None and max(found[1], rows) >= FLOOR + SHARE * max(found[0], 0):
                stale.append(table)
        for table in stale:
            listed = ", ".join(f'"{c}"' for c in columns.get(table, ()))
            conn.exec_driver_sql(f'ANALYZE "{table}"' + (f" ({listed})" if listed else ""))
        conn.commit()
    if stale:
        log.info("planner statistics refreshed after a bulk write: %s", ", ".join(stale))
    return stale
