"""Shared console helpers: one rich console, and how hub errors are shown (English, then Vietnamese)."""

from __future__ import annotations

from lienthong.console import console, err_console
from lienthong.errors import HubError

__all__ = ["console", "err_console", "show_error"]


def show_error(exc: HubError) -> None:
    err_console.print(f"[bold red]error:[/] {exc}")
    if exc.message_vi and exc.message_vi != str(exc):
        err_console.print(f"[red]lỗi:[/] {exc.message_vi}")
