"""Vietnamese personal names: split into parts, undo reversed (Western) order, and a key for matching.

A Vietnamese name is family name, middle name(s), given name ("Nguyễn Văn An"). Systems built for Western
names store it as first name + last name and print it back reversed: "An Nguyễn Văn" (given, then family
and middle as the "last name") or fully reversed "An Văn Nguyễn". :func:`reversed_order` puts those back,
conservatively: it changes a name only when

* the first word is *not* one of the ~100 most common family names (``data/family_names.csv``), and
* a family name follows, with a common middle name (``data/middle_names.csv``: Văn, Thị, Đức, Hữu…) right
  after it ("An Nguyễn Văn", "Lan Tran Thi"), or the name ends with middle name + family name
  ("An Văn Nguyễn"); two-word names need only a family name second ("Lan Trần").

So "Nguyễn Văn Lê" is never touched (it starts with a family name: Lê is also a given name), nor is
"Hoàng Nguyễn Văn" (Hoàng, Quang, Mai… are given names *and* family names: ambiguous, left alone), nor Ê Đê
and other Tây Nguyên names that start with "Y" or "H'" and put the family name last by custom ("H'Hen Niê").
Without diacritics a word counts as a family or middle name when its unaccented form matches one.
"""

from __future__ import annotations

import csv
import unicodedata
from functools import cache
from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc

from lienthong.cleaning.base import IssueType, RuleResult, Severity
from lienthong.cleaning.text import map_distinct, map_words

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType("name_reversed", Severity.CHANGED,
                  "Họ tên bị ghi ngược thứ tự (tên trước, họ sau) đã được sắp lại thành Họ – Tên đệm – Tên. "
                  "Hãy kiểm tra lại nếu thấy chưa đúng.",
                  "Name in reversed (given-name-first) order re-ordered to family, middle, given."),
    )
}

_NULL = pa.scalar(None, pa.string())
# The family names of about 90% of the population (VIETNAMESE_DATA.md), unaccented: strong evidence of order.
_COMMONEST = frozenset({"nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do",
                        "ho", "ngo", "duong", "ly"})
_SPACES = r"[\s\x{00a0}\x{2007}\x{202f}\x{3000}]+"
_ODD = r"[\t\n\r\f\v\x{00a0}\x{2007}\x{202f}\x{3000}]"


@cache
def _words(filename: str) -> tuple[frozenset[str], frozenset[str]]:
    """(lowercase names, their unaccented keys) from a CSV in ``data/``."""
    with resources.files("lienthong.cleaning").joinpath("data", filename).open(encoding="utf-8") as f:
        names = {unicodedata.normalize("NFC", row["name"]).lower() for row in csv.DictReader(f)}
    return frozenset(names), frozenset(_fold(n) for n in names)


def family_names() -> frozenset[str]:
    """The common family names, lowercase (from ``data/family_names.csv``)."""
    return _words("family_names.csv")[0]


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d").replace("ð", "d")


def _is(word: str, filename: str) -> bool:
    exact, folded = _words(filename)
    low = unicodedata.normalize("NFC", word).lower()
    return low in exact if not low.isascii() else _fold(low) in folded


def _clean_spaces(arr: pa.Array) -> pa.Array:
    """Single spaces, trimmed, "" -> null (a regex test first: rewriting is ten times dearer than testing)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    mask = pc.fill_null(pc.match_substring_regex(arr, f"  |^ | $|{_ODD}"), False)
    if pc.any(mask).as_py():
        fixed = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr.filter(mask), _SPACES, " "))
        arr = pc.replace_with_mask(arr, mask, fixed)
    return pc.if_else(pc.equal(arr, ""), _NULL, arr)


def split_names(full: pa.Array) -> pa.StructArray:
    """``family`` (first word), ``middle`` (the words between, null if none), ``given`` (last word).

    A one-word name is a given name only. Expects the name in Vietnamese order (run :func:`reversed_order`
    first).
    """
    full = _clean_spaces(full)
    head = pc.split_pattern(full, " ", max_splits=1)  # [family, "middle given"] (splitting beats a regex 8x)
    rest = _element(head, 1)
    family = pc.if_else(pc.is_valid(rest), _element(head, 0), _NULL)
    tail = pc.split_pattern(rest, " ", max_splits=1, reverse=True)  # ["middle", given] or [given]
    two = pc.equal(pc.list_value_length(tail), 2)
    middle = pc.if_else(two, _element(tail, 0), _NULL)
    given = pc.coalesce(pc.if_else(two, _element(tail, 1), _element(tail, 0)), full)
    return pa.StructArray.from_arrays([family, middle, given], names=["family", "middle", "given"])


def _reordered(name: str) -> str:
    """``name`` in Vietnamese order if it is clearly reversed, else unchanged (see the module docstring)."""
    words = name.split(" ")
    n = len(words)
    first = words[0]
    if n < 2 or _is(first, "family_names.csv") or first == "Y" or "'" in first:
        return name
    family = [_is(w, "family_names.csv") for w in words]
    middle = [_is(w, "middle_names.csv") for w in words]
    if _is(first, "middle_names.csv"):
        # Anh, Minh, Thanh… are middle *and* given names: move one only before a very common family name
        # followed by a middle name ("Anh Nguyễn Phương" -> "Nguyễn Phương Anh").
        if n >= 3 and _fold(words[1]) in _COMMONEST and middle[2]:
            return " ".join([*words[1:], first])
        return name
    if n == 2:
        return f"{words[1]} {first}" if family[1] else name
    # Given name(s) first, then family + middle: "An Nguyễn Văn", "Bình An Nguyễn Văn".
    k = next((i for i in range(1, min(3, n - 1)) if family[i]), None)
    given_first = k is not None and middle[k + 1] and not any(family[:k])
    # Fully reversed: "An Văn Nguyễn".
    fully = family[-1] and middle[-2] and not family[-2] and not any(family[:-1])
    if given_first and not fully:
        return " ".join(words[k:] + words[:k])  # type: ignore[index]
    if fully and not given_first:
        return " ".join(reversed(words))
    return name


def reversed_order(full: pa.Array) -> RuleResult:
    """Re-order names written given-name-first; the changed rows get ``name_reversed`` (CHANGED).

    Only names whose first word is not a common family name are looked at in Python (once per distinct
    value); for usual data that is a few percent of the rows. Whitespace is normalised; the caller keeps the
    original value.
    """
    full = _clean_spaces(full)
    head = pc.split_pattern(full, " ", max_splits=1)
    first = pc.dictionary_encode(pc.if_else(pc.equal(pc.list_value_length(head), 2), _element(head, 0), _NULL))
    unknown = pa.array([not _is(w, "family_names.csv") for w in first.dictionary.to_pylist()], pa.bool_())
    candidate = pc.fill_null(unknown.take(first.indices), False)
    if not pc.any(candidate).as_py():
        return RuleResult(full, pa.nulls(len(full), pa.string()))
    values = pc.replace_with_mask(full, candidate, map_distinct(full.filter(candidate), _reordered))
    changed = pc.fill_null(pc.not_equal(values, full), False)
    return RuleResult(values, pc.if_else(changed, pa.scalar("name_reversed"), _NULL))


def _element(lists: pa.Array, i: int) -> pa.Array:
    """Element ``i`` of each list, null where the list is shorter or null."""
    long_enough = pc.fill_null(pc.greater(pc.list_value_length(lists), i), False)
    safe = pc.if_else(long_enough, lists, pa.scalar(None, lists.type))
    return pc.list_element(safe, i)


def name_match_key(arr: pa.Array) -> pa.Array:
    """The key names are matched on: lowercase, no diacritics (so tone placement cannot matter), đ -> d,
    single spaces, no surrounding space; null for empty. "NGUYỄN  Thị Hoà" and "Nguyen Thi Hòa" share
    ``nguyen thi hoa``."""
    return map_words(_clean_spaces(arr), _fold)  # per distinct word: a few thousand, not a million
