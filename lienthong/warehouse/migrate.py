"""Create or upgrade the warehouse schema with Alembic (programmatic; no alembic.ini in the working folder)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the warehouse at ``engine`` to the newest schema revision."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def pending_revisions(conn: Connection) -> set[str]:
    """The head revisions the warehouse at ``conn`` has not reached (empty: the schema is current)."""
    heads = set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    return heads - set(MigrationContext.configure(conn).get_current_heads())
