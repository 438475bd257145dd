"""Dataset contracts: one pydantic model per canonical dataset."""

from __future__ import annotations

from schemas.base import Contract, FieldKind, FieldSpec, MatchRole, Privacy
from schemas.feedback import Feedback
from schemas.members import Member
from schemas.relief import Relief

CONTRACTS: dict[str, type[Contract]] = {c.dataset: c for c in (Member, Feedback, Relief)}


def get_contract(dataset: str) -> type[Contract]:
    """The contract of ``dataset``; raises KeyError naming the known datasets."""
    try:
        return CONTRACTS[dataset]
    except KeyError:
        msg = f"unknown dataset {dataset!r}; known: {', '.join(sorted(CONTRACTS))}"
        raise KeyError(msg) from None


__all__ = ["CONTRACTS", "Contract", "FieldKind", "FieldSpec", "MatchRole", "Privacy", "get_contract"]
