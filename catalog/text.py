"""Moved to :mod:`lienthong.vietnamese.folding` (issue 14): the label cleaning and the keys code lists are looked
up by are defined once with the rest of the field knowledge of Vietnamese text. This import path stays for one
release."""

from lienthong.vietnamese.folding import clean_text, spelling_key, without_diacritics

__all__ = ["clean_text", "spelling_key", "without_diacritics"]
