"""The golden record of an entity: one value per field, chosen from its records by written survivorship rules.

Rules, per field (``SURVIVORSHIP``), applied in order until one value is left:

1. source priority — when ``priority`` names organisations for a field, values from the first listed organisation
   that has one win (e.g. the Front's own registry for the ID number);
2. the field's own rule: ``complete`` (full_name: written with diacritics and the most words — the fullest
   spelling), ``cccd_first`` (id_number: a 12-digit CCCD over an old CMND), ``most_frequent`` (sex);
3. the most recent valid value (``updated_at``, then ``published_seq``) — for phone, ward, address, date of birth.

Null values never survive over a present one. Memberships are listed, not merged: ``organisations`` is every
organisation the person is a member of.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

SURVIVORSHIP: dict[str, str] = {
    "full_name": "complete", "sex": "most_frequent", "date_of_birth": "most_recent", "id_number": "cccd_first",
    "phone": "most_recent", "ward_code": "most_recent", "province_code": "most_recent", "address": "most_recent",
}


def _complete(value: str) -> tuple[int, int]:
    return (int(not value.isascii()), len(value.split()))


def golden_record(records: Iterable[dict[str, Any]], priority: dict[str, list[str]] | None = None
                  ) -> dict[str, Any]:
    """The surviving value of each field of :data:`SURVIVORSHIP` among one entity's ``records`` (dicts)."""
    rows = sorted(records, key=lambda r: (str(r.get("updated_at") or ""), r.get("published_seq") or 0),
                  reverse=True)  # most recent first
    out: dict[str, Any] = {}
    for field, rule in SURVIVORSHIP.items():
        candidates = [r for r in rows if r.get(field) not in (None, "")]
        for org in (priority or {}).get(field, []):
            preferred = [r for r in candidates if r.get("organisation") == org]
            if preferred:
                candidates = preferred
                break
        if not candidates:
            out[field] = None
            continue
        values = [r[field] for r in candidates]
        if rule == "complete":
            value = max(values, key=_complete)  # max keeps the first (most recent) of equals
        elif rule == "cccd_first":
            value = next((v for v in values if len(str(v)) == 12), values[0])
        elif rule == "most_frequent":
            counts = Counter(values)
            value = max(values, key=lambda v: counts[v])
        else:
            value = values[0]
        out[field] = value.isoformat() if hasattr(value, "isoformat") else value
    return out
