"""Small text helpers shared by the catalog loaders: cleaning labels and a spelling key for exact look-ups.

``model.match_key`` folds diacritics away, which is right for most lists but wrong where two names differ
only by a diacritic (in one province "Xã Văn Lăng" and "Xã Văn Lang" are different communes).
``spelling_key`` keeps every diacritic but ignores case, spacing, apostrophe/dash variants and *where*
the tone mark sits ("Hoà" == "Hòa", "Thuỷ" == "Thủy"), the two conventions that are both in use.
"""

from __future__ import annotations

import unicodedata

# The five Vietnamese tone marks as combining characters (huyền, sắc, ngã, hỏi, nặng). The other combining
# marks (circumflex, breve, horn) belong to the vowel and are kept in place.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_APOSTROPHES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u2013": "-", "\u2014": "-"}
)


def clean_text(text: str) -> str:
    """NFC, typographic apostrophes and dashes made plain, runs of whitespace collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_APOSTROPHES).split())


def spelling_key(text: str) -> str:
    """A case-, spacing- and tone-placement-insensitive key that keeps diacritics ("Hoà" == "hòa")."""
    cleaned = clean_text(text).casefold().replace(" - ", "-")
    syllables = []
    for syllable in cleaned.split(" "):
        decomposed = unicodedata.normalize("NFD", syllable)
        tones = "".join(ch for ch in decomposed if ch in _TONE_MARKS)
        base = "".join(ch for ch in decomposed if ch not in _TONE_MARKS)
        # A syllable carries at most one tone mark: put it at the end, wherever the source placed it.
        syllables.append(unicodedata.normalize("NFC", base) + tones)
    return " ".join(syllables)


def without_diacritics(text: str) -> str:
    """The text with Vietnamese diacritics removed and đ/Đ made d/D, case kept ("Đắk Lắk" -> "Dak Lak")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
