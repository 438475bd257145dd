"""Warehouse table of identity verification against the national population database (issue 19).

One row per record asked about: the answer per field (``match`` | ``mismatch`` | ``not_found``) beside the record,
never a value of the population record. It is also the cache: ``asked_sha256`` is the SHA-256 of what was asked
(ID number, full name, date of birth, sex as the organisation sent them), so an unchanged record is not asked
again before ``expires_at``; a record that changed is asked again at once. ``request_id`` names the audited query
(``audit_log``, action ``population.verify``) that answered it. ``lienthong forget`` deletes the person's rows.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from lienthong.warehouse.tables_base import Timestamp, metadata

verification = Table(
    "verification",
    metadata,
    Column("dataset", String(64), primary_key=True),
    Column("record_key", Text, primary_key=True),  # "<source_id>:<source key>", as in pub_<dataset>
    Column("source_id", String(64), nullable=False),
    Column("asked_sha256", String(64), nullable=False),  # of the values asked: the cache key
    Column("status", String(16), nullable=False),  # found | not_found
    Column("id_number_result", String(16), nullable=False),  # match | mismatch | not_found
    Column("full_name_result", String(16), nullable=False),
    Column("date_of_birth_result", String(16), nullable=False),
    Column("sex_result", String(16), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("request_id", String(40), nullable=False),
    Column("asked_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
)
Index("ix_verification_source_id", verification.c.source_id)
