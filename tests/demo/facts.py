"""Facts the demo data is checked against, typed from /work/shared/VIETNAMESE_DATA.md — not imported from the
generator, so a slip there cannot hide itself."""

from __future__ import annotations

import re
from datetime import date, datetime

# The 63 pre-2025 province codes used in digits 1–3 of a CCCD ("0" + code).
OLD_PROVINCE_CODES = {
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40,
    42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83,
    84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
}
MOBILE_PREFIXES = {
    *(f"03{d}" for d in range(2, 10)), "086", "096", "097", "098",  # Viettel
    "081", "082", "083", "084", "085", "088", "091", "094",  # VinaPhone
    "087",  # iTel
    "070", "076", "077", "078", "079", "089", "090", "093",  # MobiFone
    "052", "056", "058", "092",  # Vietnamobile
    "059", "099",  # Gmobile
}
OLD_TO_NEW_PREFIX = {
    **{f"016{d}": f"03{d}" for d in range(2, 10)},
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0186": "056", "0188": "058", "0199": "059",
}


def national_phone(text: str) -> str:
    """A written phone number in national form: no formatting, +84/84 -> 0, 11-digit mobiles converted."""
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        digits = "0" + digits[2:]
    if len(digits) == 11 and digits[:4] in OLD_TO_NEW_PREFIX:
        digits = OLD_TO_NEW_PREFIX[digits[:4]] + digits[4:]
    return digits


def parse_dmy(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except (TypeError, ValueError):
        return None
