"""Warehouse tables of entity resolution: entities, record links, match history and the review queue."""

from __future__ import annotations
