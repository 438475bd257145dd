"""Moved to :mod:`lienthong.vietnamese.legacy_encodings` (issue 13); this import path stays for one release."""

from lienthong.vietnamese.legacy_encodings import *  # noqa: F403
