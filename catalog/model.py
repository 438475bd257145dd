"""Typed code lists: what a shared list is, independent of where it is stored."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property


def match_key(text: str) -> str:
    """Case-, diacritic- and whitespace-insensitive key used to look labels and aliases up ("Nữ" == "nu")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


@dataclass(frozen=True)
class CodeValue:
    """One entry of a code list."""

    code: str
    label_vi: str
    label_en: str | None = None
    parent: str | None = None  # e.g. the province code of a ward
    aliases: tuple[str, ...] = ()  # other spellings a source may send ("Việt" for Kinh)
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class CodeList:
    """A versioned shared code list.

    Attributes:
        name: stable id used by contracts (``ethnic_groups``, ``wards``, ...).
        version: version of the list's content (e.g. ``2025-07-01``); a new content is a new version.
        valid_from: date from which this version applies.
        basis: the legal or data source (decision number, package and version).
    """

    name: str
    version: str
    title_vi: str
    title_en: str
    valid_from: date
    basis: str
    values: tuple[CodeValue, ...] = field(repr=False)

    @cached_property
    def codes(self) -> frozenset[str]:
        return frozenset(v.code for v in self.values)

    @cached_property
    def _by_key(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for v in self.values:
            for text in (v.label_vi, v.label_en, *v.aliases):
                if text:
                    index.setdefault(match_key(text), v.code)
        for v in self.values:  # codes win over labels that happen to look like codes
            index[match_key(v.code)] = v.code
        return index

    def lookup(self, text: str | None) -> str | None:
        """The code for ``text`` given as a code, label or alias; ``None`` when it is not in the list."""
        if text is None:
            return None
        return self._by_key.get(match_key(text))

    def label(self, code: str) -> str | None:
        for v in self.values:
            if v.code == code:
                return v.label_vi
        return None
