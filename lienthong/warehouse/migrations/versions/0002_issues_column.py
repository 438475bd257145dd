"""issues column (what cleaning changed or flagged) on every dataset; birth_year on members

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:28:40.746169
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pub_feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issues', sa.Text(), nullable=True))

    with op.batch_alter_table('pub_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('issues', sa.Text(), nullable=True))

    with op.batch_alter_table('pub_relief', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issues', sa.Text(), nullable=True))

    with op.batch_alter_table('stg_feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issues', sa.Text(), nullable=True))

    with op.batch_alter_table('stg_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('issues', sa.Text(), nullable=True))

    with op.batch_alter_table('stg_relief', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issues', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('stg_relief', schema=None) as batch_op:
        batch_op.drop_column('issues')

    with op.batch_alter_table('stg_members', schema=None) as batch_op:
        batch_op.drop_column('issues')
        batch_op.drop_column('birth_year')

    with op.batch_alter_table('stg_feedback', schema=None) as batch_op:
        batch_op.drop_column('issues')

    with op.batch_alter_table('pub_relief', schema=None) as batch_op:
        batch_op.drop_column('issues')

    with op.batch_alter_table('pub_members', schema=None) as batch_op:
        batch_op.drop_column('issues')
        batch_op.drop_column('birth_year')

    with op.batch_alter_table('pub_feedback', schema=None) as batch_op:
        batch_op.drop_column('issues')

