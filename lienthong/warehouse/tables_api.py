"""Warehouse tables of the HTTP API: API keys (hashes only) and the append-only audit log.

A key's token is shown once when it is created and never stored: only its SHA-256 is, so a copy of the warehouse
gives nobody a working key. The audit log is append-only by convention of the code (only
``lienthong.warehouse.audit.append_audit`` writes it) and, on PostgreSQL, by a trigger that refuses UPDATE and
DELETE (migration 0003), the X-Road message-log idea: who read or wrote which personal data, when.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table

from lienthong.warehouse.tables_base import Json, Timestamp, metadata

api_key = Table(
    "api_key",
    metadata,
    Column("key_id", String(16), primary_key=True),  # public handle, also the token's prefix ("lt_<key_id>_...")
    Column("name", String(200), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("scopes", Json, nullable=False),  # ["push:hnd_files", "read:members", "read:pii", "admin"]
    Column("organisation", String(64), nullable=True),  # an organisation's key sees only its own members
    Column("rate_per_minute", Integer, nullable=True),  # None: the hub's default
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=True),
    Column("revoked", Boolean, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    Column("last_used_at", Timestamp, nullable=True),
    # An X-Road grant: the consumer subsystem INSTANCE/CLASS/MEMBER/SUBSYSTEM whose requests, forwarded by a trusted
    # Security Server, get this row's scopes (lienthong.api.xroad). Its token is never shown: it is not a bearer key.
    Column("xroad_client", String(160), nullable=True),
)
Index("ix_api_key_xroad_client", api_key.c.xroad_client)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False),
    Column("actor", String(200), nullable=False),  # "key:<key_id> (<name>)", "cli:<user>", "anonymous"
    Column("action", String(64), nullable=False),  # e.g. records.read, batch.push, rejects.read, open_data.download
    Column("dataset", String(64), nullable=True),
    Column("records", Integer, nullable=False),
    Column("detail", Json, nullable=False),  # the filter, cursor, format, batch id, client address ...
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_actor", audit_log.c.actor, audit_log.c.seq)
Index("ix_audit_log_dataset", audit_log.c.dataset, audit_log.c.seq)

# An upload retried with the same ``Idempotency-Key`` returns the batch of the first attempt. The content hash
# already makes an identical re-send the same batch; the header also covers a client that re-encodes its file:
# ``fingerprint`` is the SHA-256 of the parsed records, so the same rows re-encoded match and other rows do not
# (422, as the IETF Idempotency-Key draft asks). The key is claimed in the transaction that lands the batch.
api_idempotency = Table(
    "api_idempotency",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("source_id", String(64), nullable=False),
    Column("batch_id", String(40), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("fingerprint", String(64), nullable=True),  # None: claimed before migration 0005, matches any content
)
