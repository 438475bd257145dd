"""Keyed pseudonyms for ID numbers and phones, so consumers of non-open datasets can join without seeing them.

A token is ``<key id>:<HMAC-SHA256(key, value), first 128 bits, hex>``. Keyed (not a bare hash) because a CCCD has
only ~10^12 values and a phone ~10^10: an unkeyed hash is reversed by enumeration in minutes. Stable under one key,
so two datasets pseudonymised with the same key join on the token. The key id prefix makes rotation visible: after
``LIENTHONG_PSEUDONYM_KEY`` / ``LIENTHONG_PSEUDONYM_KEY_ID`` change, old and new tokens never compare equal by
accident and a consumer can tell which generation it holds (docs/open-data.md, "Key rotation").
"""

from __future__ import annotations

import hashlib
import hmac
from typing import overload

import pyarrow as pa

from lienthong.errors import ConfigError
from lienthong.settings import Settings

TOKEN_HEX_CHARS = 32  # 128 bits: collision-free for any population the Front holds, half the width of full SHA-256


@overload
def pseudonymise(values: pa.Array, *, key: bytes, key_id: str | None = None) -> pa.Array: ...
@overload
def pseudonymise(values: pa.ChunkedArray, *, key: bytes, key_id: str | None = None) -> pa.ChunkedArray: ...
@overload
def pseudonymise(values: list[str | None], *, key: bytes, key_id: str | None = None) -> list[str | None]: ...


def pseudonymise(values, *, key: bytes, key_id: str | None = None):
    """Replace each value by its keyed token; nulls (and empty strings) stay null.

    Args:
        values: an Arrow string array (plain or chunked) or a list of strings/None, already cleaned (the hub's
            canonical CCCD digits or national phone form), so the same person gives the same token everywhere.
        key: the secret key (``Settings.pseudonym_key``); at least 16 bytes.
        key_id: the label of the key generation put in front of each token; default a fingerprint of the key.

    Returns:
        The same kind as ``values``: an Arrow string array, or a list.

    Raises:
        ConfigError: the key is missing or too short to resist guessing.
    """
    if not key or len(key) < 16:
        msg = "The pseudonym key must be at least 16 bytes; set LIENTHONG_PSEUDONYM_KEY to a long random secret."
        raise ConfigError(msg, message_vi="Khóa bí danh phải dài ít nhất 16 byte; hãy đặt LIENTHONG_PSEUDONYM_KEY "
                                         "là một chuỗi bí mật ngẫu nhiên đủ dài.")
    prefix = (key_id or key_fingerprint(key)) + ":"
    cache: dict[str, str] = {}

    def token(value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            return None
        found = cache.get(value)
        if found is None:
            digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
            found = cache[value] = prefix + digest[:TOKEN_HEX_CHARS]
        return found

    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([pseudonymise(c, key=key, key_id=prefix[:-1]) for c in values.chunks],
                                type=pa.string())
    if isinstance(values, pa.Array):
        return pa.array([token(v) for v in values.cast(pa.string()).to_pylist()], type=pa.string())
    return [token(v) for v in values]


def key_fingerprint(key: bytes) -> str:
    """A short public label of a key (8 hex chars), used as key id when none is configured."""
    return hmac.new(key, b"lienthong-pseudonym-key-id", hashlib.sha256).hexdigest()[:8]


def key_from_settings(settings: Settings) -> tuple[bytes, str]:
    """The configured pseudonym key and its id.

    Raises:
        ConfigError: ``LIENTHONG_PSEUDONYM_KEY`` is not set.
    """
    if settings.pseudonym_key is None:
        msg = "LIENTHONG_PSEUDONYM_KEY is not set: non-open datasets cannot be pseudonymised without a secret key."
        raise ConfigError(msg, message_vi="Chưa đặt LIENTHONG_PSEUDONYM_KEY: không thể thay số CCCD/điện thoại "
                                         "bằng bí danh khi chưa có khóa bí mật.")
    key = settings.pseudonym_key.get_secret_value().encode("utf-8")
    return key, settings.pseudonym_key_id or key_fingerprint(key)


def pseudonymise_with_settings(values, settings: Settings):
    """:func:`pseudonymise` with the key and key id of ``settings`` (same kinds in and out)."""
    key, key_id = key_from_settings(settings)
    return pseudonymise(values, key=key, key_id=key_id)


# What ``str.strip()`` removes: the Python whitespace set, so the SQL token strips exactly as :func:`pseudonymise`.
_WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
_HMAC_BLOCK = 64  # SHA-256's block size (RFC 2104)


def token_sql(column: str, *, key: bytes, key_id: str | None = None) -> tuple[str, dict[str, object]]:
    """The SQL expression (PostgreSQL) giving :func:`pseudonymise`'s token of ``column``, and its parameters.

    HMAC-SHA256 written with the core ``sha256()`` (no pgcrypto): ``sha256(K^opad || sha256(K^ipad || value))``,
    RFC 2104, with the pads computed here so the key travels only as bound parameters. Used by the pull API so a
    million records are pseudonymised by the database while it formats them, not one Python call per value
    (tests/lienthong/api/test_postgres_encoding.py checks both give the same tokens).

    Args:
        column: an SQL expression of type text (e.g. ``r."phone"``).
        key: the secret key, as for :func:`pseudonymise`.
        key_id: the key generation label, as for :func:`pseudonymise`.

    Returns:
        ``(sql, params)``: ``sql`` uses the psycopg named placeholders ``%(pk_…)s`` bound by ``params``.
    """
    pseudonymise([], key=key)  # the same key checks
    block = hashlib.sha256(key).digest() if len(key) > _HMAC_BLOCK else key
    block = block.ljust(_HMAC_BLOCK, b"\0")
    params: dict[str, object] = {
        "pk_ipad": bytes(b ^ 0x36 for b in block), "pk_opad": bytes(b ^ 0x5C for b in block),
        "pk_prefix": (key_id or key_fingerprint(key)) + ":", "pk_ws": _WHITESPACE,
    }
    value = f"convert_to(nullif(btrim({column}, %(pk_ws)s::text), ''), 'UTF8')"
    digest = f"sha256(%(pk_opad)s::bytea || sha256(%(pk_ipad)s::bytea || {value}))"
    return f"(%(pk_prefix)s::text || left(encode({digest}, 'hex'), {TOKEN_HEX_CHARS}))", params
