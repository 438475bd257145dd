"""The one rule for showing a personal value to people: quarantine reasons, the quality report, clean-stage
messages, the review queue, `lienthong quarantine`, the erasure audit.

A shown value keeps only what lets a clerk find it again on paper, next to the row reference every message gives:

- a **number** (more digits than letters: an ID number, a phone, however typed) keeps its last three characters,
  if it has at least nine (the shortest ID number, a CMND); a shorter one is hidden whole;
- **words** (a name, an address) keep the first letter of each word, a name's initials.

Every other character becomes ``*`` and spaces stay, so the length and shape of the value can still be seen
("an ID number with 11 digits"). Hidden this way: the birth year, sex and province a CCCD encodes, a phone's
carrier, the given name. docs/security.md, "Masking".
"""

from __future__ import annotations

import re

_HIDDEN = "*"
_NUMBER_KEEPS = 3  # the last characters of a number that stay
_NUMBER_SHOWN_FROM = 9  # characters a number needs for its end to be shown: a CMND has 9 digits


def mask(value: str | None) -> str:
    """``value`` as the hub shows a personal value (see the module docstring); "" for None or "".

    "001185012345" -> "*********345", "0912 345 678" -> "**** *** 678", "Nguyễn Văn An" -> "N***** V** A*".
    """
    if not value:
        return ""
    text = value.strip()
    digits = sum(map(str.isdigit, text))
    if digits > sum(map(str.isalpha, text)):
        keep = _NUMBER_KEEPS if len(text) >= _NUMBER_SHOWN_FROM else 0
        return _hide(text[:len(text) - keep]) + text[len(text) - keep:]
    return " ".join(word[0] + _hide(word[1:]) if word[0].isalpha() else _hide(word) for word in text.split())


def _hide(text: str) -> str:
    return _NOT_SPACE.sub(_HIDDEN, text)


_NOT_SPACE = re.compile("[^ ]")
