"""Which encoding a column of Vietnamese text is in: Unicode, TCVN3, VNI, VIQR, plain ASCII or garbled.

Judged per column, never per cell: a single cell like "hòa" reads as valid Vietnamese in Unicode *and* in TCVN3
("hũa"), and only the column says which it is. The connectors ask it to tell a file typed in a legacy font from
one that is not Vietnamese at all; the clean stage (``lienthong.cleaning.text``) asks it before converting.
Moved here from ``lienthong.cleaning.text`` (issue 13) so that the connectors need not import the clean rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lienthong.vietnamese import legacy_encodings as le
from lienthong.vietnamese.syllables import TONES, VOWELS, parse_syllable

Encoding = Literal["unicode", "tcvn3", "vni", "viqr", "ascii", "unknown"]

VIQR_CANDIDATE = r"[aeiouyAEIOUY][\^(+*]?['`?~.]|[aeoAEO]\^|[aA]\(|[ouOU][+*]|dd|DD"
_VIQR_SURE = re.compile(r"[\^(+*`~]|dd|DD|Dd")  # marks that are not also ordinary punctuation
NON_ASCII = r"[^\x00-\x7f]"


def as_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A plain (not chunked, dictionary or large) string array of ``arr``."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return arr


@dataclass(frozen=True)
class Evidence:
    """How a column's non-ASCII words read in each encoding (shares of valid Vietnamese syllables)."""

    words: int  # non-ASCII words looked at (or VIQR-marked words for an ASCII column)
    unicode: float
    legacy: dict[str, tuple[int, float, float]]  # enc -> (words it could read, valid share, unicode share)
    garbled: float  # share of words with characters Vietnamese does not use and no valid reading
    verdict: Encoding


VIETNAMESE_LETTERS = frozenset(
    unicodedata.normalize("NFC", v + t) for v in VOWELS + VOWELS.upper() for t in ("", *le.TONE_MARKS)
) | frozenset("đĐ")
_EDGE = "\"'()[]{}.,;:!?/-–“”‘’«»*&%#0123456789"
_SAMPLE_ROWS = 100_000
_SAMPLE_VALUES = 5_000


def word_valid(word: str, *, check_case: bool) -> bool:
    word = word.strip(_EDGE)
    parts = [p for p in re.split(r"[-–/]", word) if p]
    if not parts:
        return False
    for part in parts:
        if check_case and not (part.islower() or part.isupper() or (part[0].isupper() and part[1:].islower())):
            return False
        if not _well_placed(part):
            return False
    return True


def _well_placed(word: str) -> bool:
    """A syllable with its tone on the vowel one of the two conventions puts it on: a misread legacy letter
    often yields a structurally possible syllable with the mark in the wrong place ("Leõ", "Theỏ")."""
    syllable = parse_syllable(word)
    if syllable is None:
        return False
    if not syllable.tone:
        return True
    word = unicodedata.normalize("NFC", word.lower())
    at = next(i for i, ch in enumerate(word) if TONES & set(unicodedata.normalize("NFD", ch)))
    return at in (syllable.tone_index("old"), syllable.tone_index("new"))


@lru_cache(maxsize=1 << 16)
def word_readings(word: str) -> tuple[bool, bool | None, bool | None, bool]:
    """(valid as Unicode, valid as TCVN3 or None if impossible, same for VNI, garbled) of one raw word."""
    nfc = unicodedata.normalize("NFC", word)
    uni = word_valid(nfc, check_case=True)
    readable = le.legacy_decodable(word)
    tcvn3 = word_valid(le.decode_tcvn3(word), check_case=False) if readable else None
    vni = word_valid(le.decode_vni(word), check_case=False) if readable else None
    # Mojibake is made of Latin-1/cp1252 symbols and stray marks; Chinese or Khmer letters are not garbled.
    garbled = not uni and any(
        ord(ch) > 127 and ch not in VIETNAMESE_LETTERS and unicodedata.category(ch)[0] in "LMSC"
        and (ch in le.LEGACY_DOMAIN or unicodedata.category(ch) == "Mn") for ch in nfc)
    return uni, tcvn3, vni, garbled


def _sample(arr: pa.Array, pattern: str) -> list[str]:
    if len(arr) > _SAMPLE_ROWS:
        arr = arr.take(pa.array(np.arange(0, len(arr), len(arr) // _SAMPLE_ROWS + 1)))
    arr = arr.filter(pc.fill_null(pc.match_substring_regex(arr, pattern), False))
    values = pc.unique(arr).drop_null()
    if len(values) > _SAMPLE_VALUES:
        values = values.take(pa.array(np.arange(0, len(values), len(values) // _SAMPLE_VALUES + 1)))
    return values.to_pylist()


def column_evidence(arr: pa.Array) -> Evidence:
    """Score a column's readings; ``verdict`` is what :func:`detect_column_encoding` returns."""
    arr = as_text(arr)
    words = [w for v in _sample(arr, NON_ASCII) for w in v.split() if not w.isascii()]
    if not words:
        return _viqr_evidence(arr)
    readings = [word_readings(w) for w in words]
    unicode = sum(r[0] for r in readings) / len(readings)
    garbled = sum(r[3] for r in readings) / len(readings)
    legacy: dict[str, tuple[int, float, float]] = {}
    for name, at in (("tcvn3", 1), ("vni", 2)):
        eligible = [r for r in readings if r[at] is not None]
        if eligible:
            legacy[name] = (len(eligible), sum(bool(r[at]) for r in eligible) / len(eligible),
                            sum(r[0] for r in eligible) / len(eligible))
    # A legacy reading wins only when it is clearly Vietnamese *and* clearly better than the text as it is.
    scored = [(n * (valid - uni), name) for name, (n, valid, uni) in legacy.items() if valid >= 0.8
              and valid - uni >= 0.3]
    verdict: Encoding
    scored.sort(reverse=True)
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):  # TCVN3 and VNI equally good: no guess
        verdict = scored[0][1]  # type: ignore[assignment]
    elif unicode < 0.8 and garbled >= 0.2:
        verdict = "unknown"
    else:
        verdict = "unicode"
    return Evidence(len(words), unicode, legacy, garbled, verdict)


def _viqr_evidence(arr: pa.Array) -> Evidence:
    marked = [w for v in _sample(arr, VIQR_CANDIDATE) for w in v.split() if re.search(VIQR_CANDIDATE, w)]
    valid = [w for w in marked if word_valid(le.decode_viqr(w), check_case=True)]
    share = len(valid) / len(marked) if marked else 0.0
    sure = any(_VIQR_SURE.search(w) and len(le.decode_viqr(w).strip(_EDGE)) >= 2 for w in valid)
    verdict: Encoding = "viqr" if sure and share >= 0.8 else "ascii"
    return Evidence(len(marked), 1.0, {"viqr": (len(marked), share, 0.0)}, 0.0, verdict)


def detect_column_encoding(arr: pa.Array) -> Encoding:
    """The encoding a text column is in, from all of it (or a large sample of its distinct values).

    Each non-ASCII word is read as Unicode, TCVN3 and VNI and checked against the Vietnamese syllable model.
    A legacy encoding is chosen only if its reading is valid for at least 80% of the words it can read *and*
    at least 30 points better than the text as it stands, so correct Unicode ("hòa", valid both ways) is
    never converted. A column with no non-ASCII word is "viqr" if its marked words decode to syllables (and
    some mark is unambiguous, not just an apostrophe or full stop), else "ascii". "unknown" means garbled
    (characters Vietnamese does not use) with no clean reading.
    """
    return column_evidence(arr).verdict
