"""The Vietnamese syllable model: which letter strings are Vietnamese syllables, and where their tone mark goes.

Field knowledge at the bottom of the hub (STYLE rule 13): the clean stage, the encoding detection of the
connectors and the matcher all ask it, and it imports nothing of the hub but the letters.
Moved here from ``lienthong.cleaning.text`` (issue 13), which still re-exports :func:`is_syllable`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from lienthong.vietnamese.letters import ACUTE, DOT, VOWELS, strip_tones

_ONSETS = ("ngh", "ng", "gh", "gi", "kh", "nh", "ph", "th", "tr", "ch", "qu",
           "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")
_CODAS = ("ng", "nh", "ch", "c", "m", "n", "p", "t", "")
_RHYMES_TEXT = """
a ai ao au ay ac ach am an ang anh ap at ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây
e ec em en eng eo ep et ê êch êm ên ênh êp êt êu i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
o oc oi om on ong op ot ooc oong ô ôc ôi ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt
u ua uc ui um un ung up ut uôc uôi uôm uôn uông uôt ư ưa ưc ưi ưm ưn ưng ưt ưu
ươc ươi ươm ươn ương ươp ươt ươu y yêm yên yêng yêt yêu
oa oac oach oai oam oan oang oanh oap oat oay oăc oăm oăn oăng oăt oe oen oeo oet
uân uâng uât uây uê uêch uênh uơ uy uya uych uyên uyêt uynh uyt uyu uyp
"""
_RHYMES = frozenset(_RHYMES_TEXT.split())
# After "qu" the u is part of the onset (qua, quê, quý, quyết); after "gi" the i is (gia, giữ, giếng).
_RHYMES_QU = frozenset(r for r in _RHYMES if r[0] in "aăâeêôơi") | {"y", "ynh", "ych", "yt", "yn", "yên", "yêt"}
_RHYMES_GI = frozenset(r for r in _RHYMES if r[0] not in "iy") | {"êng", "êc"}
_MARKED = "ăâêôơư"  # a vowel with a diacritic carries the tone
_SPELLING = {  # onset -> vowels it may not / must precede (Vietnamese spelling rules: ca/ke, ga/ghe, nga/nghe)
    "c": ("eêiy", False), "k": ("eêiy", True), "g": ("eê", False), "gh": ("eêi", True),
    "ng": ("eêi", False), "ngh": ("eêi", True),
}


@dataclass(frozen=True)
class Syllable:
    onset: str
    vowels: str
    coda: str
    tone: str  # a combining mark, or "" for the level tone

    def tone_index(self, style: Literal["old", "new"] = "old") -> int:
        """Index, in the toneless lowercase syllable, of the vowel that carries the tone."""
        v = self.vowels
        if "ươ" in v:
            at = v.index("ươ") + 1
        elif any(ch in _MARKED for ch in v):
            at = next(i for i, ch in enumerate(v) if ch in _MARKED)
        elif self.coda or len(v) == 3:
            at = len(v) - 1 if self.coda else 1
        elif len(v) == 2 and v in ("oa", "oe", "uy"):
            at = 1 if style == "new" else 0
        else:
            at = 0
        return len(self.onset) + at


@lru_cache(maxsize=1 << 16)
def parse_syllable(word: str) -> Syllable | None:
    """The syllable ``word`` (any case, NFC or not) spells, or None if it is not a Vietnamese syllable."""
    word = unicodedata.normalize("NFC", word.lower())
    base, tones = strip_tones(word)
    if len(tones) > 1 or not base or len(base) != len(word):
        return None  # two tones, or a mark that did not compose with its letter
    if tones and not any(ch != b and b in VOWELS for ch, b in zip(word, base, strict=True)):
        return None  # the tone sits on a consonant ("tḥy")
    tone = tones[0] if tones else ""
    for onset in _ONSETS:
        if not base.startswith(onset):
            continue
        rest = base[len(onset):]
        vowels = rest[: len(rest) - len(rest.lstrip(VOWELS))]
        coda = rest[len(vowels):]
        if not vowels or coda not in _CODAS:
            continue
        rhymes = _RHYMES_QU if onset == "qu" else _RHYMES_GI if onset == "gi" else _RHYMES
        if vowels + coda not in rhymes:
            continue
        rule = _SPELLING.get(onset)
        if rule and (vowels[0] in rule[0]) != rule[1]:
            continue
        if coda in ("c", "ch", "p", "t") and tone not in (ACUTE, DOT):
            continue  # a stop final takes only the sắc or nặng tone
        return Syllable(onset, vowels, coda, tone)
    return None


def is_syllable(word: str) -> bool:
    """Whether ``word`` is one Vietnamese syllable (with at most one tone mark, anywhere on its vowels)."""
    return parse_syllable(word) is not None


@lru_cache(maxsize=1 << 16)
def place_tone(word: str, style: Literal["old", "new"] = "old") -> str:
    """``word`` with its tone mark on the vowel ``style`` wants ("qủa" -> "quả", "hoà" -> "hòa" in the old
    style, "hòa" -> "hoà" in the new); unchanged if it is not a syllable or has no tone."""
    syllable = parse_syllable(word)
    if syllable is None or not syllable.tone:
        return word
    at = syllable.tone_index(style)
    chars = [strip_tones(ch)[0] for ch in unicodedata.normalize("NFC", word)]
    chars[at] = unicodedata.normalize("NFC", chars[at] + syllable.tone)
    return "".join(chars)
