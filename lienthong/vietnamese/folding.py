"""The keys Vietnamese text is compared by: what is folded away, and what is kept.

- :func:`match_key` folds case, diacritics (đ → d) and spacing: "Nữ" == "nu", "NGUYỄN  Thị" == "nguyen thi".
  Labels, aliases, headers and code lists use it; :func:`fold` is the same without the spacing, for words
  (the matcher's name keys).
- :func:`spelling_key` keeps every diacritic but ignores case, spacing, apostrophe and dash variants and *where*
  the tone mark sits ("Hoà" == "hòa"): two names that differ by a diacritic are different places ("Văn Lăng" is
  not "Văn Lang").
- :func:`without_diacritics` keeps case: "Đắk Lắk" → "Dak Lak" (English labels, ASCII e-mail names).
- :data:`PLAIN_LETTERS` maps each lowercase Vietnamese letter to its plain letter one for one, for keys that must
  keep the length of the text they come from; :func:`tone_on_first_of_pair` puts the tone of oa, oe, uy on their
  first vowel even in words run together, for keys of text whose syllables cannot be told apart.
"""

from __future__ import annotations

import re
import unicodedata

from lienthong.vietnamese.letters import VIETNAMESE_LETTERS, strip_tones

_APOSTROPHES_AND_DASHES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u2013": "-", "\u2014": "-"}
)


def _unmarked(text: str) -> str:
    """``text`` decomposed, without its combining marks, đ/Đ made d/D."""
    # đ has no decomposition; ð/Ð (Icelandic eth) are its look-alikes, what a Latin-1 reading of cp1258 gives.
    # (Four replaces are ten times faster than one str.translate.)
    text = text.replace("đ", "d").replace("Đ", "D").replace("ð", "d").replace("Ð", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def without_diacritics(text: str) -> str:
    """``text`` with every diacritic removed and đ/Đ made d/D, case kept ("Đắk Lắk" -> "Dak Lak")."""
    return unicodedata.normalize("NFC", _unmarked(text))


def fold(text: str) -> str:
    """``text`` without case and diacritics, đ made d, spacing as it is ("Nữ" -> "nu"): the key of one word."""
    return _unmarked(text).casefold()


def match_key(text: str) -> str:
    """Case-, diacritic- and whitespace-insensitive key used to look labels and aliases up ("Nữ" == "nu")."""
    return " ".join(fold(text).split())


def clean_text(text: str) -> str:
    """NFC, typographic apostrophes and dashes made plain, runs of whitespace collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_APOSTROPHES_AND_DASHES).split())


def spelling_key(text: str) -> str:
    """A case-, spacing- and tone-placement-insensitive key that keeps diacritics ("Hoà" == "hòa")."""
    cleaned = clean_text(text).casefold().replace(" - ", "-")
    # A syllable carries at most one tone mark: put it at the end, wherever the source placed it.
    return " ".join("".join(strip_tones(syllable)) for syllable in cleaned.split(" "))


PLAIN_LETTERS = str.maketrans({ch: without_diacritics(ch) for ch in VIETNAMESE_LETTERS if ch.islower()})

# The open rhymes the two tone conventions disagree on, with a tone on either vowel (or none).
_OPEN_PAIR = re.compile(r"[oòóỏõọ][aàáảãạeèéẻẽẹ]|[uùúủũụ][yỳýỷỹỵ]")


def tone_on_first_of_pair(text: str) -> str:
    """The tone of every o+a, o+e, u+y of lowercase ``text`` on the pair's first vowel ("hoà" -> "hòa").

    Unlike :func:`lienthong.vietnamese.syllables.place_tone` it needs no syllable boundary, so it works on keys
    whose words are run together ("thuỷnguyên"); it also moves "quý" to "qúy" and "hoàng" to "hòang", which is
    harmless in a key that both sides go through.
    """

    def first(match: re.Match[str]) -> str:
        base, tones = strip_tones(match.group(0))
        return unicodedata.normalize("NFC", base[0] + tones) + base[1:]

    return _OPEN_PAIR.sub(first, text)
