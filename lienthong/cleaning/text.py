"""Vietnamese text rules over columns: legacy encodings (TCVN3, VNI, VIQR), Unicode normalisation, tone placement
and case. What they know of Vietnamese (letters, syllables, tone placement, the encodings) is in
:mod:`lienthong.vietnamese`; this module applies it to Arrow columns and reports what it changed.

Order of use on a column: :func:`fix_column_encoding` first (it needs the raw characters: TCVN3 "ư" is the
invisible soft hyphen U+00AD), then :func:`normalize_text`, then :func:`normalize_tone_placement` and, for
names and places, :func:`fix_case`.

Tone placement — the hub writes the **old style** (``hòa``, ``thủy``, ``khỏe``) in cleaned values. Both styles
are correct Vietnamese and differ only in the open rhymes oa, oe, uy; the old style is what most existing
records, legal documents and the default setting of the common keyboards (Unikey, Vietkey) produce, so it
changes the fewest stored values and matches what clerks type when they search. The school style of
Decision 1989/QĐ-BGDĐT (``hoà``) stays available as ``style="new"``. Match keys drop tone marks altogether,
so they are placement-insensitive either way.

Encoding detection is per column (see :func:`detect_column_encoding`), never per cell: a single cell like
"hòa" reads as valid Vietnamese in Unicode *and* in TCVN3 ("hũa"), and only the column says which it is.
Per-row Python runs only over distinct values or distinct syllables; everything else is Arrow compute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lienthong.cleaning.base import IssueType, RuleResult, Severity, merge_issues
from lienthong.vietnamese import legacy_encodings as le
from lienthong.vietnamese.encoding_detection import NON_ASCII as _NON_ASCII
from lienthong.vietnamese.encoding_detection import VIQR_CANDIDATE as _VIQR_CANDIDATE
from lienthong.vietnamese.encoding_detection import Encoding, column_evidence, detect_column_encoding
from lienthong.vietnamese.encoding_detection import as_text as _as_text
from lienthong.vietnamese.encoding_detection import word_readings as _readings
from lienthong.vietnamese.encoding_detection import word_valid as _word_valid
from lienthong.vietnamese.letters import TONED_VOWELS, VIETNAMESE_LETTERS, VOWELS
from lienthong.vietnamese.syllables import is_syllable, place_tone

Legacy = Literal["tcvn3", "vni", "viqr"]

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType("legacy_encoding_tcvn3", Severity.CHANGED,
                  "Chữ gõ bằng bảng mã TCVN3 (ABC, phông .Vn…) đã được chuyển sang Unicode. Lần sau hãy lưu "
                  "tệp bằng Unicode.", "Text in the TCVN3 (ABC) legacy encoding converted to Unicode."),
        IssueType("legacy_encoding_vni", Severity.CHANGED,
                  "Chữ gõ bằng bảng mã VNI (phông VNI-…) đã được chuyển sang Unicode. Lần sau hãy lưu tệp "
                  "bằng Unicode.", "Text in the VNI-Windows legacy encoding converted to Unicode."),
        IssueType("legacy_encoding_viqr", Severity.CHANGED,
                  "Chữ viết kiểu VIQR (ví dụ Nguye^~n) đã được chuyển sang chữ có dấu Unicode.",
                  "VIQR (ASCII with marks) text converted to Unicode."),
        IssueType("encoding_undetermined", Severity.REJECTED,
                  "Chữ bị lỗi phông và không đọc được bằng bảng mã nào đã biết (Unicode, TCVN3, VNI, VIQR). "
                  "Hãy mở tệp gốc, chuyển sang Unicode (ví dụ bằng Unikey) và gửi lại.",
                  "Garbled text that no known Vietnamese encoding reads cleanly; value withheld."),
        IssueType("text_decomposed_unicode", Severity.CHANGED,
                  "Dấu tiếng Việt ở dạng tổ hợp (NFD) đã được chuẩn hoá về dạng dựng sẵn (NFC).",
                  "Decomposed (NFD) Unicode composed to NFC."),
        IssueType("text_invisible_characters", Severity.CHANGED,
                  "Đã xoá ký tự ẩn (khoảng trắng độ rộng 0, BOM, ký tự điều khiển).",
                  "Invisible characters (zero-width, BOM, control) removed."),
    )
}

_NULL = pa.scalar(None, pa.string())
_SPACE = r"[ \t\n\r\f\v\x{00a0}\x{2007}\x{202f}\x{3000}]"
_ODD_SPACE = r"[\t\n\r\f\v\x{00a0}\x{2007}\x{202f}\x{3000}]"
_INVISIBLE = r"[\x{200b}-\x{200d}\x{2060}\x{feff}\x00-\x08\x0e-\x1f\x7f]"

# ---------------------------------------------------------------------------------------------------------
# Vectorised helpers.
# ---------------------------------------------------------------------------------------------------------

def _where(arr: pa.Array, pattern: str, fn: Callable[[pa.Array], pa.Array]) -> tuple[pa.Array, pa.Array]:
    """Apply ``fn`` to the values matching ``pattern`` only; (result, mask of the values ``fn`` saw)."""
    mask = pc.fill_null(pc.match_substring_regex(arr, pattern=pattern), False)
    if not pc.any(mask).as_py():
        return arr, mask
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask))), mask


def map_distinct(arr: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    """``fn`` applied once per distinct non-null value of a string array (the Python escape hatch)."""
    encoded = pc.dictionary_encode(arr)
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return mapped.take(encoded.indices)


def map_words(arr: pa.Array, fn: Callable[[str], str], pattern: str | None = None) -> pa.Array:
    """``fn`` applied once per distinct space-separated word, on the values matching ``pattern`` (all if None).

    Vietnamese has a few thousand distinct syllables, so this stays fast however many distinct values
    (full names, addresses) the column has: split, hash the words, map the dictionary, join back.
    """
    if pattern is not None:
        return _where(arr, pattern, lambda sub: map_words(sub, fn))[0]
    words = pc.split_pattern(arr, " ")
    flat = pc.list_flatten(words)
    encoded = pc.dictionary_encode(flat)
    before = encoded.dictionary.to_pylist()
    after = [fn(w) for w in before]
    changed = pa.array([a != b for a, b in zip(after, before, strict=True)], pa.bool_())
    if not pc.any(changed).as_py():
        return arr
    rows = pc.unique(pc.filter(pc.list_parent_indices(words), pc.take(changed, encoded.indices)))
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows.to_numpy()] = True
    mask = pa.array(mask)
    new_flat = pa.array(after, pa.string()).take(encoded.indices)
    rebuilt = pa.ListArray.from_arrays(words.offsets, new_flat)
    joined = pc.binary_join(rebuilt, " ")
    return pc.replace_with_mask(arr, mask, joined.filter(mask))


def _changed(before: pa.Array, after: pa.Array) -> pa.Array:
    return pc.fill_null(pc.not_equal(before, after), False)


def _issues(mask: pa.Array, code: str) -> pa.Array:
    return pc.if_else(mask, pa.scalar(code, pa.string()), _NULL)


# ---------------------------------------------------------------------------------------------------------
# Normalisation, tone placement, case.
# ---------------------------------------------------------------------------------------------------------
def normalize_text(arr: pa.Array) -> RuleResult:
    """NFC, invisible characters removed, whitespace (incl. no-break spaces) collapsed and trimmed, "" -> null.

    Issues: ``text_decomposed_unicode`` when the value was decomposed (Mac, some phones), and
    ``text_invisible_characters``; re-spacing alone is not reported.
    """
    arr = _as_text(arr)
    # One scan finds the values any step would touch (most columns have none); the steps run on those only.
    untidy = pc.fill_null(pc.match_substring_regex(arr, _UNTIDY), False)
    if not pc.any(untidy).as_py():
        return RuleResult(pc.if_else(pc.equal(arr, ""), _NULL, arr), pa.nulls(len(arr), pa.string()))
    sub, issues = _tidy(arr.filter(untidy))
    arr = pc.replace_with_mask(arr, untidy, sub)
    arr = pc.if_else(pc.equal(arr, ""), _NULL, arr)
    return RuleResult(arr, pc.replace_with_mask(pa.nulls(len(arr), pa.string()), untidy, issues))


_UNTIDY = f"[\u0300-\u036f]|{_INVISIBLE}|{_SPACE}{_SPACE}|{_ODD_SPACE}|^{_SPACE}|{_SPACE}$"


def _tidy(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The steps of :func:`normalize_text` on values needing at least one: (values, issues)."""
    arr, nfd = _where(arr, "[\u0300-\u036f]", lambda a: pc.utf8_normalize(a, form="NFC"))
    arr, invisible = _where(arr, _INVISIBLE, lambda a: pc.replace_substring_regex(a, _INVISIBLE, ""))
    arr, _ = _where(arr, f"{_SPACE}{_SPACE}|{_ODD_SPACE}|^{_SPACE}|{_SPACE}$", lambda a: pc.utf8_trim_whitespace(
        pc.replace_substring_regex(a, pattern=f"{_SPACE}+", replacement=" ")))
    return arr, merge_issues(_issues(nfd, "text_decomposed_unicode"), _issues(invisible, "text_invisible_characters"))


# A tone-marked vowel next to another vowel: the only values whose tone may be misplaced.
_VOWEL_CLASS = VOWELS + VOWELS.upper() + TONED_VOWELS
_TONE_NEIGHBOUR = f"[{TONED_VOWELS}][{_VOWEL_CLASS}]|[{_VOWEL_CLASS}][{TONED_VOWELS}]"
_LETTERS = re.compile(r"[^\W\d_]+")


def normalize_tone_placement(arr: pa.Array, style: Literal["old", "new"] = "old") -> pa.Array:
    """Each syllable's tone mark on the vowel ``style`` wants: ``"old"`` hòa/thủy/khỏe (the hub's choice, see
    the module docstring), ``"new"`` hoà/thuỷ/khoẻ. Also fixes misplaced marks ("qủa" -> "quả", "gía" ->
    "giá"). Words that are not Vietnamese syllables are left as they are. Expects NFC text."""
    arr = _as_text(arr)

    def word(w: str) -> str:
        return _LETTERS.sub(lambda m: place_tone(m.group(), style), w)

    return map_words(arr, word, _TONE_NEIGHBOUR)


_ROMAN = re.compile(r"^(?:I{2,3}|IV|VI{1,3}|IX|XI{1,3}|XI?V|XVI{1,3}|XI?X)$", re.IGNORECASE)


def fix_case(arr: pa.Array) -> pa.Array:
    """Names and places in title case: "NGUYỄN văn an" -> "Nguyễn Văn An", "ĐẶNG" -> "Đặng".

    The value is composed first (title-casing decomposed text would capitalise after each combining mark),
    the look-alike Ð/ð (Icelandic eth, what a Latin-1 reading of cp1258 gives) becomes Đ/đ, and Roman
    numerals ("Khu phố III") stay in capitals.
    """
    arr = _as_text(arr)
    arr, _ = _where(arr, "[\u0300-\u036f]", lambda a: pc.utf8_normalize(a, form="NFC"))
    arr = pc.replace_substring(pc.replace_substring(arr, "Ð", "Đ"), "ð", "đ")
    titled = pc.utf8_title(arr)
    # Roman numerals that are not also syllables ("Vi", "Xi" are given names).
    return map_words(titled, lambda w: w.upper() if _ROMAN.match(w) and not is_syllable(w) else w,
                     r"(?i)(?:^| )(?:I[IVX]|V?I{1,3}|XI*[VX]?)(?: |$)")


# ---------------------------------------------------------------------------------------------------------
# Legacy encodings: decode, detect, fix.
# ---------------------------------------------------------------------------------------------------------
_DECODERS: dict[str, Callable[[str], str]] = {
    "tcvn3": le.decode_tcvn3, "vni": le.decode_vni, "viqr": le.decode_viqr,
}


def decode_legacy(arr: pa.Array, encoding: Legacy) -> pa.Array:
    """Convert a whole column from a legacy encoding (as read in Latin-1/cp1252) to Unicode, unconditionally.

    Values that cannot be in that encoding (characters outside Latin-1/cp1252 for TCVN3/VNI) are left as they
    are; so are values without any non-ASCII character (TCVN3, VNI) or VIQR mark (VIQR).
    """
    arr = _as_text(arr)
    decode = _DECODERS[encoding]
    if encoding == "viqr":
        return map_words(arr, decode, _VIQR_CANDIDATE)
    return _where(arr, _NON_ASCII, lambda sub: map_distinct(
        sub, lambda v: decode(v) if le.legacy_decodable(v) else v))[0]


# Vietnamese letters outside what TCVN3/VNI text read as Latin-1/cp1252 can contain: only Unicode has them.
_UNICODE_ONLY = "[" + "".join(sorted(VIETNAMESE_LETTERS - le.LEGACY_DOMAIN)) + "]"


def fix_column_encoding(arr: pa.Array, encoding: Encoding | None = None) -> RuleResult:
    """Detect (unless ``encoding`` is given, e.g. from :func:`detect_table_encodings`) and convert a column.

    Legacy columns are converted value by value, except values whose own reading is better as they are (a
    Unicode value in a mixed column); changed rows get ``legacy_encoding_<enc>``. In an "unknown" column the
    garbled values become null with ``encoding_undetermined``, the others are kept.
    """
    arr = _as_text(arr)
    encoding = encoding or detect_column_encoding(arr)
    if encoding in ("unicode", "ascii"):
        return RuleResult(arr, pa.nulls(len(arr), pa.string()))
    if encoding == "unknown":
        candidate = pc.fill_null(pc.match_substring_regex(arr, _NON_ASCII), False)
        flags = map_distinct(arr.filter(candidate), lambda v: "1" if any(_readings(w)[3] for w in v.split()) else "")
        bad = pc.replace_with_mask(pa.array(np.zeros(len(arr), dtype=bool)), candidate, pc.equal(flags, "1"))
        return RuleResult(pc.if_else(bad, _NULL, arr), _issues(bad, "encoding_undetermined"))
    if encoding == "viqr":
        values = decode_legacy(arr, "viqr")
    else:
        at = 1 if encoding == "tcvn3" else 2
        decode = _DECODERS[encoding]
        # Vietnamese letters no legacy font can produce ("Phạm") show the column mixes in Unicode: then a value
        # that reads equally well both ways ("Hòa") is taken as Unicode too. Other letters ("ŭ" of Jrai names
        # such as Ayŭn, which the font cannot type either) say nothing about the rest of the value.
        mixed = pc.any(pc.match_substring_regex(arr, _UNICODE_ONLY)).as_py()

        def guarded(value: str) -> str:
            # Word by word: a word the font cannot hold ("Ayŭn") stays, the words around it are still read.
            words = value.split(" ")
            readable = [w for w in words if not w.isascii() and le.legacy_decodable(w)]
            if not readable:
                return value
            readings = [_readings(w) for w in readable]
            as_is, decoded = sum(r[0] for r in readings), sum(bool(r[at]) for r in readings)
            if as_is > decoded or (mixed and as_is == decoded):
                return value
            if le.legacy_decodable(value):
                return decode(value)  # whole: TCVN3 capitals are restored from the other words
            return " ".join(decode(w) if le.legacy_decodable(w) else w for w in words)

        values = _where(arr, _NON_ASCII, lambda sub: map_distinct(sub, guarded))[0]
    return RuleResult(values, _issues(_changed(arr, values), f"legacy_encoding_{encoding}"))


def detect_table_encodings(table: pa.Table) -> dict[str, Encoding]:
    """Each text column's encoding, with the file's evidence settling the ambiguous ones.

    A file is typed in one font: when some column is clearly TCVN3 (or VNI) and another column's words all
    read validly both as Unicode and in that encoding (short cells like "Tó", which is TCVN3 for "Tú"), that
    column is taken to be in the file's encoding too.
    """
    evidence = {name: column_evidence(table.column(name).combine_chunks()) for name in table.column_names
                if _is_text(table.schema.field(name).type)}
    found = {e.verdict for e in evidence.values()} & {"tcvn3", "vni"}
    result = {name: e.verdict for name, e in evidence.items()}
    if len(found) == 1:
        enc = found.pop()
        for name, e in evidence.items():
            n, valid, _ = e.legacy.get(enc, (0, 0.0, 0.0))
            if e.verdict == "unicode" and n == e.words and valid >= 0.8:
                result[name] = enc  # type: ignore[assignment]
    return result


def _is_text(dtype: pa.DataType) -> bool:
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype)


def syllable_share(values: Iterable[str]) -> float:
    """Share of the words of ``values`` that are Vietnamese syllables (for tests and diagnostics)."""
    words = [w for v in values for w in v.split()]
    return sum(_word_valid(w, check_case=False) for w in words) / len(words) if words else 0.0
