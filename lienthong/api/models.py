"""Response models of the API: what the OpenAPI document promises and the responses are checked against."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class Reason(BaseModel):
    rule: str = Field(examples=["required"])
    column: str = Field(examples=["full_name"])
    value: str | None = Field(description="The offending value, masked when it is a direct identifier.")
    message_vi: str = Field(examples=["Thiếu họ và tên."])
    message_en: str = Field(examples=["full_name is required"])


class RejectedRow(BaseModel):
    row: int = Field(description="The row as a spreadsheet program shows the uploaded file (the header is row 1; "
                     "for a CSV its line, for NDJSON its line, for JSON the record's position).", examples=[5])
    sheet: str | None = Field(default=None, description="The row's sheet, when the workbook was read from several "
                              "sheets (then `row` is the row in that sheet).", examples=["Chi đoàn thôn 2"])
    record: dict[str, str | None] = Field(description="The row as sent, by the source's own column names.")
    reasons: list[Reason]


class BatchFailure(BaseModel):
    """Why a batch failed and what to do; landing the same content again (a re-send) retries it."""

    message: str = Field(description="English.", examples=["processing stopped on an internal error of the hub"])
    message_vi: str = Field(description="Vietnamese, for clerks.", examples=["Xử lý lô dữ liệu bị dừng"])
    failed_at: datetime | None


class BatchVerification(BaseModel):
    """Identity checks of the batch's records against the national population database (sources that verify)."""

    match: int
    mismatch: int = Field(description="Found, but a name, date of birth or sex differs (flagged in `issues`).")
    not_found: int = Field(description="ID number not in the register (flagged in `issues`).")
    pending: int = Field(description="Not answered yet (the service was down): asked on the next run.")
    message: str | None = Field(default=None, description="Said when some records wait for an answer.")
    message_vi: str | None = None


class BatchReport(BaseModel):
    """A pushed batch: its status and quality report."""

    batch_id: str = Field(examples=["b3f1c2a9d8e7f6a5b4c3d2e1f0"])
    source_id: str = Field(examples=["hnd_files"])
    dataset: str = Field(examples=["members"])
    status: str = Field(description="landed → staged → published, or failed (see `failure`); published and "
                                    "failed are final", examples=["published"])
    duplicate: bool = Field(default=False, description="True when this upload repeated an earlier batch.")
    origin: str
    media_type: str
    rows_received: int
    rows_valid: int | None
    rows_quarantined: int | None
    rows_published: int | None
    reconciled: bool = Field(description="rows received = valid + quarantined")
    landed_at: datetime
    processed_at: datetime | None
    published_at: datetime | None
    failure: BatchFailure | None = Field(default=None, description="Why the batch failed, when it did.")
    quarantined: list[RejectedRow] = Field(default_factory=list, description="Refused rows, at most `limit`.")
    quarantined_truncated: bool = False
    verification: BatchVerification | None = Field(default=None, description="Checks against the population "
                                                   "database, when the source asks for them.")
    links: dict[str, str] = Field(default_factory=dict)


class SourceInfo(BaseModel):
    id: str = Field(examples=["hnd_files"])
    title: str
    organisation: str = Field(examples=["HND"])
    dataset: str = Field(examples=["members"])
    expected_columns: list[str] = Field(description="Columns a feed must have (in any order).")
    optional_columns: list[str] = Field(description="Columns the hub accepts and ignores.")
    example_url: str = Field(description="A CSV with the expected header and one example row.")
    upload_url: str


class FieldInfo(BaseModel):
    name: str
    kind: str
    label_vi: str
    description: str
    required: bool
    privacy: str
    code_list: str | None
    derived: bool


class DatasetInfo(BaseModel):
    id: str = Field(examples=["members"])
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    publisher: str
    licence: str
    update_frequency: str = Field(description="From the schedules of the sources feeding it.")
    last_updated: datetime | None
    row_count: int
    quality_score: float | None = Field(description="Share of received rows that passed validation.")
    readable: bool = Field(description="Whether the calling key may read its records.")
    records_url: str
    schema_: list[FieldInfo] = Field(alias="schema", serialization_alias="schema")


class RecordPage(BaseModel):
    """A page of records. Each record: ``record_key``, ``source_id``, ``version``, ``updated_at``, ``deleted``,
    ``cursor`` and the contract's fields the key may see; a tombstone (``deleted: true``) has no fields."""

    dataset: str
    records: list[dict[str, Any]]
    next: str = Field(description="Cursor to pass as `since` for the following page or, later, for changes.")
    has_more: bool
    pseudonymised: list[str] = Field(description="Fields given as keyed HMAC pseudonyms instead of values.")
    withheld: list[str] = Field(description="Direct identifiers this key may not see.")


class CodeValueOut(BaseModel):
    code: str
    label_vi: str
    label_en: str | None
    parent: str | None
    aliases: list[str]
    valid_from: date | None
    valid_to: date | None


class CodeListOut(BaseModel):
    name: str = Field(examples=["ethnic_groups"])
    version: str
    title_vi: str
    title_en: str
    valid_from: date
    basis: str
    is_current: bool
    versions: list[str] = Field(description="Every stored version, current first.")
    values: list[CodeValueOut]


class CodeListSummary(BaseModel):
    name: str
    current_version: str
    title_vi: str
    title_en: str
    versions: list[str]


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    detail: str | None = None
