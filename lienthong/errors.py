"""Errors that stop a run. Each says what failed, where, and what to do, in English and Vietnamese."""

from __future__ import annotations


class HubError(Exception):
    """Base of the hub's own errors: ``str(err)`` is the English message, ``err.message_vi`` the Vietnamese."""

    def __init__(self, message: str, *, message_vi: str | None = None, source_id: str | None = None) -> None:
        super().__init__(message)
        self.message_vi = message_vi or message
        self.source_id = source_id


class ConfigError(HubError):
    """A source registry file or setting is invalid."""


class ExtractError(HubError):
    """A source could not be read: server down, HTML instead of JSON, unreadable database."""


class MalformedInput(HubError):
    """A payload could not be parsed: malformed CSV, undetectable encoding, unknown or missing columns."""


class WarehouseError(HubError):
    """The warehouse is unreachable or not initialised."""
