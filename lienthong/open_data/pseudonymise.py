"""Moved to :mod:`lienthong.pseudonymise` (issue 13: the warehouse's erasure needs it and sits below open data);
this import path stays for one release."""

from lienthong.pseudonymise import (
    TOKEN_HEX_CHARS,
    key_fingerprint,
    key_from_settings,
    pseudonymise,
    pseudonymise_with_settings,
)

__all__ = ["TOKEN_HEX_CHARS", "key_fingerprint", "key_from_settings", "pseudonymise", "pseudonymise_with_settings"]
