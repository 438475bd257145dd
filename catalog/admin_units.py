"""The 2025 administrative units (34 provinces, 3,321 commune-level units): the ward list's type and unit names.

The lists are catalog data (``data/provinces.csv``, ``data/wards.csv``), frozen from the ``vietnam-provinces``
package 2025.10.1 by ``scripts/freeze_admin_units.py`` with two reviewed inputs:

* ``data/province_aliases.csv`` — extra province spellings ("TP HCM", "Sài Gòn", "Thừa Thiên Huế").
* ``data/ward_code_corrections.csv`` — official codes for the 122 communes whose code in vietnam-provinces
  2025.10.1 differs from the official list (Công văn 1027/CTK-CSCL of 25 June 2025, the list of Quyết định
  19/2025/QĐ-TTg). How they were checked: docs/catalog.md.

No package is read at run time. Codes are zero-padded strings: provinces 2 digits ("01"), wards 5 digits
("00070"); a ward's parent is its province code.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

from catalog.model import CodeList

# Unit types of a commune-level name, longest first, with the abbreviations sources use ("P. Hoàn Kiếm").
WARD_PREFIXES = ("Phường ", "Xã ", "Đặc khu ")
WARD_ABBREVIATIONS = {"Phường ": ("P. ",), "Xã ": ("X. ",), "Đặc khu ": ("ĐK ",)}


@dataclass(frozen=True)
class WardList(CodeList):
    """The commune-level list. ``lookup`` accepts only codes: ward names repeat across provinces (238 names
    occur in more than one), so a name means nothing without its province — use ``catalog.ward_lookup``."""

    def lookup(self, text: str | None) -> str | None:
        """The code for ``text`` if it is a ward code, else ``None``; names are deliberately not looked up.

        "70" (a spreadsheet dropped the leading zeros) is read as "00070".
        """
        if text is None:
            return None
        candidate = text.strip()
        if candidate.isdigit() and len(candidate) <= 5:
            candidate = candidate.zfill(5)
        return candidate if candidate in self.codes else None

    @cached_property
    def province_of(self) -> dict[str, str]:
        """Ward code -> province code."""
        return {v.code: v.parent for v in self.values if v.parent}


def typed_code_list(code_list: CodeList) -> CodeList:
    """The same list as the class its name calls for: a ``WardList`` for ``wards`` (code-only ``lookup``).

    Use it when a list is rebuilt elsewhere (the warehouse, an imported CSV) so it behaves as when loaded.
    """
    if code_list.name == "wards" and not isinstance(code_list, WardList):
        return WardList(**{f.name: getattr(code_list, f.name) for f in fields(CodeList)})
    return code_list
