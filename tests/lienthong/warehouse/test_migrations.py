"""The Alembic migrations and the table definitions must describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from lienthong.warehouse.migrate import alembic_config, upgrade
from lienthong.warehouse.tables import metadata


def _differences(url: str) -> list:
    engine = create_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def test_migrations_match_the_tables_on_sqlite(tmp_path: Path) -> None:
    assert _differences(f"sqlite:///{tmp_path / 'wh.db'}") == []


@pytest.mark.integration
def test_migrations_match_the_tables_on_postgresql(pg_url: str) -> None:
    assert _differences(pg_url) == []


def test_one_line_of_revisions() -> None:
    """One head: a second one means two rooms wrote migrations in parallel and one must be re-chained."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()
