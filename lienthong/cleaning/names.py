"""Vietnamese personal names: split into parts, undo reversed (Western) order, and a key for matching.

A Vietnamese name is family name, middle name(s), given name ("Nguyễn Văn An"). Systems built for Western
names store it as first name + last name and print it back reversed: "An Nguyễn Văn" (given, then family
and middle as the "last name") or fully reversed "An Văn Nguyễn". :func:`reversed_order` puts those back,
conservatively. Each reading of the words (as they stand, given name(s) moved to the end, fully reversed) is
scored by how Vietnamese names are built: one of the commonest family names first (``_COMMONEST``, about 90% of
people) or another family name (``data/family_names.csv``), known middle names between (``data/middle_names.csv``:
Văn, Thị, Đức, Hữu…), a known given name last (``data/given_names.csv``), never Văn or Thị last. A name changes
only when one other reading is clearly best (``_MARGIN``): "Sơn Phạm Đức" → "Phạm Đức Sơn", "Hoàng Nguyễn Văn"
→ "Nguyễn Văn Hoàng". Left alone: two-word names starting with a family name ("Quang Lê"), double family names
("Hoàng Nguyễn Minh", "Đoàn Nguyễn Minh Châu"), readings that tie ("An Bình Nguyễn": Nguyễn Bình An or Nguyễn An
Bình?), and Ê Đê and other Tây Nguyên names that start with "Y" or "H'" and put the family name last by custom
("H'Hen Niê").
Without diacritics a word counts as a family or middle name when its unaccented form matches one.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable
from functools import cache
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lienthong.cleaning.base import IssueType, RuleResult, Severity
from lienthong.cleaning.text import map_distinct, map_words
from lienthong.vietnamese.folding import fold

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType("name_reversed", Severity.CHANGED,
                  "Họ tên bị ghi ngược thứ tự (tên trước, họ sau) đã được sắp lại thành Họ – Tên đệm – Tên. "
                  "Hãy kiểm tra lại nếu thấy chưa đúng.",
                  "Name in reversed (given-name-first) order re-ordered to family, middle, given."),
        IssueType("name_no_letters", Severity.REJECTED,
                  "Ô tên không có chữ cái nào nên không phải là tên người. Hãy ghi đúng họ và tên rồi gửi lại.",
                  "Name without a single letter; not a person's name, value withheld."),
        IssueType("name_markup", Severity.REJECTED,
                  "Ô tên chứa ký tự của mã lệnh, công thức hoặc dữ liệu (<, >, {, }, [, ], =, ;, |, \\, \", --) "
                  "nên không phải là tên người. Hãy ghi đúng họ và tên rồi gửi lại.",
                  "Name holding markup, a formula or code (<, >, {, }, [, ], =, ;, |, \\, \", --); "
                  "not a person's name, value withheld."),
    )
}
# What no person's name holds but HTML, JSON, SQL and spreadsheet formulas do. Apostrophes (H'Hen Niê), hyphens,
# dots (Ng. V. An) and brackets (a nickname) are left alone: names carry them.
_MARKUP = r'[<>{}\[\]=;|\\"`]|--'
_LETTER = r"\pL"

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
    return frozenset(names), frozenset(fold(n) for n in names)


def family_names() -> frozenset[str]:
    """The common family names, lowercase (from ``data/family_names.csv``)."""
    return _words("family_names.csv")[0]


def _is(word: str, filename: str) -> bool:
    exact, folded = _words(filename)
    low = unicodedata.normalize("NFC", word).lower()
    return low in exact if not low.isascii() else fold(low) in folded


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
    first). Done on the split words' offsets with numpy: list kernels with per-row positions are much slower.
    """
    full = _clean_spaces(full)
    words = pc.split_pattern(full, " ")
    offsets = words.offsets.to_numpy()
    starts, ends = offsets[:-1], offsets[1:]
    count = np.where(words.is_valid().to_numpy(zero_copy_only=False), ends - starts, 0)
    flat = words.values
    family = flat.take(pa.array(starts, mask=count < 2))
    given = flat.take(pa.array(np.maximum(ends - 1, 0), mask=count < 1))
    # The middle words: each list without its first and last word, joined again.
    inner = np.maximum(count - 2, 0)
    keep = np.ones(len(flat), dtype=bool)
    keep[starts[count >= 1]] = False
    keep[ends[count >= 2] - 1] = False
    middle_words = pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(inner)]), pa.int32()),
                                            flat.filter(pa.array(keep)))
    middle = pc.if_else(pc.greater(pa.array(inner), 0), pc.binary_join(middle_words, " "), _NULL)
    return pa.StructArray.from_arrays([family, middle, given], names=["family", "middle", "given"])


def _reordered(name: str) -> str:
    """``name`` in Vietnamese order if it is clearly reversed, else unchanged (see the module docstring)."""
    words = name.split(" ")
    n = len(words)
    first = words[0]
    if n < 2 or n > 4 or first == "Y" or any("'" in w for w in words) or _is(first, "family_names.csv") and n == 2:
        return name
    as_is = _order_score(words)
    # Given name(s) moved to the end ("An Nguyễn Văn", "Bình An Nguyễn Văn"), or the whole name reversed.
    candidates = {" ".join(words[k:] + words[:k]): _order_score(words[k:] + words[:k]) for k in range(1, min(3, n))}
    candidates.setdefault(" ".join(reversed(words)), _order_score(list(reversed(words))))
    best = max(candidates.values())
    winners = [c for c, score in candidates.items() if score == best]
    # Clearly better, and one clear winner: "An Bình Nguyễn" could be Nguyễn Bình An or Nguyễn An Bình.
    return winners[0] if len(winners) == 1 and best - as_is >= _MARGIN else name


_MARGIN = 3  # "Hoàng Nguyễn Minh" (double family name) vs "Nguyễn Minh Hoàng" scores 2: left alone
_FILLERS = frozenset({"văn", "thị"})  # middle names only, never a given or family name (Vân, Thi are given names)


def _is_filler(word: str) -> bool:
    low = unicodedata.normalize("NFC", word).lower()
    return low in _FILLERS if not low.isascii() else low in ("van", "thi")


def _order_score(words: list[str]) -> float:
    """How well ``words`` read as family, middle(s), given: common family name first, known middle names between,
    a known given name last. Vietnamese naming is concentrated enough that these few lists decide most cases."""
    family, *middle, given = words
    if _is_filler(given):
        return float("-inf")
    score = 3 if fold(family) in _COMMONEST else 1 if _is(family, "family_names.csv") else 0
    if _is_filler(family):
        score -= 3
    score += sum(2 for w in middle if _is(w, "middle_names.csv"))
    if _is(given, "given_names.csv"):
        score += 2
    elif fold(given) in _COMMONEST:
        score -= 3
    elif _is(given, "middle_names.csv"):
        score += 1
    return score


def reversed_order(full: pa.Array) -> RuleResult:
    """Re-order names written given-name-first; the changed rows get ``name_reversed`` (CHANGED).

    Only names that could be reversed are looked at in Python (once per distinct value): those whose first word
    is not a family name; those starting with a rarer family name (Sơn, Mai, Lâm… are given names too) that
    have one of the commonest family names later ("Sơn Phạm Đức"); those ending in Văn/Thị, which no given name
    is ("Hoàng Nguyễn Văn"); and those starting and ending with one of the commonest. A name in usual order ("Nguyễn Thị
    Hồng") is never looked at, so the Python path stays a few percent of the rows. Whitespace is normalised;
    the caller keeps the original.
    """
    full = _clean_spaces(full)
    words = pc.split_pattern(full, " ")
    flat = pc.dictionary_encode(pc.list_flatten(words))
    vocabulary = flat.dictionary.to_pylist()

    def per_word(test: Callable[[str], bool]) -> np.ndarray:
        return np.array([test(w) for w in vocabulary], dtype=bool)[flat.indices.to_numpy(zero_copy_only=False)]

    commonest = per_word(lambda w: fold(w) in _COMMONEST)
    family = per_word(lambda w: _is(w, "family_names.csv"))
    filler = per_word(_is_filler)
    offsets = words.offsets.to_numpy()
    counts = np.where(words.is_valid().to_numpy(zero_copy_only=False), offsets[1:] - offsets[:-1], 0)
    rows = np.flatnonzero(counts >= 2)
    first, last = offsets[:-1][rows], offsets[1:][rows] - 1
    later_commonest = np.zeros(len(full), dtype=bool)
    parents = pc.list_parent_indices(words).to_numpy()
    is_first = np.zeros(len(parents), dtype=bool)
    is_first[first] = True
    later_commonest[parents[commonest & ~is_first]] = True
    mask = np.zeros(len(full), dtype=bool)
    mask[rows] = (~family[first] | filler[last]
                  | (family[first] & ~commonest[first] & later_commonest[rows])
                  | (commonest[first] & commonest[last]))
    candidate = pa.array(mask)
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
    return map_words(_clean_spaces(arr), fold)  # per distinct word: a few thousand, not a million


def not_a_name(full: pa.Array) -> pa.Array:
    """Per row, ``name_no_letters`` or ``name_markup`` (both REJECTED) for values that cannot be a person's
    name: no letter at all ("123", "---") or the characters of markup and code (``<script>``, ``{"a": 1}``,
    ``'; DROP TABLE …;--``, ``=HYPERLINK(…)``); null for everything else and for nulls."""
    if isinstance(full, pa.ChunkedArray):
        full = full.combine_chunks()
    no_letters = pc.invert(pc.match_substring_regex(full, _LETTER))
    markup = pc.match_substring_regex(full, _MARKUP)
    return pc.if_else(pc.fill_null(no_letters, False), pa.scalar("name_no_letters"),
                      pc.if_else(pc.fill_null(markup, False), pa.scalar("name_markup"), _NULL))
