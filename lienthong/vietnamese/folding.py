"""Accent and case folding: the one key Vietnamese labels, aliases and headers are compared by."""

from __future__ import annotations

import unicodedata


def match_key(text: str) -> str:
    """Case-, diacritic- and whitespace-insensitive key used to look labels and aliases up ("Nữ" == "nu")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
