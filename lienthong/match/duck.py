"""DuckDB connections of the match code: in memory, spilling to the system's temporary folder.

An in-memory DuckDB writes what does not fit in memory to ``.tmp`` under the process's current directory, and removes
it only when the connection closes. A server, a worker or a clerk's ``lienthong sync`` would then leave gigabytes of
hidden files wherever it was started from whenever it was stopped mid-run: 22 GB once, in the project folder, from a
benchmark's server killed while matching pushes into a registry whose members all share a family and middle name.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from pathlib import Path

import duckdb

from lienthong.settings import get_settings


def spill_folder() -> Path:
    """Where DuckDB spills: ``lienthong-duckdb-<user>`` in the system's temporary folder (``TMPDIR``)."""
    folder = Path(tempfile.gettempdir()) / f"lienthong-duckdb-{_user()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _user() -> str:
    """The user's name, or their uid where there is none (a container run under an arbitrary uid)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def connect() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection that spills to :func:`spill_folder` past
    ``LIENTHONG_MATCH_DUCKDB_MEMORY_MB`` (DuckDB's own default, 80% of the machine, let one run's scoring take
    6.5 GiB when a part of a 10M-record registry was attached)."""
    return duckdb.connect(config={"temp_directory": str(spill_folder()),
                                  "memory_limit": f"{get_settings().match_duckdb_memory_mb}MB"})
