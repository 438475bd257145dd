"""What a matching job is told: which column plays which role, the locale, the thresholds and the backend.

A mapping file (``MAPPING.yml``) names, for each *role*, the column of the input that plays it; roles are generic
(a person's names, birth date, sex, address parts, identifiers), so the same command works on any person data.
``locale: vi`` switches on the Vietnamese rules of :mod:`lienthong.cleaning` (name order, diacritics, CCCD/CMND,
2018 phone conversion, legacy addresses → 2025 wards); ``locale: generic`` only normalises case, accents and
spacing. Unknown keys are an error (a typo must not silently drop a field); missing roles are allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lienthong.errors import ConfigError

ROLES = ("record_id", "full_name", "given_name", "middle_name", "family_name", "date_of_birth", "sex", "address",
         "locality", "region", "postcode", "ward", "id_number", "phone", "email")


class Thresholds(BaseModel):
    """Match probabilities: at or above ``link`` two records are linked; between ``review`` and ``link`` the pair
    goes to the review queue; below ``review`` it is dropped."""

    model_config = ConfigDict(extra="forbid")

    link: float = Field(default=0.99, gt=0, lt=1)
    review: float = Field(default=0.8, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.link:
            msg = f"the review threshold ({self.review}) must not exceed the link threshold ({self.link})"
            raise ValueError(msg)
        return self


class MatchConfig(BaseModel):
    """One matching job: role → column(s), locale, thresholds, backend.

    ``address`` may be a list of columns, joined with ", " in order. ``date_format`` (strptime, e.g. ``%Y%m%d``)
    reads ``date_of_birth``; without it dates are read as the cleaning rules read them (day first by default).
    """

    model_config = ConfigDict(extra="forbid")

    record_id: str
    full_name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    family_name: str | None = None
    date_of_birth: str | None = None
    date_format: str | None = None
    dayfirst: bool = True
    sex: str | None = None
    address: str | list[str] | None = None
    locality: str | None = None
    region: str | None = None
    postcode: str | None = None
    ward: str | None = None
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    locale: Literal["vi", "generic"] = "vi"
    threshold: float | None = Field(default=None, gt=0, lt=1, description="Shorthand for thresholds.link.")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    backend: Literal["duckdb", "spark"] = "duckdb"

    @field_validator("address")
    @classmethod
    def _address_list(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and not value:
            return None
        return value

    @model_validator(mode="after")
    def _apply_threshold(self) -> MatchConfig:
        if self.threshold is not None:
            review = min(self.thresholds.review, self.threshold)
            self.thresholds = Thresholds(link=self.threshold, review=review)
        if not (self.full_name or self.given_name or self.family_name):
            msg = "map at least one name role: full_name, or given_name/family_name"
            raise ValueError(msg)
        return self

    def columns(self) -> dict[str, list[str]]:
        """Role → the input columns it reads (only the mapped roles)."""
        out: dict[str, list[str]] = {}
        for role in ROLES:
            value = getattr(self, role)
            if value:
                out[role] = list(value) if isinstance(value, list) else [value]
        return out


def members_config(**overrides: object) -> MatchConfig:
    """The roles of the ``members`` contract (``pub_members`` columns), Vietnamese rules on."""
    base = dict(record_id="record_key", full_name="full_name", family_name="family_name",
                middle_name="middle_name", given_name="given_name", date_of_birth="date_of_birth", sex="sex",
                ward="ward_code", id_number="id_number", phone="phone", locale="vi")
    return MatchConfig(**{**base, **overrides})


def load_mapping(path: Path) -> MatchConfig:
    """Read a MAPPING.yml.

    Raises:
        ConfigError: the file is missing, not YAML, or names an unknown role/key or a wrong value.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        msg = f"mapping file {path} not found"
        raise ConfigError(msg, message_vi=f"Không tìm thấy tệp ánh xạ {path}") from None
    except yaml.YAMLError as exc:
        msg = f"mapping file {path} is not valid YAML: {exc}"
        raise ConfigError(msg, message_vi=f"Tệp ánh xạ {path} không đúng cú pháp YAML") from None
    if not isinstance(raw, dict):
        msg = f"mapping file {path} must be a mapping of role: column"
        raise ConfigError(msg, message_vi=f"Tệp ánh xạ {path} phải có dạng vai trò: tên cột")
    known = set(MatchConfig.model_fields)
    unknown = sorted(set(raw) - known)
    if unknown:
        msg = (f"mapping file {path}: unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}, "
               "plus locale, threshold, thresholds, date_format, dayfirst, backend")
        raise ConfigError(msg, message_vi=f"Tệp ánh xạ {path} có vai trò không hợp lệ: {', '.join(unknown)}")
    try:
        return MatchConfig(**raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'mapping'}: {e['msg']}" for e in exc.errors())
        msg = f"mapping file {path}: {problems}"
        raise ConfigError(msg, message_vi=f"Tệp ánh xạ {path} không hợp lệ: {problems}") from None
