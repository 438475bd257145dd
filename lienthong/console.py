"""The one rich console of the process (stdout) and its stderr twin, shared by the CLI and the benchmarks.

Below both (STYLE rule 13): the benchmarks print progress through it without importing the CLI.
"""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
