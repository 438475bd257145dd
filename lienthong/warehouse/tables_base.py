"""What every warehouse table module shares: the one ``metadata`` (with its naming convention) and column types.

Its own module so that ``tables``, ``tables_api`` and ``tables_match`` all import it and none imports another in
a loop (issue 13).
"""

from __future__ import annotations

from sqlalchemy import JSON, DateTime, LargeBinary, MetaData
from sqlalchemy.dialects.postgresql import BYTEA, JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Blob = LargeBinary().with_variant(BYTEA(), "postgresql")
Timestamp = DateTime(timezone=True)
