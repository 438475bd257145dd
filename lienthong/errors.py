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


class ConnectionLost(WarehouseError):
    """The connection to the warehouse was lost and did not come back within the bounded retries."""


class FilesRefused(MalformedInput):
    """Some files of a folder could not be read; the others were yielded. ``refused`` holds one error per file."""

    def __init__(self, refused: list[MalformedInput], *, source_id: str | None = None) -> None:
        first = refused[0]
        more = f" (and {len(refused) - 1} more files refused)" if len(refused) > 1 else ""
        more_vi = f" (và {len(refused) - 1} tệp khác bị từ chối)" if len(refused) > 1 else ""
        super().__init__(f"{first}{more}", message_vi=f"{first.message_vi}{more_vi}", source_id=source_id)
        self.refused = refused


class SourceProblems(HubError):
    """A source's run went through but refused some files or batches (the Airflow task that reports them)."""

    def __init__(self, source_id: str, messages: list[str], messages_vi: list[str]) -> None:
        n = len(messages)
        message = f"{source_id}: {n} file(s) or batch(es) refused, the rest went through: " + " | ".join(messages)
        super().__init__(message,
                         message_vi=f"{source_id}: {n} tệp/lô bị từ chối: " + " | ".join(messages_vi),
                         source_id=source_id)
