"""Which encoding Vietnamese text is in: a file's bytes, then each column of its text.

Bytes (:func:`detect_encoding`, asked by the readers of ``connectors``): files reach the hub as UTF-8 (with or
without BOM), UTF-16 (Excel's "Unicode text") or Windows-1258, the legacy Vietnamese code page. cp1258 writes
most tone marks as *combining* characters after the vowel, so text decoded from it is NFC-normalised: otherwise
"Hoà" typed in Windows and "Hoà" typed on a phone never match. Detection never guesses silently: if the bytes are
not UTF-8 and do not look like Vietnamese in cp1258 or UTF-16, it raises :class:`~lienthong.errors.MalformedInput`
and asks for the encoding in the source file. Legacy font encodings (TCVN3/ABC, VNI) decode "successfully" as
cp1258 but produce letters Vietnamese does not use (``Hoµng V¨n``); the plausibility check catches them, and
such a file is read as the Western text it is (cp1252) when the syllable model reads it as TCVN3 or VNI.

Columns (:func:`detect_column_encoding`, asked by the clean stage, ``lienthong.cleaning.text``, before it
converts): Unicode, TCVN3, VNI, VIQR, plain ASCII or garbled. Judged per column, never per cell: a single cell
like "hòa" reads as valid Vietnamese in Unicode *and* in TCVN3 ("hũa"), and only the column says which it is.
Moved here from ``lienthong.cleaning.text`` (issue 13) and ``connectors.encoding`` (issue 14).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NoReturn

import charset_normalizer
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lienthong.errors import MalformedInput
from lienthong.vietnamese import legacy_encodings as le
from lienthong.vietnamese.letters import TONES, VIETNAMESE_LETTERS
from lienthong.vietnamese.syllables import parse_syllable

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


# ---------------------------------------------------------------------------------------------------------
# A file's bytes.
# ---------------------------------------------------------------------------------------------------------
# Characters decoded from cp1258 that real Vietnamese text may contain besides its letters and ASCII.
_FOREIGN_TOLERANCE = 0.1
_CANDIDATES = ["cp1258", "utf_16_le", "utf_16_be"]
_NAMES = {"cp1258": "cp1258", "utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be"}
_SAMPLE = 1 << 20


def detect_encoding(data: bytes, *, origin: str = "payload") -> str:
    """Name the encoding of a text payload, or refuse.

    Order: a byte-order mark decides (``utf-8-sig``, ``utf-16``); then strict UTF-8; then charset-normalizer,
    limited to the encodings Vietnamese files actually come in (cp1258, UTF-16 without BOM), followed by a
    check that the cp1258 reading looks like Vietnamese.

    Args:
        data: the raw bytes.
        origin: where they came from, for the error message.

    Returns:
        A Python codec name: ``utf-8``, ``utf-8-sig``, ``utf-16``, ``utf-16-le``, ``utf-16-be``, ``cp1258``, or
        ``cp1252``/``latin-1`` for TCVN3/VNI text.

    Raises:
        MalformedInput: no plausible encoding; the message asks to set ``encoding`` in the source config.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = charset_normalizer.from_bytes(data[:_SAMPLE], cp_isolation=_CANDIDATES).best()
    if best is None or best.encoding not in _NAMES:
        legacy = _legacy_font_reading(data[:_SAMPLE])
        if legacy:
            return legacy
        _refuse(origin, "it is not UTF-8, neither cp1258 nor UTF-16 reads it cleanly, and it is not Vietnamese "
                        "typed in a legacy font (TCVN3, VNI)")
    encoding = _NAMES[best.encoding]
    if encoding == "cp1258":
        try:
            text = decode_text(data[:_SAMPLE], encoding, origin=origin)
        except MalformedInput:
            _refuse(origin, "it is not UTF-8 and has bytes cp1258 does not define")
        suspects = _non_vietnamese_letters(text)
        if suspects:
            legacy = _legacy_font_reading(data[:_SAMPLE])
            if legacy:
                return legacy
            _refuse(
                origin,
                f"read as cp1258 it has letters Vietnamese does not use ({suspects}), and it does not read as "
                "Vietnamese typed in a legacy font (TCVN3, VNI) either",
            )
    return encoding


def _legacy_font_reading(data: bytes) -> str | None:
    """``cp1252`` (or ``latin-1``) when the bytes are Vietnamese typed in a TCVN3 or VNI font: those fonts put
    Vietnamese letters on Western code points, so the file is read as Western text and the clean stage converts
    it column by column (lienthong.cleaning.text). None when no legacy reading makes Vietnamese of it."""
    for reading in ("cp1252", "latin-1"):
        try:
            text = data.decode(reading)
        except UnicodeDecodeError:
            continue
        cells = re.split(r"[;,\t|\r\n\"]+", text)  # judged cell by cell, as the clean stage judges columns
        if detect_column_encoding(pa.array(cells)) in ("tcvn3", "vni"):
            return reading
    return None


def decode_text(data: bytes, encoding: str, *, origin: str = "payload", compose: bool = True) -> str:
    """Decode ``data`` and, unless ``compose`` is false, NFC-normalise it (needed for cp1258).

    The CSV reader passes ``compose=False`` and normalises the parsed columns in Arrow instead, which is about
    three times faster than ``unicodedata`` on large files.

    Raises:
        MalformedInput: the bytes are not valid in ``encoding``; the message gives the byte offset.
    """
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        msg = (
            f"{origin}: byte {exc.start} ({data[exc.start:exc.start + 1]!r}) is not valid {encoding}; "
            "check the file's encoding and set `encoding` in the source config"
        )
        msg_vi = f"{origin}: byte thứ {exc.start} không hợp lệ trong bảng mã {encoding}; hãy kiểm tra lại tệp"
        raise MalformedInput(msg, message_vi=msg_vi) from exc
    except LookupError as exc:
        msg = f"{origin}: unknown encoding {encoding!r}; use a Python codec name such as utf-8 or cp1258"
        raise MalformedInput(msg, message_vi=f"{origin}: không biết bảng mã {encoding!r}") from exc
    return unicodedata.normalize("NFC", text) if compose else text


def _non_vietnamese_letters(text: str) -> str:
    """The non-ASCII letters, marks and symbols Vietnamese does not use, if they are more than a few.

    Currency signs (₫, €) and punctuation are fine; ``µ ¨ û`` (TCVN3 read as cp1258) or a tone mark left over
    after NFC (it followed no vowel) are not.
    """
    non_ascii = [ch for ch in text if ord(ch) > 127]
    categories = {ch: unicodedata.category(ch) for ch in set(non_ascii)}
    foreign = [
        ch for ch in non_ascii
        if ch not in VIETNAMESE_LETTERS and categories[ch] != "Sc" and categories[ch][0] in "LMS"
    ]
    if not foreign or len(foreign) <= _FOREIGN_TOLERANCE * len(non_ascii):
        return ""
    return " ".join(sorted(set(foreign))[:8])


def _refuse(origin: str, why: str) -> NoReturn:
    msg = (
        f"{origin}: cannot tell the text encoding: {why}. Save the file as UTF-8, or set `encoding` "
        "(e.g. cp1258) in the source config if you know it"
    )
    msg_vi = (
        f"{origin}: không xác định được bảng mã của tệp. Hãy lưu tệp dưới dạng UTF-8, hoặc ghi rõ `encoding` "
        "(ví dụ cp1258) trong cấu hình nguồn"
    )
    raise MalformedInput(msg, message_vi=msg_vi)
