"""Warehouse tables of the HTTP API: API keys (hashes only) and the append-only audit log."""

from __future__ import annotations
