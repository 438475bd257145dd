"""Text encodings of member organisations' files: detect, decode, and (for tests and demo data) encode cp1258.

Files reach the hub as UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text") or Windows-1258, the
legacy Vietnamese code page. cp1258 writes most tone marks as *combining* characters after the vowel, so text
decoded from it is NFC-normalised: otherwise "Hoà" typed in Windows and "Hoà" typed on a phone never match.

Detection never guesses silently: if the bytes are not UTF-8 and do not look like Vietnamese in cp1258 or
UTF-16, it raises :class:`~lienthong.errors.MalformedInput` and asks for the encoding in the source file.
Legacy font encodings (TCVN3/ABC, VNI) decode "successfully" as cp1258 but produce letters Vietnamese does not
use (``Hoµng V¨n``); the plausibility check below catches them, and such a file is read as the Western text it
is (cp1252) when the syllable model reads it as TCVN3 or VNI; the clean stage then converts it per column.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from typing import NoReturn

import charset_normalizer

from lienthong.errors import MalformedInput

# Tone marks, which cp1258 keeps as combining characters; the other diacritics (circumflex, breve, horn) have
# precomposed letters (â, ă, ơ ...) in the code page.
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_VOWELS = "aăâeêioôơuưy"
_VIETNAMESE_LETTERS = frozenset(
    unicodedata.normalize("NFC", base + tone)
    for vowel in _VOWELS
    for base in (vowel, vowel.upper())
    for tone in ("", *_TONE_MARKS)
) | frozenset("đĐ")
# Characters decoded from cp1258 that real Vietnamese text may contain besides its letters and ASCII.
_FOREIGN_TOLERANCE = 0.1
_CLUSTER = re.compile(r".[\u0300-\u036f]*", re.DOTALL)
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
    import pyarrow as pa  # the syllable model of the clean stage decides; imported only for such files

    from lienthong.vietnamese.encoding_detection import detect_column_encoding

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


def encode_cp1258(text: str) -> bytes:
    """Encode Vietnamese text the way Windows-1258 stores it: precomposed letter when the code page has one,
    otherwise the base letter followed by a combining tone mark (``ễ`` → ``ê`` + U+0303).

    Python's ``cp1258`` codec only maps characters one to one, so ``"Nguyễn".encode("cp1258")`` fails; tests
    and demo data use this to produce realistic legacy files.

    Raises:
        UnicodeEncodeError: a character that cp1258 cannot represent even decomposed.
    """
    parts: list[str] = []
    for match in _CLUSTER.finditer(unicodedata.normalize("NFD", text)):
        cluster = unicodedata.normalize("NFC", match.group())
        try:
            cluster.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", cluster)
            marks = "".join(ch for ch in decomposed[1:] if ch in _TONE_MARKS)
            rest = "".join(ch for ch in decomposed[1:] if ch not in _TONE_MARKS)
            cluster = unicodedata.normalize("NFC", decomposed[0] + rest) + marks
        parts.append(cluster)
    return "".join(parts).encode("cp1258")


def _non_vietnamese_letters(text: str) -> str:
    """The non-ASCII letters, marks and symbols Vietnamese does not use, if they are more than a few.

    Currency signs (₫, €) and punctuation are fine; ``µ ¨ û`` (TCVN3 read as cp1258) or a tone mark left over
    after NFC (it followed no vowel) are not.
    """
    non_ascii = [ch for ch in text if ord(ch) > 127]
    categories = {ch: unicodedata.category(ch) for ch in set(non_ascii)}
    foreign = [
        ch for ch in non_ascii
        if ch not in _VIETNAMESE_LETTERS and categories[ch] != "Sc" and categories[ch][0] in "LMS"
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
