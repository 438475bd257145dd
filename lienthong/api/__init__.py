"""The hub's HTTP API (FastAPI): push feeds, pull published datasets, code lists, health and metrics."""

from __future__ import annotations

from lienthong.api.app import create_app

__all__ = ["create_app"]
