"""The pre-Unicode Vietnamese encodings, as tables, and string-level converters to and from Unicode.

Old member lists come from Excel files typed with ABC (TCVN3) or VNI fonts, or from e-mail in VIQR. Read as
Latin-1/cp1252 (which is what every reader does, the fonts being "just" Latin-1 fonts with other glyphs), they
look like this:

==========  ============================  =====================================================
encoding    "Nguyễn Văn Hoà" reads as     how it works
==========  ============================  =====================================================
TCVN3/ABC   ``NguyÔn V¨n Hoµ``            one byte per letter; lowercase letters with their tone
                                          in 0xA8–0xFE, only seven capitals (Ă Â Đ Ê Ô Ơ Ư in
                                          0xA1–0xA7): other capitals were drawn by a ".VnTimeH"
                                          font over the lowercase codes, so case is partly lost
VNI-Win     ``Nguyeãn Vaên Hoaø``         base letter + one modifier byte (circumflex/breve and
                                          tone combined); ơ ư đ and the i-with-tone letters are
                                          single bytes
VIQR        ``Nguye^~n Va(n Hoa```        ASCII, marks after the letter (RFC 1456), ``dd`` = đ
==========  ============================  =====================================================

The TCVN3 table is TCVN 5712:1993 "VN3" (the ABC font set) and was checked against two independent
converters' tables; the VNI table is built from its modifier structure (also checked against a published
table of the VNI-Windows font layout: e.g. ỵ is the single byte 0xEE ``î``). TCVN3's optional "VN1" capitals
in 0x80–0x9F are not supported: the ABC fonts do not use them.

These functions work on single Python strings and are used by :mod:`lienthong.cleaning.text`, which applies
them to Arrow arrays once per distinct value, and by tests and the demo-data corruption generator. Windows-1258,
the legacy code page Python does have, is read by the codec (:mod:`.encoding_detection` tells when);
:func:`encode_cp1258` writes it as Windows does, for tests and demo files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from lienthong.vietnamese.letters import (
    ACUTE,
    BREVE,
    CIRCUMFLEX,
    DOT,
    GRAVE,
    HOOK,
    HORN,
    TILDE,
    split_letter,
    strip_tones,
)

# Unicode letter -> its TCVN3 byte (hex). Lowercase letters with tones, the 7 capitals TCVN3 has.
_TCVN3_CODES = """
à B5 á B8 ả B6 ã B7 ạ B9   ă A8 ằ BB ắ BE ẳ BC ẵ BD ặ C6   â A9 ầ C7 ấ CA ẩ C8 ẫ C9 ậ CB
đ AE   è CC é D0 ẻ CE ẽ CF ẹ D1   ê AA ề D2 ế D5 ể D3 ễ D4 ệ D6   ì D7 í DD ỉ D8 ĩ DC ị DE
ò DF ó E3 ỏ E1 õ E2 ọ E4   ô AB ồ E5 ố E8 ổ E6 ỗ E7 ộ E9   ơ AC ờ EA ớ ED ở EB ỡ EC ợ EE
ù EF ú F3 ủ F1 ũ F2 ụ F4   ư AD ừ F5 ứ F8 ử F6 ữ F7 ự F9   ỳ FA ý FD ỷ FB ỹ FC ỵ FE
Ă A1 Â A2 Ê A3 Ô A4 Ơ A5 Ư A6 Đ A7
"""
TCVN3_ENCODE: dict[str, str] = {
    uni: chr(int(code, 16)) for uni, code in zip(*[iter(_TCVN3_CODES.split())] * 2, strict=True)
}
TCVN3_DECODE: dict[str, str] = {legacy: uni for uni, legacy in TCVN3_ENCODE.items()}
# Letters TCVN3 stores only in lowercase: their case must be guessed back from the word around them.
TCVN3_CASELESS = frozenset(legacy for uni, legacy in TCVN3_ENCODE.items() if uni.islower() and uni.upper()
                           not in TCVN3_ENCODE)

# VNI-Windows: the lowercase modifier bytes (the uppercase ones are the same letters in uppercase, 0x20 lower).
_VNI_TONE = {ACUTE: "ù", GRAVE: "ø", HOOK: "û", TILDE: "õ", DOT: "ï"}
_VNI_CIRCUMFLEX = {"": "â", ACUTE: "á", GRAVE: "à", HOOK: "å", TILDE: "ã", DOT: "ä"}  # after a, e, o
_VNI_BREVE = {"": "ê", ACUTE: "é", GRAVE: "è", HOOK: "ú", TILDE: "ü", DOT: "ë"}  # after a
_VNI_I = {ACUTE: "í", GRAVE: "ì", HOOK: "æ", TILDE: "ó", DOT: "ò"}  # i with a tone is one byte
_VNI_LETTERS = {"ơ": "ô", "ư": "ö", "đ": "ñ", "ỵ": "î"}  # one byte each; ơ and ư take tone modifiers after


def _vni_decode_table() -> dict[int, str]:
    """VNI byte (as read in cp1252) -> Unicode letter or combining marks; NFC then composes them."""
    table: dict[str, str] = {}
    for marks, mods in ((CIRCUMFLEX, _VNI_CIRCUMFLEX), (BREVE, _VNI_BREVE)):
        for tone, mod in mods.items():
            table[mod] = marks + tone
    for tone, mod in _VNI_TONE.items():
        table[mod] = tone
    for tone, mod in _VNI_I.items():
        table[mod] = unicodedata.normalize("NFC", "i" + tone)
    for letter, mod in _VNI_LETTERS.items():
        table[mod] = letter
    table |= {key.upper(): value.upper() for key, value in table.items()}
    return {ord(key): value for key, value in table.items()}


VNI_DECODE = _vni_decode_table()

# VIQR (RFC 1456) marks.
_VIQR_MARK = {CIRCUMFLEX: "^", BREVE: "(", HORN: "+"}
_VIQR_TONE = {ACUTE: "'", GRAVE: "`", HOOK: "?", TILDE: "~", DOT: "."}
_VIQR_MARK_IN = {"^": CIRCUMFLEX, "(": BREVE, "+": HORN, "*": HORN}
_VIQR_TONE_IN = {mark: tone for tone, mark in _VIQR_TONE.items()}
_VIQR_BASES = {CIRCUMFLEX: "aeo", BREVE: "au", HORN: "ou"}  # ŭ: Jrai and Ê Đê names (Ayŭn)
VIQR_TOKEN = re.compile(r"(dd|DD|Dd)|([aeiouyAEIOUY])([\^(+*]?)(['`?~.]?)")

# What a Latin-1 or cp1252 reader can produce: a legacy value is made only of these characters.
LEGACY_DOMAIN = frozenset(map(chr, range(256))) | frozenset(bytes(range(128, 160)).decode("cp1252", "ignore"))


@cache
def _vni_letter(ch: str) -> str:
    if ch.lower() in _VNI_LETTERS and ch.lower() != "ơ" and ch.lower() != "ư":
        out = _VNI_LETTERS[ch.lower()]
        return out.upper() if ch.isupper() else out
    base, mark, tone = split_letter(ch)
    if base.lower() not in "aeiouy" or not (mark or tone):
        return ch
    upper = base.isupper()
    if mark == HORN:  # ơ ư: one byte, then the tone modifier
        base, mod = _VNI_LETTERS["ơ" if base.lower() == "o" else "ư"], _VNI_TONE.get(tone, "")
        return (base.upper() + mod.upper()) if upper else base + mod
    if base.lower() == "i" and not mark:
        mod = _VNI_I[tone]
        return mod.upper() if upper else mod
    if mark == CIRCUMFLEX:
        mod = _VNI_CIRCUMFLEX[tone]
    elif mark == BREVE:
        mod = _VNI_BREVE[tone]
    else:
        mod = _VNI_TONE[tone]
    return base + (mod.upper() if upper else mod)


def encode_tcvn3(text: str) -> str:
    """How Unicode Vietnamese ``text`` looks once typed in an ABC (TCVN3) font and read back as Latin-1.

    Capitals TCVN3 lacks (``Ễ``, ``Á``…) are written with their lowercase code, as the ".VnTimeH" fonts did,
    so ``decode(encode(x))`` restores them only where the word's case says so (see ``decode_tcvn3``).
    """
    text = unicodedata.normalize("NFC", text)
    return "".join(TCVN3_ENCODE.get(ch) or TCVN3_ENCODE.get(ch.lower(), ch) for ch in text)


def encode_vni(text: str) -> str:
    """How Unicode Vietnamese ``text`` looks once typed in a VNI-Windows font and read back as cp1252."""
    return "".join(_vni_letter(ch) for ch in unicodedata.normalize("NFC", text))


def encode_viqr(text: str) -> str:
    """``text`` in VIQR (RFC 1456): ``Nguye^~n Va(n Hoa``` ; ``DD``/``dd`` for Đ/đ."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in "đĐ":
            out.append("dd" if ch == "đ" else "DD")
            continue
        base, mark, tone = split_letter(ch)
        if base.lower() not in "aeiouy" or mark not in ("", *_VIQR_MARK):
            out.append(ch)
            continue
        out.append(base + _VIQR_MARK.get(mark, "") + _VIQR_TONE.get(tone, ""))
    return "".join(out)


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
            cluster = "".join(strip_tones(cluster))  # the letter with its vowel mark, then the tone
        parts.append(cluster)
    return "".join(parts).encode("cp1258")


_CLUSTER = re.compile(r".[\u0300-\u036f]*", re.DOTALL)  # a character and the combining marks after it


def decode_tcvn3(text: str) -> str:
    """Unicode for a TCVN3 string read as Latin-1/cp1252, with the lost capitals restored from context.

    A tone letter has no capital in TCVN3: in "NGUYÔN" it is capital because the rest of the word is; in
    "¢n ¸nh" (title case) a word-initial one is capital when the other words of the value start with one.
    """
    if not any(ch in TCVN3_CASELESS for ch in text):
        return text.translate(_TCVN3_TRANSLATE)
    words = [_tcvn3_word(raw) for raw in text.split(" ")]
    titled = [w.starts_cased_upper for w in words if w.starts_cased]
    title_context = bool(titled) and all(titled)
    upper_context = any(w.cased > 1 for w in words) and all(w.all_upper for w in words if w.cased)
    out: list[str] = []
    for w in words:
        word = w.decoded
        if w.caseless and ((w.all_upper and (w.cased > 1 or upper_context)) or (not w.cased and upper_context)):
            word = word.upper()
        elif w.caseless and word and title_context and not w.starts_cased and not w.any_upper:
            word = word[0].upper() + word[1:]
        out.append(word)
    return " ".join(out)


@dataclass(frozen=True)
class _Tcvn3Word:
    decoded: str
    caseless: bool  # has letters whose case TCVN3 lost
    cased: int  # letters whose case it kept
    all_upper: bool
    any_upper: bool
    starts_cased: bool | None  # None: the word does not start with a letter
    starts_cased_upper: bool


@lru_cache(maxsize=1 << 16)
def _tcvn3_word(raw: str) -> _Tcvn3Word:
    decoded = raw.translate(_TCVN3_TRANSLATE)
    cased = [d for r, d in zip(raw, decoded, strict=True) if r not in TCVN3_CASELESS and d.isalpha()]
    starts = None
    if raw and (raw[0] in TCVN3_CASELESS or decoded[0].isalpha()):
        starts = raw[0] not in TCVN3_CASELESS
    return _Tcvn3Word(decoded, any(r in TCVN3_CASELESS for r in raw), len(cased),
                      bool(cased) and all(c.isupper() for c in cased), any(c.isupper() for c in cased),
                      starts, bool(starts) and decoded[0].isupper())


_TCVN3_TRANSLATE = {ord(k): v for k, v in TCVN3_DECODE.items()}


def decode_vni(text: str) -> str:
    """Unicode for a VNI-Windows string read as cp1252 (modifiers become combining marks, then NFC)."""
    return unicodedata.normalize("NFC", text.translate(VNI_DECODE))


def decode_viqr(text: str) -> str:
    """Unicode for a VIQR string. A mark that cannot apply to the letter before it is left as typed."""

    def letter(match: re.Match[str]) -> str:
        if match.group(1):
            return "Đ" if match.group(1)[0] == "D" else "đ"
        base, mark, tone = match.group(2), match.group(3), match.group(4)
        combining = _VIQR_MARK_IN.get(mark, "")
        kept = ""
        if combining and base.lower() not in _VIQR_BASES[combining]:
            combining, kept = "", mark
        if kept and tone:  # "i^'" is not a letter: leave the whole thing
            return match.group(0)
        return unicodedata.normalize("NFC", base + combining + _VIQR_TONE_IN.get(tone, "")) + kept

    return VIQR_TOKEN.sub(letter, text)


def legacy_decodable(text: str) -> bool:
    """Whether ``text`` could be a TCVN3/VNI value read as Latin-1/cp1252 (no character outside that set)."""
    return all(ch in LEGACY_DOMAIN for ch in text)
