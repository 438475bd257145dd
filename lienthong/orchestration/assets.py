"""The Airflow assets of the hub: per dataset, its staged rows and its published table.

A sync DAG emits ``lienthong://warehouse/<dataset>/staged`` when it staged new rows; ``publish__<dataset>`` is
scheduled on it and emits ``lienthong://warehouse/<dataset>/published``, which ``open_data`` consumes.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from airflow.sdk import Asset, AssetAny

from schemas import CONTRACTS

DATASETS: tuple[str, ...] = tuple(sorted(CONTRACTS))  # members, feedback, relief


def staged_asset(dataset: str) -> Asset:
    """Rows of ``dataset`` validated and waiting in staging."""
    return Asset(name=f"{dataset}_staged", uri=f"lienthong://warehouse/{dataset}/staged", group="lienthong")


def published_asset(dataset: str) -> Asset:
    """The published table of ``dataset``."""
    return Asset(name=f"{dataset}_published", uri=f"lienthong://warehouse/{dataset}/published", group="lienthong")


def any_published() -> AssetAny:
    """``members | feedback | relief`` published: open data is rewritten when any of them changed."""
    return reduce(or_, (published_asset(d) for d in DATASETS))
