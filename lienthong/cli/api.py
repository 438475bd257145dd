"""`lienthong serve`, `lienthong keys …`, `lienthong audit`, `lienthong gateway push`, `lienthong bench api`: the
HTTP API's commands."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lienthong.cli.bench import BENCHMARKS
from lienthong.cli.bench import app as bench_app
from lienthong.cli.console import console

keys_app = typer.Typer(help="API keys: create (token shown once), list, revoke.", no_args_is_help=True)
gateway_app = typer.Typer(help="LGSP/NDXP-style gateways: push published changes.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main CLI (one line in lienthong/cli/app.py)."""
    app.command()(serve)
    app.command()(audit)
    app.add_typer(keys_app, name="keys")
    app.add_typer(gateway_app, name="gateway")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (rate limits and the web's check results are "
                                              "per process).")] = 1,
) -> None:
    """Start the HTTP API (FastAPI + uvicorn) over the configured warehouse."""
    import uvicorn

    from lienthong.settings import get_settings
    from lienthong.web.app import create_app

    console.print(f"Liên Thông API on http://{host}:{port} — OpenAPI at /docs and /openapi.json")
    if workers > 1:  # each worker builds its own app from its environment: this process's settings, passed as env=
        command = [sys.executable, "-m", "uvicorn", "lienthong.web.app:create_app", "--factory", "--host", host,
                   "--port", str(port), "--workers", str(workers), "--log-level", "info"]
        env = {**os.environ, **get_settings().as_environment()}
        sys.stdout.flush()
        os.execve(sys.executable, command, env)  # this process becomes uvicorn's: signals and exit code are its own
    else:
        uvicorn.run(create_app(), host=host, port=port, log_level="info")


@keys_app.command("create")
def keys_create(
    scope: Annotated[list[str], typer.Option(help="push:SOURCE, read:DATASET, read:pii or admin; repeatable.")],
    name: Annotated[str | None, typer.Option(help="Who the key is for, e.g. 'HND clerk' or 'portal' (default the "
                                                  "X-Road client).")] = None,
    organisation: Annotated[str | None, typer.Option(help="Limit reads to this organisation's records.")] = None,
    expires: Annotated[float | None, typer.Option(help="Days until the key expires (default never).")] = None,
    rate: Annotated[int | None, typer.Option(help="Requests per minute (default the hub's setting).")] = None,
    xroad_client: Annotated[str | None, typer.Option(
        help="Grant the scopes to this X-Road consumer subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM, instead of making "
             "a bearer key: its requests forwarded by a configured Security Server get them (no token).")] = None,
) -> None:
    """Create an API key; the token is printed once, alone on the last line, and never stored.

    With --xroad-client, an X-Road grant instead: no token; the key id is printed on the last line.
    """
    from lienthong.hub import Hub
    from lienthong.warehouse.api_keys import create_key

    if not name and not xroad_client:
        raise typer.BadParameter("give --name (or --xroad-client for an X-Road grant)", param_hint="--name")
    new = create_key(Hub.open().engine, name=name or f"X-Road {xroad_client}", scopes=scope,
                     organisation=organisation, expires_days=expires, rate_per_minute=rate, xroad_client=xroad_client)
    k = new.key
    console.print(f"key {k.key_id} ({k.name}) scopes {', '.join(sorted(k.scopes))}"
                  + (f", organisation {k.organisation}" if k.organisation else "")
                  + (f", expires {k.expires_at:%Y-%m-%d %H:%M} UTC" if k.expires_at else ", no expiry"))
    if k.xroad_client:
        console.print(f"X-Road client {k.xroad_client} granted: its requests through a Security Server listed in "
                      "LIENTHONG_XROAD_SECURITY_SERVERS get these scopes; there is no token.")
        print(k.key_id)  # for `keys revoke`
        return
    console.print("The token is shown only now; store it safely:", style="yellow")
    print(new.token)  # plain print: no wrapping or markup, alone on the last line for scripts


@keys_app.command("list")
def keys_list() -> None:
    """Every key (never the tokens): scopes, organisation, expiry, revoked."""
    from lienthong.hub import Hub
    from lienthong.warehouse.api_keys import list_keys

    table = Table("id", "name", "scopes", "organisation", "X-Road client", "created", "expires", "state")
    now = datetime.now(UTC)
    for k in list_keys(Hub.open().engine):
        state = "[red]revoked[/]" if k.revoked else "[red]expired[/]" if k.expired(now) else "[green]active[/]"
        table.add_row(k.key_id, k.name, " ".join(sorted(k.scopes)), k.organisation or "", k.xroad_client or "",
                      f"{k.created_at:%Y-%m-%d}", f"{k.expires_at:%Y-%m-%d}" if k.expires_at else "never", state)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (see `keys list`).")]) -> None:
    """Revoke a key for good."""
    from lienthong.hub import Hub
    from lienthong.warehouse.api_keys import revoke_key

    if not revoke_key(Hub.open().engine, key_id):
        console.print(f"[red]no key {key_id}[/]")
        raise typer.Exit(1)
    console.print(f"key {key_id} revoked")


def audit(
    actor: Annotated[str | None, typer.Option(help="Part of the actor, e.g. a key id.")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. records.read, batch.push, rejects.read.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    days: Annotated[float | None, typer.Option(help="Only the last N days.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 100,
) -> None:
    """Who read or wrote which personal data, when (the append-only audit log), newest first."""
    import json

    from lienthong.hub import Hub
    from lienthong.warehouse.audit import AuditQuery, query_audit

    since = datetime.now(UTC) - timedelta(days=days) if days else None
    entries = query_audit(Hub.open().engine, AuditQuery(actor=actor, action=action, dataset=dataset, since=since,
                                                        limit=limit))
    table = Table("when (UTC)", "actor", "action", "dataset", "records", "detail", title="Audit log",
                  title_justify="left")
    for e in entries:
        detail = {k: v for k, v in e["detail"].items() if v not in (None, [], {}, "")}
        table.add_row(f"{e['at']:%Y-%m-%d %H:%M:%S}", e["actor"], e["action"], e["dataset"] or "", str(e["records"]),
                      json.dumps(detail, ensure_ascii=False))
    console.print(table)


@gateway_app.command("push")
def gateway_push(
    dataset: Annotated[str, typer.Argument(help="The published dataset, e.g. members.")],
    url: Annotated[str, typer.Option(help="The gateway API that receives the changes (POST, JSON).")],
    token_url: Annotated[str, typer.Option(help="The gateway's token endpoint.")],
    app_name: Annotated[str, typer.Option(help="The application (connection account) the gateway issued.")],
    access_key_env: Annotated[str, typer.Option(help="Environment variable holding the access key.")],
    secret_key_env: Annotated[str, typer.Option(help="Environment variable holding the secret key.")],
    style: Annotated[str, typer.Option(help="Token request: client_credentials (OAuth 2) or json.")] = (
        "client_credentials"),
    since: Annotated[str | None, typer.Option(help="Push what changed after this cursor (the `next` printed by the "
                                                   "previous push); default everything.")] = None,
    page_size: Annotated[int, typer.Option(help="Records per POST.")] = 500,
    pii: Annotated[bool, typer.Option(help="Send direct identifiers in the clear (else withheld or pseudonymised, "
                                           "as for a key without read:pii).")] = False,
) -> None:
    """Post the records of DATASET changed since a cursor to a gateway API, with its token handling; prints the
    cursor to pass as --since next time. Exit 1 when the gateway refused or kept failing (the cursor printed is
    that of the last page it acknowledged)."""
    from connectors.gateway import GatewayClient, GatewayToken
    from lienthong.cli.console import show_error
    from lienthong.gateway_push import PushFailed, push_changes
    from lienthong.hub import Hub

    token = GatewayToken(url=token_url, app_name=app_name, access_key_env=access_key_env,
                         secret_key_env=secret_key_env, style=style)
    client = GatewayClient(token, name=f"gateway push {dataset}")
    try:
        result = push_changes(Hub.open(), dataset, client, url, since=since, page_size=page_size, pii=pii)
    except PushFailed as exc:
        show_error(exc)
        print(f"next cursor: {exc.acknowledged or ''}")
        raise typer.Exit(1) from None
    finally:
        client.close()
    console.print(f"{result.records} records of {dataset} pushed in {result.pages} pages to {url}")
    print(f"next cursor: {result.next or ''}")


@bench_app.command("api")
def bench_api(
    rows: Annotated[int, typer.Option(help="Published records to pull in full.")] = 1_000_000,
    clients: Annotated[int, typer.Option(help="Concurrent clients for the page latency.")] = 50,
    requests_per_client: Annotated[int, typer.Option(help="Pages each client asks for.")] = 20,
    out: Annotated[Path, typer.Option(help="Where to write the figures.")] = BENCHMARKS,
    workers: Annotated[int, typer.Option(help="Server worker processes.")] = 1,
    mixed_seconds: Annotated[float, typer.Option(help="Mixed load: seconds of readers + pushers (0: skip).")] = 60,
    pushers: Annotated[int, typer.Option(help="Mixed load: clerks pushing feeds.")] = 5,
    push_rows: Annotated[int, typer.Option(help="Mixed load: rows of each pushed feed.")] = 500,
    push_every: Annotated[float, typer.Option(help="Mixed load: seconds between a clerk's pushes.")] = 5.0,
    read_every: Annotated[float, typer.Option(help="Mixed load: seconds between a reader's pages.")] = 1.0,
    processing_workers: Annotated[int | None, typer.Option(
        help="The server's processing worker processes (0: one thread, as before; default the setting).")] = None,
    only_mixed: Annotated[bool, typer.Option(help="Only the mixed-load figure (docs/BENCHMARKS.md untouched).")]
    = False,
) -> None:
    """Full pull of ROWS records (records/s per format), p50/p99 of 1,000-record pages under CLIENTS clients, and
    p50/p99 of reads while PUSHERS push feeds, with the time until every pushed batch is final."""
    from lienthong.bench.api import run_api_bench

    run_api_bench(rows=rows, clients=clients, requests_per_client=requests_per_client, out=out, workers=workers,
                  mixed_seconds=mixed_seconds, pushers=pushers, push_rows=push_rows, push_every_s=push_every,
                  read_every_s=read_every,
                  processing_workers=processing_workers, only_mixed=only_mixed)
