"""The Vietnamese letters as Unicode writes them: the vowels, the five tone marks, the three vowel marks.

A Vietnamese letter is a base letter, at most one vowel mark (circumflex â ê ô, breve ă, horn ơ ư) and at most
one tone mark (huyền, sắc, hỏi, ngã, nặng). Unicode has every combination precomposed (NFC), but keyboards,
Windows-1258 and Macs also write them as a base letter followed by combining marks (NFD). The tone marks are
the ones that move: the two spelling conventions put them on different vowels (hòa / hoà), and cp1258 keeps them
as combining characters. Everything in the hub that needs to tell a tone mark from a vowel mark, or a Vietnamese
letter from another, asks this module.
"""

from __future__ import annotations

import unicodedata

# The tone marks as combining characters: huyền, sắc, hỏi, ngã, nặng.
GRAVE, ACUTE, HOOK, TILDE, DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
TONE_MARKS = GRAVE + ACUTE + HOOK + TILDE + DOT
TONES = frozenset(TONE_MARKS)
# The vowel marks: they belong to the vowel and never move.
CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"

VOWELS = "aăâeêioôơuưy"
# Every vowel carrying a tone mark, both cases, precomposed.
TONED_VOWELS = "".join(sorted({unicodedata.normalize("NFC", v + t) for v in VOWELS + VOWELS.upper()
                               for t in TONE_MARKS}))
# The letters Vietnamese adds to ASCII, both cases, precomposed.
VIETNAMESE_LETTERS = frozenset(
    unicodedata.normalize("NFC", v + t) for v in VOWELS + VOWELS.upper() for t in ("", *TONE_MARKS)
) | frozenset("đĐ")


def split_letter(ch: str) -> tuple[str, str, str]:
    """(base letter, vowel mark or "", tone mark or "") of one character: "ế" -> ("e", CIRCUMFLEX, ACUTE)."""
    decomposed = unicodedata.normalize("NFD", ch)
    tone = "".join(m for m in decomposed[1:] if m in TONES)
    mark = "".join(m for m in decomposed[1:] if m not in TONES)
    return decomposed[0], mark, tone


def strip_tones(text: str) -> tuple[str, str]:
    """(``text`` in NFC without its tone marks, the tone marks it had, in order): "Hoà" -> ("Hoa", GRAVE).

    The vowel marks stay ("Thuỷ" -> "Thuy", "Trường" -> "Trương"); a syllable has at most one tone, so
    ``"".join(strip_tones(s))`` is a spelling of ``s`` that does not depend on where its tone was typed.
    """
    decomposed = unicodedata.normalize("NFD", text)
    tones = "".join(ch for ch in decomposed if ch in TONES)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in TONES)), tones
