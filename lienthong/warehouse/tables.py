"""Warehouse tables: metadata (batches, state, quarantine, catalog) and one staging + published table per dataset.

Zones: raw (``raw_payload``: each landed payload, immutable, identified by its SHA-256) → staging (``stg_<dataset>``:
valid rows of batches not yet published) → published (``pub_<dataset>``: one row per record, with ``version``,
``updated_at``, ``deleted`` and the ``published_seq`` of the publication that last changed it). Rows that fail
go to ``quarantine`` with their reasons. The dataset tables are derived from the contracts; Alembic migrations
freeze each derivation, so a contract change needs a new migration (``make migration``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

# The tables of the HTTP API (keys, audit) and of entity resolution live beside their rooms' code, in the same
# metadata (tables_base): importing this module registers them all, e.g. for Alembic.
from lienthong.warehouse import tables_api, tables_match, tables_verify  # noqa: F401
from lienthong.warehouse.tables_base import Blob, Json, Timestamp, metadata
from schemas import CONTRACTS, Contract, FieldKind

source_state = Table(
    "source_state",
    metadata,
    Column("source_id", String(64), primary_key=True),
    Column("cursor", Json, nullable=True),
    Column("updated_at", Timestamp, nullable=False),
)

batch = Table(
    "batch",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(40), nullable=False, unique=True),
    Column("source_id", String(64), nullable=False, index=True),
    Column("dataset", String(64), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("origin", Text, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("read_options", Json, nullable=False),
    Column("cursor", Json, nullable=True),
    Column("status", String(16), nullable=False),  # landed → staged → published, or failed (error_en/_vi say why)
    Column("rows_read", Integer, nullable=False),
    Column("rows_valid", Integer, nullable=True),
    Column("rows_quarantined", Integer, nullable=True),
    Column("rows_published", Integer, nullable=True),
    Column("landed_at", Timestamp, nullable=False),
    Column("processed_at", Timestamp, nullable=True),
    Column("published_at", Timestamp, nullable=True),
    Column("process_seconds", Float, nullable=True),
    Column("outcomes", Json, nullable=True),  # expectation results of the last processing, for reports
    # A batch that could not be processed ends ``failed`` with its reason (landing it again resets it to landed).
    Column("error_en", Text, nullable=True),
    Column("error_vi", Text, nullable=True),
    Column("failed_at", Timestamp, nullable=True),
    # When a processing worker took the batch: one worker at a time, and the sweeper's clock (landing.py).
    Column("processing_since", Timestamp, nullable=True),
    UniqueConstraint("source_id", "content_sha256", name="uq_batch_source_content"),
)

raw_payload = Table(
    "raw_payload",
    metadata,
    Column("batch_id", String(40), ForeignKey("batch.batch_id"), primary_key=True),
    Column("sha256", String(64), nullable=False),  # of the payload as received, before compression
    Column("codec", String(16), nullable=False),  # how ``payload`` is compressed: zstd | none
    Column("size", BigInteger, nullable=False),  # bytes as received
    Column("payload", Blob, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("batch_id", String(40), ForeignKey("batch.batch_id"), primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("source_id", String(64), nullable=False, index=True),
    Column("dataset", String(64), nullable=False),
    Column("record", Json, nullable=False),  # the mapped source values, as received
    Column("reasons", Json, nullable=False),  # list of quality.reasons.Reason dicts
    Column("status", String(16), nullable=False),  # open | released
    Column("created_at", Timestamp, nullable=False),
    Column("released_at", Timestamp, nullable=True),
)

publication = Table(
    "publication",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(64), nullable=False, index=True),
    Column("published_at", Timestamp, nullable=False),
    Column("batch_ids", Json, nullable=False),
    Column("rows_inserted", Integer, nullable=False),
    Column("rows_updated", Integer, nullable=False),
)

code_list = Table(
    "code_list",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("title_vi", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("basis", Text, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("loaded_at", Timestamp, nullable=False),
)

code_value = Table(
    "code_value",
    metadata,
    Column("list_name", String(64), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("label_vi", Text, nullable=False),
    Column("label_en", Text, nullable=True),
    Column("parent", String(64), nullable=True),
    Column("aliases", Json, nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
)

_COLUMN_TYPES: dict[FieldKind, type[TypeEngine] | TypeEngine] = {
    FieldKind.TEXT: Text,
    FieldKind.NAME: Text,
    FieldKind.ID_NUMBER: String(12),
    FieldKind.PHONE: String(16),
    FieldKind.DATE: Date,
    FieldKind.DATETIME: Timestamp,
    FieldKind.CODE: String(64),
    FieldKind.INTEGER: Integer,
    FieldKind.MONEY: BigInteger,
    FieldKind.BOOLEAN: Boolean,
}


def _field_columns(contract: type[Contract]) -> list[Column]:
    return [Column(f.name, _COLUMN_TYPES[f.kind], nullable=True) for f in contract.fields()]


def _dataset_tables(contract: type[Contract]) -> tuple[Table, Table]:
    name = contract.dataset
    # No key and no index: staging only ever holds the few batches not yet published, and is read whole; an index
    # would cost ~40% of the COPY time (docs/BENCHMARKS.md). write_processed keeps (batch_id, row_no) unique.
    staging = Table(
        f"stg_{name}",
        metadata,
        Column("batch_id", String(40), nullable=False),
        Column("row_no", Integer, nullable=False),
        Column("record_key", Text, nullable=False),
        Column("source_id", String(64), nullable=False),
        *_field_columns(contract),
    )
    published = Table(
        f"pub_{name}",
        metadata,
        Column("record_key", Text, primary_key=True),  # "<source_id>:<source key>"
        Column("source_id", String(64), nullable=False),
        Column("batch_id", String(40), nullable=False),
        Column("row_no", Integer, nullable=False),
        *_field_columns(contract),
        Column("version", Integer, nullable=False),
        Column("published_seq", Integer, nullable=False),
        Column("updated_at", Timestamp, nullable=False),
        Column("deleted", Boolean, nullable=False),
    )
    Index(f"ix_pub_{name}_published_seq", published.c.published_seq, published.c.record_key)
    return staging, published


STAGING: dict[str, Table] = {}
PUBLISHED: dict[str, Table] = {}
for _contract in CONTRACTS.values():
    STAGING[_contract.dataset], PUBLISHED[_contract.dataset] = _dataset_tables(_contract)


def contract_columns(contract: type[Contract]) -> list[str]:
    """The columns a dataset table holds for the contract's fields, in order."""
    return contract.field_names()

