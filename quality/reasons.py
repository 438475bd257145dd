"""Why a row was quarantined: one :class:`Reason` per failed rule, in Vietnamese and English.

Values of direct identifiers are masked before they are stored or shown (never log a full ID number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lienthong.masking import mask
from schemas.base import Privacy


@dataclass(frozen=True)
class Reason:
    """One rule a row failed.

    Attributes:
        rule: stable rule id, e.g. ``required``, ``in_code_list``, ``pattern``, ``date_format``.
        column: contract field (or source column for mapping problems).
        value: the offending value, masked when the field is personal.
        message_vi: for the organisation's clerk, plain Vietnamese, saying what to fix.
        message_en: for the engineer.
    """

    rule: str
    column: str
    value: str | None
    message_vi: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        # Written out: dataclasses.asdict deep-copies every field, and a batch files tens of thousands of reasons.
        return {"rule": self.rule, "column": self.column, "value": self.value, "message_vi": self.message_vi,
                "message_en": self.message_en}


def mask_value(value: object, privacy: Privacy) -> str | None:
    """A value for display according to its privacy class.

    Direct identifiers are masked by the hub's one rule (:func:`lienthong.masking.mask`: "0912345678" ->
    "*******678", "Nguyễn Văn An" -> "N***** V** A*"); other classes are shown as they are, since a clerk needs to
    see e.g. the wrong date to fix it.
    """
    if value is None:
        return None
    text = str(value)
    return mask(text) if privacy is Privacy.DIRECT_IDENTIFIER else text
