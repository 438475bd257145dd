"""The source registry: one YAML file per source, validated by pydantic.

A source says which connector reads it, which dataset it feeds, how its columns map onto the contract, and how
it is scheduled. Values may reference the environment as ``${VAR}`` or ``${VAR:-default}`` (for URLs that change
per deployment; the hub passes the environment with its own home as ``LIENTHONG_HOME``, see
``Settings.registry_variables``); secrets are never written here — connectors take the *name* of the variable
holding them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog.agency_ids import AgencyId, agency_id_of
from connectors import ConnectorSpec
from connectors.population import VerifyConfig
from lienthong.errors import ConfigError
from lienthong.vietnamese.header_labels import COLUMN_PARTS
from schemas import CONTRACTS, get_contract

_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


class Schedule(BaseModel):
    """How Airflow runs the source's sync."""

    model_config = ConfigDict(extra="forbid")
    cron: str | None = Field(default="@daily", description="Cron expression or preset; null = on demand only.")
    retries: int = 2
    retry_delay_minutes: float = 5
    timeout_minutes: float = 60
    owner: str = "lienthong"


class SourceConfig(BaseModel):
    """One source of one dataset."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    title: str
    organisation: str = Field(description="Code of the member organisation that owns the source.")
    agency_id: AgencyId | None = Field(
        default=None, description="Electronic agency identifier (QĐ 20/2020/QĐ-TTg) of the body that holds the "
        "source; default its organisation's (catalog/data/agency_ids.csv).",
    )
    dataset: str
    connector: ConnectorSpec
    mapping: dict[str, str] = Field(description="Contract field -> source column; also a part of a field spread "
                                    "over columns -> its column (date_of_birth_male/_female, address_hamlet, "
                                    "address_ward, …: lienthong.vietnamese.header_labels.COLUMN_PARTS).")
    constants: dict[str, str] = Field(default_factory=dict, description="Contract field -> fixed value.")
    ignore_columns: list[str] = Field(default_factory=list, description="Source columns known and not used.")
    on_new_column: Literal["refuse", "ignore"] = Field(
        default="refuse", description="A column neither mapped nor in ignore_columns: refuse the file (the default: "
        "a renamed column is caught) or ignore the column (for a source that adds columns of its own).",
    )
    full_snapshot: bool = Field(
        default=False, description="Each delivery is the source's whole list: records it no longer holds are deleted.",
    )
    schedule: Schedule = Field(default_factory=Schedule)
    verify: VerifyConfig | None = Field(
        default=None, description="Check each record's ID number, name, date of birth and sex against the national "
        "population database before publishing (lienthong.stages.verify; docs/national-platforms.md).",
    )

    @model_validator(mode="after")
    def _default_agency_id(self) -> SourceConfig:
        if self.agency_id is None:
            self.agency_id = agency_id_of(self.organisation)
        return self

    @model_validator(mode="after")
    def _check_against_contract(self) -> SourceConfig:
        if self.dataset not in CONTRACTS:
            msg = f"unknown dataset {self.dataset!r}; known: {', '.join(sorted(CONTRACTS))}"
            raise ValueError(msg)
        contract = get_contract(self.dataset)
        mappable = set(contract.mappable_fields())
        parts = {part for part, fed in COLUMN_PARTS.items() if set(fed) <= mappable}
        unknown = sorted((set(self.mapping) - mappable - parts) | (set(self.constants) - mappable))
        if unknown:
            msg = f"fields not in the {self.dataset} contract (or derived by the hub): {', '.join(unknown)}"
            raise ValueError(msg)
        both = sorted(set(self.mapping) & set(self.constants))
        if both:
            msg = f"fields both mapped and constant: {', '.join(both)}"
            raise ValueError(msg)
        by_sex = {"date_of_birth_male", "date_of_birth_female"} & set(self.mapping)
        if by_sex and "sex" in self.mapping:
            msg = f"{', '.join(sorted(by_sex))} give the sex: map either them or sex, not both"
            raise ValueError(msg)
        missing = [
            f.name for f in contract.fields()
            if f.required and not f.derived and f.name not in self.mapping and f.name not in self.constants
        ]
        if missing:
            msg = f"required contract fields neither mapped nor constant: {', '.join(missing)}"
            raise ValueError(msg)
        if self.verify is not None and not ({"id_number", "full_name", "date_of_birth", "sex"}
                                            <= set(contract.field_names()) and "id_number" in self.mapping):
            msg = ("verify: only a dataset of people whose source maps id_number (members) can be checked against "
                   "the population database")
            raise ValueError(msg)
        return self

    @property
    def expected_columns(self) -> list[str]:
        return list(self.mapping.values())


def _expand_env(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        def repl(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in variables:
                return variables[name]
            if default is not None:
                return default
            msg = f"environment variable {name} is not set"
            raise ConfigError(msg, message_vi=f"Chưa đặt biến môi trường {name}")
        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, variables) for v in value]
    return value


def load_source(path: Path, variables: Mapping[str, str] | None = None) -> SourceConfig:
    """Read and validate one source file.

    Args:
        path: the YAML file.
        variables: what ``${VAR}`` expands to (:meth:`lienthong.settings.Settings.registry_variables`); default
            the environment.

    Raises:
        ConfigError: the file is not valid YAML or does not describe a valid source; the message names the file
            and the offending keys.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise ConfigError(msg, message_vi=f"{path}: tệp cấu hình không đúng định dạng YAML") from exc
    if not isinstance(raw, dict):
        msg = f"{path}: expected a mapping of source settings"
        raise ConfigError(msg)
    try:
        return SourceConfig.model_validate(_expand_env(raw, os.environ if variables is None else variables))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(source)'}: {err['msg']}" for err in exc.errors()
        )
        msg = f"{path}: invalid source: {problems}"
        raise ConfigError(msg, message_vi=f"{path}: cấu hình nguồn không hợp lệ: {problems}") from exc


def load_registry(folder: Path, variables: Mapping[str, str] | None = None) -> dict[str, SourceConfig]:
    """All sources in ``folder`` (``*.yml`` / ``*.yaml``), keyed by id, in file-name order; ``${VAR}`` expanded
    from ``variables`` (default the environment), as :func:`load_source` does."""
    if not folder.is_dir():
        msg = f"source registry folder {folder} does not exist"
        raise ConfigError(msg)
    sources: dict[str, SourceConfig] = {}
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        source = load_source(path, variables)
        if source.id in sources:
            msg = f"{path}: source id {source.id!r} is used twice"
            raise ConfigError(msg)
        sources[source.id] = source
    return sources
