"""The vocabulary of dataset contracts.

A contract is a pydantic model whose fields carry hub metadata: what kind of value it holds (which drives
cleaning and the warehouse column type), the shared code list it is bound to, its privacy class and its role in
matching. Validation suites, warehouse tables, API models and open-data rules are all derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class FieldKind(StrEnum):
    """What a field holds; decides how it is cleaned and stored."""

    TEXT = "text"
    NAME = "name"  # a person's name: NFC, whitespace, title case
    ID_NUMBER = "id_number"  # CCCD (12 digits) or CMND (9 digits)
    PHONE = "phone"
    DATE = "date"
    DATETIME = "datetime"
    CODE = "code"  # a value of a shared code list (see ``code_list``)
    INTEGER = "integer"
    MONEY = "money"  # whole VND
    BOOLEAN = "boolean"


class Privacy(StrEnum):
    """Privacy class under Law 91/2025/QH15 and Decree 356/2025/NĐ-CP."""

    DIRECT_IDENTIFIER = "direct_identifier"  # names a person on its own: ID number, phone, full name *and its parts*
    QUASI_IDENTIFIER = "quasi_identifier"  # identifies in combination: date of birth, ward, sex
    SENSITIVE = "sensitive"  # ethnic origin, religion: aggregates only, with disclosure control
    PUBLIC = "public"


class MatchRole(StrEnum):
    """What a field contributes to record linkage."""

    NONE = "none"
    SOURCE_KEY = "source_key"
    FULL_NAME = "full_name"
    FAMILY_NAME = "family_name"
    MIDDLE_NAME = "middle_name"
    GIVEN_NAME = "given_name"
    DATE_OF_BIRTH = "date_of_birth"
    SEX = "sex"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    WARD = "ward"
    ADDRESS = "address"
    ORGANISATION = "organisation"


@dataclass(frozen=True)
class FieldSpec:
    """One contract field with its hub metadata, as the stages see it."""

    name: str
    kind: FieldKind
    required: bool
    privacy: Privacy
    match_role: MatchRole
    code_list: str | None
    label_vi: str
    description: str
    max_length: int | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    derived: bool = False  # filled by the hub (e.g. family_name from full_name), never mapped from a source


_META_KEY = "lienthong"


def spec(
    kind: FieldKind,
    *,
    label_vi: str,
    description: str,
    required: bool = False,
    privacy: Privacy = Privacy.PUBLIC,
    match_role: MatchRole = MatchRole.NONE,
    code_list: str | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    derived: bool = False,
) -> Any:
    """Declare a contract field. Returns a pydantic ``Field`` carrying the hub metadata."""
    if kind is FieldKind.CODE and not code_list:
        msg = "a CODE field must name its code list"
        raise ValueError(msg)
    meta = {
        "kind": kind,
        "required": required,
        "privacy": privacy,
        "match_role": match_role,
        "code_list": code_list,
        "label_vi": label_vi,
        "max_length": max_length,
        "pattern": pattern,
        "minimum": minimum,
        "maximum": maximum,
        "derived": derived,
    }
    extra = {"x-lienthong": {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in meta.items()}}
    return Field(
        default=... if required else None,
        description=description,
        title=label_vi,
        max_length=max_length,
        json_schema_extra=extra,
    )


class Contract(BaseModel):
    """Base of dataset contracts. Subclasses set the class variables and declare fields with :func:`spec`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dataset: ClassVar[str]
    title_vi: ClassVar[str]
    title_en: ClassVar[str]
    description_vi: ClassVar[str] = ""
    description_en: ClassVar[str] = ""
    key: ClassVar[tuple[str, ...]]  # the source's own primary key, unique within a source

    @classmethod
    def fields(cls) -> list[FieldSpec]:
        """The contract's fields in declaration order."""
        out = []
        for name, info in cls.model_fields.items():
            meta = dict(info.json_schema_extra[f"x-{_META_KEY}"])  # type: ignore[index]
            out.append(
                FieldSpec(
                    name=name,
                    kind=FieldKind(meta.pop("kind")),
                    privacy=Privacy(meta.pop("privacy")),
                    match_role=MatchRole(meta.pop("match_role")),
                    description=info.description or "",
                    **meta,
                )
            )
        return out

    @classmethod
    def field(cls, name: str) -> FieldSpec:
        for f in cls.fields():
            if f.name == name:
                return f
        msg = f"dataset {cls.dataset!r} has no field {name!r}"
        raise KeyError(msg)

    @classmethod
    def field_names(cls) -> list[str]:
        return list(cls.model_fields)

    @classmethod
    def mappable_fields(cls) -> list[str]:
        """Fields a source may map; derived fields are filled by the hub."""
        return [f.name for f in cls.fields() if not f.derived]
