"""Typed code lists: what a shared list is, independent of where it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.vietnamese.folding import match_key  # noqa: F401 - the key code lists are looked up by


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

    def codes_of(self, values: pa.Array) -> pa.Array:
        """:meth:`lookup` over a column, once per distinct value; numeric codes that lost their leading zeros in
        Excel ("1" for "01") are padded first. Null where a value is not in the list."""
        uniques = pc.unique(values).drop_null()
        widths = {len(c) for c in self.codes}
        width = widths.pop() if len(widths) == 1 and all(c.isdigit() for c in self.codes) else 0
        found = [
            self.lookup(v.zfill(width) if width and v.isdigit() and len(v) < width else v)
            for v in uniques.to_pylist()
        ]
        return pc.take(pa.array(found, pa.string()), pc.index_in(values, value_set=uniques))

    def parents_of(self, codes: pa.Array) -> pa.Array:
        """The parent code of each code (a ward's province), null for codes not in the list."""
        keys = pa.array([v.code for v in self.values], pa.string())
        parents = pa.array([v.parent for v in self.values], pa.string())
        return pc.take(parents, pc.index_in(codes, value_set=keys))

    def label(self, code: str) -> str | None:
        for v in self.values:
            if v.code == code:
                return v.label_vi
        return None
