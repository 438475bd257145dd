"""API keys: random tokens shown once, stored only as SHA-256 hashes, with scopes, expiry and revocation.

A token reads ``lt_<key_id>_<secret>``. The key id is public (it names the key in ``keys list`` and in the audit
log) and lets the server find the one row to compare against; the comparison of the hashes is constant-time
(:func:`hmac.compare_digest`), so response timing tells an attacker nothing about how close a guess was. A
database copy holds no usable token: SHA-256 of 256 random bits cannot be reversed, and, unlike passwords, needs no
slow hash.

Scopes: ``push:<source_id>`` (upload feeds to that source), ``read:<dataset>`` (pull its records), ``read:pii``
(direct identifiers in the clear), ``admin`` (everything, and the key is not limited to an organisation).

An X-Road grant is a key bound to a consumer subsystem (``xroad_client``): the same scopes, organisation, expiry,
revocation and rate, but no token anyone knows — its requests are recognised by the ``X-Road-Client`` header a
trusted Security Server forwards (``lienthong.api.xroad``). One active grant per subsystem; deny by default.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from connectors.xroad import XRoadIdentifierError, parse_id
from lienthong.errors import HubError
from lienthong.warehouse.tables_api import api_key

SCOPE_PATTERN = re.compile(r"^(admin|read:pii|read:[a-z][a-z0-9_]{0,63}|push:[a-z][a-z0-9_]{1,62})$")
_TOKEN = re.compile(r"^lt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class ScopeError(HubError):
    """A key cannot be created or changed as asked."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key as the server sees it (never the token)."""

    key_id: str
    name: str
    scopes: frozenset[str]
    organisation: str | None
    rate_per_minute: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    xroad_client: str | None = None  # an X-Road grant: the consumer subsystem it is for

    @property
    def actor(self) -> str:
        """How the key appears in the audit log (an X-Road grant: by its consumer subsystem)."""
        if self.xroad_client:
            return f"xroad:{self.xroad_client} (key {self.key_id})"
        return f"key:{self.key_id} ({self.name})"

    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def can_push(self, source_id: str) -> bool:
        return self.is_admin() or f"push:{source_id}" in self.scopes

    def can_read(self, dataset: str) -> bool:
        return self.is_admin() or f"read:{dataset}" in self.scopes

    def sees_pii(self) -> bool:
        return self.is_admin() or "read:pii" in self.scopes

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or datetime.now(UTC)) >= _aware(self.expires_at)


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # shown once; only its hash is stored


def create_key(
    engine: Engine, *, name: str, scopes: list[str], organisation: str | None = None, expires_days: float | None = None,
    rate_per_minute: int | None = None, xroad_client: str | None = None,
) -> NewKey:
    """Create a key and return it with its token, which is not kept anywhere.

    Args:
        xroad_client: make an X-Road grant for this consumer subsystem (``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]``)
            instead of a bearer key; the returned token is then empty, none being usable.

    Raises:
        ScopeError: a scope is not one of ``admin``, ``read:pii``, ``read:<dataset>``, ``push:<source_id>``; the
            X-Road client identifier is invalid, or already has an active grant.
    """
    bad = [s for s in scopes if not SCOPE_PATTERN.match(s)]
    if bad or not scopes:
        msg = (f"invalid scope(s) {', '.join(bad) or '(none given)'}: use admin, read:pii, read:<dataset> or "
               "push:<source_id>")
        raise ScopeError(msg, message_vi=f"Phạm vi quyền không hợp lệ: {', '.join(bad) or '(trống)'}")
    if xroad_client is not None:
        xroad_client = _grantable(engine, xroad_client)
    key_id = secrets.token_hex(6)
    token = f"lt_{key_id}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    expires = now + timedelta(days=expires_days) if expires_days is not None else None
    with engine.begin() as conn:
        conn.execute(insert(api_key).values(
            key_id=key_id, name=name, token_sha256=token_hash(token), scopes=sorted(set(scopes)),
            organisation=organisation, rate_per_minute=rate_per_minute, created_at=now, expires_at=expires,
            revoked=False, xroad_client=xroad_client,
        ))
    key = ApiKey(key_id, name, frozenset(scopes), organisation, rate_per_minute, now, expires, False, xroad_client)
    return NewKey(key, "" if xroad_client else token)


def _grantable(engine: Engine, client: str) -> str:
    """The canonical identifier of ``client``, if it is valid and has no active grant yet."""
    try:
        canonical = str(parse_id(client))
    except XRoadIdentifierError as exc:
        raise ScopeError(str(exc), message_vi=f"Mã định danh X-Road không hợp lệ: {client[:80]}") from None
    current = find_xroad_grant(engine, canonical)
    if current is not None and not current.revoked and not current.expired():
        msg = f"X-Road client {canonical} already has key {current.key_id}: revoke it first (`lienthong keys revoke`)"
        raise ScopeError(msg, message_vi=f"Hệ thống {canonical} đã được cấp quyền (khóa {current.key_id})")
    return canonical


def find_xroad_grant(engine: Engine, client: str) -> ApiKey | None:
    """The newest grant of an X-Road consumer (canonical identifier), revoked or expired ones included, or ``None``."""
    with engine.connect() as conn:
        row = conn.execute(select(api_key).where(api_key.c.xroad_client == client)
                           .order_by(api_key.c.created_at.desc()).limit(1)).mappings().first()
    return _from_row(row) if row is not None else None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def verify_token(engine: Engine, token: str) -> ApiKey | None:
    """The key a token belongs to, or ``None`` when the token is malformed or unknown.

    Expiry and revocation are *not* decided here, so the caller can tell the client which one it was.
    """
    m = _TOKEN.match(token)
    if not m:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(api_key).where(api_key.c.key_id == m.group(1))).mappings().first()
    # Compare even when no row was found, against a dummy hash: timing tells nothing about which key ids exist.
    stored = row["token_sha256"] if row else "0" * 64
    if not hmac.compare_digest(stored, token_hash(token)) or row is None or row["xroad_client"]:
        return None  # an X-Road grant's token is never handed out; were it guessed, it still is no bearer key
    return _from_row(row)


def list_keys(engine: Engine) -> list[ApiKey]:
    with engine.connect() as conn:
        return [_from_row(r) for r in conn.execute(select(api_key).order_by(api_key.c.created_at)).mappings()]


def revoke_key(engine: Engine, key_id: str) -> bool:
    """Revoke a key for good; ``False`` when there is no such key."""
    with engine.begin() as conn:
        done = conn.execute(update(api_key).where(api_key.c.key_id == key_id)
                            .values(revoked=True, revoked_at=datetime.now(UTC)))
    return done.rowcount > 0


def touch_key(engine: Engine, key_id: str) -> None:
    """Record that a key was used (callers throttle this to about once a minute per key)."""
    with engine.begin() as conn:
        conn.execute(update(api_key).where(api_key.c.key_id == key_id).values(last_used_at=datetime.now(UTC)))


def _from_row(row) -> ApiKey:  # noqa: ANN001 - a RowMapping
    return ApiKey(row["key_id"], row["name"], frozenset(row["scopes"]), row["organisation"], row["rate_per_minute"],
                  _aware(row["created_at"]), _aware(row["expires_at"]), bool(row["revoked"]), row["xroad_client"])


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for what was written as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
