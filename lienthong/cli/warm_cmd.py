"""`lienthong warm status|start|stop`: see, start or stop the warm process of `check` and `normalize`."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

import typer

from lienthong.cli import warm
from lienthong.cli.console import console

app = typer.Typer(help="The warm process that serves `check` and `normalize` after the first one "
                       "(LIENTHONG_WARM=0 turns it off).", no_args_is_help=True)


@app.command()
def status() -> None:
    """Whether a warm process serves this code: its pid, since when, how many commands it ran. Exit 1 if none."""
    answer = warm.ask({"status": True})
    if answer is None:
        console.print(f"no warm process for this code ({warm.socket_path()})", highlight=False)
        raise typer.Exit(1)
    since = datetime.fromtimestamp(answer["started"]).strftime("%Y-%m-%d %H:%M:%S")
    console.print(f"warm process {answer['pid']} since {since}: {answer['served']} commands served, "
                  f"{answer['running']} running{', leaving' if answer['leaving'] else ''} ({warm.socket_path()})",
                  highlight=False)


@app.command()
def start(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for it to answer.")] = 120.0,
) -> None:
    """Start the warm process now, not after the next `check`, and wait until it answers (exit 1 if it does not)."""
    server = warm.start_server() if warm.ask({"status": True}) is None else None
    deadline = time.monotonic() + timeout
    while (answer := warm.ask({"status": True})) is None or answer["leaving"]:
        failed = server is not None and server.poll() not in (None, 0)  # 0: another one (warming up) has the lock
        if time.monotonic() > deadline or failed:
            console.print(f"the warm process did not start or answer within {timeout:g} s; see "
                          f"{warm.socket_path().with_suffix('.log')}", highlight=False)
            raise typer.Exit(1)
        time.sleep(0.2)
    console.print(f"warm process {answer['pid']} ready", highlight=False)


@app.command()
def stop(
    every: Annotated[bool, typer.Option("--all", help="Every warm process of this user, of any checkout or "
                                        "interpreter, not only this code's.")] = False,
) -> None:
    """Stop the warm process of this code (it finishes the commands it is running, then exits)."""
    sockets = sorted(warm.folder().glob("warm-*.sock")) if every else [warm.socket_path()]
    stopped = 0
    for path in sockets:
        answer = warm.ask({"stop": True}, path)
        if answer is None:
            continue
        deadline = time.monotonic() + 60
        while warm.ask({"status": True}, path) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        console.print(f"warm process {answer['pid']} stopped", highlight=False)
        stopped += 1
    if not stopped:
        console.print("no warm process" + ("" if every else " for this code"), highlight=False)
