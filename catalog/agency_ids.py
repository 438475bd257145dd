"""Electronic agency identifiers (mã định danh điện tử của cơ quan, tổ chức, QĐ 20/2020/QĐ-TTg) of the
organisations, as data: ``data/agency_ids.csv``, one row per organisation code of ``organisations.csv``.

The format is the documented one: at most 35 characters of digits, A–Z and "." (e.g. ``000.00.00.G22``). No
identifier of the Front or its member organisations is published, so every row ships as a ``placeholder`` with
no identifier; an operator enters the code the organisation was issued and marks the row ``assigned`` (or
``documented``, citing a public source in ``basis``). A placeholder can never carry an identifier, so nothing
made up passes for an official code. DCAT publishers, CKAN organizations, X-Road member codes and audit entries
read the identifier through :func:`agency_id_of`.

    >>> agency_id_of("HLHPN") is None  # until an operator fills it in
    True
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from catalog.manifest import DATA_DIR

AGENCY_IDS_PATH = DATA_DIR / "agency_ids.csv"
AGENCY_ID_MAX = 35
_AGENCY_ID = re.compile(r"[0-9A-Z.]{1,35}")
STATUSES = ("documented", "assigned", "placeholder")


def validate_agency_id(value: str) -> str:
    """``value`` if it is an agency identifier in the QĐ 20/2020 format, else ValueError saying why."""
    if not isinstance(value, str) or not _AGENCY_ID.fullmatch(value):
        shown = repr(value)[:60]
        msg = (f"{shown} is not an electronic agency identifier (QĐ 20/2020/QĐ-TTg): at most {AGENCY_ID_MAX} "
               "characters of digits, capital letters A-Z and '.', e.g. 000.00.00.G22")
        raise ValueError(msg)
    return value


def is_agency_id(value: str) -> bool:
    """Whether ``value`` has the QĐ 20/2020 format (e.g. an X-Road member code that is an agency identifier)."""
    return isinstance(value, str) and _AGENCY_ID.fullmatch(value) is not None


AgencyId = Annotated[str, AfterValidator(validate_agency_id)]
"""A validated agency identifier, for pydantic models (e.g. a source's ``agency_id``)."""


@dataclass(frozen=True)
class AgencyEntry:
    organisation: str
    agency_id: str | None
    status: str  # documented | assigned | placeholder
    basis: str


def read_agency_ids(path: Path = AGENCY_IDS_PATH, *, organisations: set[str] | None = None) -> dict[str, AgencyEntry]:
    """The identifiers of ``path`` by organisation code, checked.

    Args:
        path: a CSV with columns organisation, agency_id, status, basis.
        organisations: the known organisation codes; default those of the ``organisations`` code list.

    Raises:
        ValueError: naming the file and line: an unknown organisation or status, an invalid identifier, a
            placeholder with an identifier (or a documented/assigned row without one), a repeated row or id.
    """
    if organisations is None:
        from catalog.lists import get_code_list

        organisations = set(get_code_list("organisations").codes)
    out: dict[str, AgencyEntry] = {}
    seen_ids: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            where = f"{path}: line {line}"
            org, status = (row.get("organisation") or "").strip(), (row.get("status") or "").strip()
            agency_id = (row.get("agency_id") or "").strip() or None
            if org not in organisations:
                msg = f"{where}: unknown organisation {org!r}; known: {', '.join(sorted(organisations))}"
                raise ValueError(msg)
            if org in out:
                msg = f"{where}: organisation {org} is listed twice"
                raise ValueError(msg)
            if status not in STATUSES:
                msg = f"{where}: status {status!r} is not one of {', '.join(STATUSES)}"
                raise ValueError(msg)
            if status == "placeholder" and agency_id:
                msg = f"{where}: a placeholder has no identifier; mark the row 'assigned' once {org}'s code is known"
                raise ValueError(msg)
            if status != "placeholder":
                if not agency_id:
                    msg = f"{where}: a {status} row needs its agency_id"
                    raise ValueError(msg)
                try:
                    validate_agency_id(agency_id)
                except ValueError as exc:
                    raise ValueError(f"{where}: {exc}") from None
                if agency_id in seen_ids:
                    msg = f"{where}: {agency_id} is already the identifier of {seen_ids[agency_id]}"
                    raise ValueError(msg)
                seen_ids[agency_id] = org
            out[org] = AgencyEntry(org, agency_id, status, (row.get("basis") or "").strip())
    return out


@cache
def _shipped() -> dict[str, AgencyEntry]:
    return read_agency_ids()


def agency_id_of(organisation_code: str) -> str | None:
    """The electronic agency identifier of an organisation, or None when it is unknown or still a placeholder."""
    entry = _shipped().get(organisation_code)
    return entry.agency_id if entry else None
