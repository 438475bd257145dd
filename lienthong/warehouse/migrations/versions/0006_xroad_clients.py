"""X-Road grants: api_key.xroad_client, the consumer subsystem a key's scopes are granted to (issue 18)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("xroad_client", sa.String(length=160), nullable=True))
        batch_op.create_index("ix_api_key_xroad_client", ["xroad_client"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index("ix_api_key_xroad_client")
        batch_op.drop_column("xroad_client")
