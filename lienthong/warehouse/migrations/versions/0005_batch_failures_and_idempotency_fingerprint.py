"""batch failures (status failed + reason), processing claims, Idempotency-Key content fingerprints (issue 12)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_en", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("error_vi", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("failed_at", _TS, nullable=True))
        batch_op.add_column(sa.Column("processing_since", _TS, nullable=True))
    with op.batch_alter_table("api_idempotency", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_idempotency", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
    op.execute("UPDATE batch SET status = 'landed' WHERE status = 'failed'")  # older code knows no failed batch
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_column("processing_since")
        batch_op.drop_column("failed_at")
        batch_op.drop_column("error_vi")
        batch_op.drop_column("error_en")
