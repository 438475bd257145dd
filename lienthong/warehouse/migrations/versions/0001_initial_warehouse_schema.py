"""initial warehouse schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 15:12:10.654604
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batch',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.Text(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('read_options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('cursor', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_valid', sa.Integer(), nullable=True),
    sa.Column('rows_quarantined', sa.Integer(), nullable=True),
    sa.Column('rows_published', sa.Integer(), nullable=True),
    sa.Column('landed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('process_seconds', sa.Float(), nullable=True),
    sa.Column('outcomes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_batch')),
    sa.UniqueConstraint('batch_id', name=op.f('uq_batch_batch_id')),
    sa.UniqueConstraint('source_id', 'content_sha256', name='uq_batch_source_content')
    )
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_source_id'), ['source_id'], unique=False)

    op.create_table('code_list',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('title_vi', sa.Text(), nullable=False),
    sa.Column('title_en', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'version', name=op.f('pk_code_list'))
    )
    op.create_table('code_value',
    sa.Column('list_name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('label_vi', sa.Text(), nullable=False),
    sa.Column('label_en', sa.Text(), nullable=True),
    sa.Column('parent', sa.String(length=64), nullable=True),
    sa.Column('aliases', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('list_name', 'version', 'code', name=op.f('pk_code_value'))
    )
    op.create_table('pub_feedback',
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('province_code', sa.String(length=64), nullable=True),
    sa.Column('ward_code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('published_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('record_key', name=op.f('pk_pub_feedback'))
    )
    with op.batch_alter_table('pub_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_pub_feedback_published_seq', ['published_seq', 'record_key'], unique=False)

    op.create_table('pub_members',
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Text(), nullable=True),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('middle_name', sa.Text(), nullable=True),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('sex', sa.String(length=64), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('id_number', sa.String(length=12), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('ethnicity_code', sa.String(length=64), nullable=True),
    sa.Column('religion_code', sa.String(length=64), nullable=True),
    sa.Column('province_code', sa.String(length=64), nullable=True),
    sa.Column('ward_code', sa.String(length=64), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('organisation', sa.String(length=64), nullable=True),
    sa.Column('branch', sa.Text(), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('published_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('record_key', name=op.f('pk_pub_members'))
    )
    with op.batch_alter_table('pub_members', schema=None) as batch_op:
        batch_op.create_index('ix_pub_members_published_seq', ['published_seq', 'record_key'], unique=False)

    op.create_table('pub_relief',
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Text(), nullable=True),
    sa.Column('campaign', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=64), nullable=True),
    sa.Column('party_name', sa.Text(), nullable=True),
    sa.Column('id_number', sa.String(length=12), nullable=True),
    sa.Column('organisation', sa.String(length=64), nullable=True),
    sa.Column('province_code', sa.String(length=64), nullable=True),
    sa.Column('ward_code', sa.String(length=64), nullable=True),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=True),
    sa.Column('transaction_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('published_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('record_key', name=op.f('pk_pub_relief'))
    )
    with op.batch_alter_table('pub_relief', schema=None) as batch_op:
        batch_op.create_index('ix_pub_relief_published_seq', ['published_seq', 'record_key'], unique=False)

    op.create_table('publication',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('batch_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('rows_inserted', sa.Integer(), nullable=False),
    sa.Column('rows_updated', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_publication'))
    )
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_dataset'), ['dataset'], unique=False)

    op.create_table('source_state',
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('cursor', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source_id', name=op.f('pk_source_state'))
    )
    op.create_table('stg_feedback',
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('feedback_id', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('province_code', sa.String(length=64), nullable=True),
    sa.Column('ward_code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('batch_id', 'row_no', name=op.f('pk_stg_feedback'))
    )
    op.create_table('stg_members',
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Text(), nullable=True),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('middle_name', sa.Text(), nullable=True),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('sex', sa.String(length=64), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('id_number', sa.String(length=12), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('ethnicity_code', sa.String(length=64), nullable=True),
    sa.Column('religion_code', sa.String(length=64), nullable=True),
    sa.Column('province_code', sa.String(length=64), nullable=True),
    sa.Column('ward_code', sa.String(length=64), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('organisation', sa.String(length=64), nullable=True),
    sa.Column('branch', sa.Text(), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('batch_id', 'row_no', name=op.f('pk_stg_members'))
    )
    op.create_table('stg_relief',
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.Text(), nullable=True),
    sa.Column('campaign', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=64), nullable=True),
    sa.Column('party_name', sa.Text(), nullable=True),
    sa.Column('id_number', sa.String(length=12), nullable=True),
    sa.Column('organisation', sa.String(length=64), nullable=True),
    sa.Column('province_code', sa.String(length=64), nullable=True),
    sa.Column('ward_code', sa.String(length=64), nullable=True),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=True),
    sa.Column('transaction_date', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('batch_id', 'row_no', name=op.f('pk_stg_relief'))
    )
    op.create_table('quarantine',
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.batch_id'], name=op.f('fk_quarantine_batch_id_batch')),
    sa.PrimaryKeyConstraint('batch_id', 'row_no', name=op.f('pk_quarantine'))
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_source_id'), ['source_id'], unique=False)

    op.create_table('raw_payload',
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.batch_id'], name=op.f('fk_raw_payload_batch_id_batch')),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_raw_payload'))
    )


def downgrade() -> None:
    op.drop_table('raw_payload')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_source_id'))

    op.drop_table('quarantine')
    op.drop_table('stg_relief')
    op.drop_table('stg_members')
    op.drop_table('stg_feedback')
    op.drop_table('source_state')
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_dataset'))

    op.drop_table('publication')
    with op.batch_alter_table('pub_relief', schema=None) as batch_op:
        batch_op.drop_index('ix_pub_relief_published_seq')

    op.drop_table('pub_relief')
    with op.batch_alter_table('pub_members', schema=None) as batch_op:
        batch_op.drop_index('ix_pub_members_published_seq')

    op.drop_table('pub_members')
    with op.batch_alter_table('pub_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_pub_feedback_published_seq')

    op.drop_table('pub_feedback')
    op.drop_table('code_value')
    op.drop_table('code_list')
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_source_id'))

    op.drop_table('batch')
