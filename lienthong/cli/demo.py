"""`lienthong demo`: the main job on bundled, deterministic demo sources, end to end.

It writes the demo sources under ``$LIENTHONG_HOME/demo`` (a Farmers' Union file drop, a Youth Union database,
feedback and relief files), serves the Women's Union records from a simulated REST API on 127.0.0.1 with a
bearer token made up for this run, initialises the warehouse, syncs every registered source, publishes, and
writes the quality report and the open-data files.
"""

from __future__ import annotations

import os
import secrets

from lienthong.cli.console import console
from lienthong.cli.runs import run_sources, summary_table, verification_line
from lienthong.demo.environment import prepare_demo
from lienthong.demo.member_api import serve_member_api
from lienthong.demo.population_db import register_from_people, serve_population_db
from lienthong.hub import Hub
from lienthong.settings import get_settings


def run_demo(*, seed: int = 7, scale: int = 1) -> None:
    settings = get_settings()
    home = settings.home.resolve()
    settings = settings.model_copy(update={"home": home})  # the registry's paths are ${LIENTHONG_HOME}/demo/...
    with console.status("writing the demo sources"):
        env = prepare_demo(home / "demo", seed=seed, scale=scale)
    console.print(f"demo sources written to {env.folder} ({sum(env.counts.values()):,} rows in "
                  f"{len(env.counts)} sources)")
    token = secrets.token_urlsafe(24)  # a secret for this run only, handed over as every secret: by variable name
    register = register_from_people(env.truth_files["people"], seed=seed)
    with serve_member_api(env.api_records, token=token) as api, serve_population_db(register) as population:
        settings = settings.model_copy(update={"source_variables": {
            **settings.source_variables, "LIENTHONG_DEMO_API_URL": api.url,
            "LIENTHONG_POPULATION_URL": population.gateway.url, "LIENTHONG_POPULATION_VERIFY": "true"}})
        os.environ["LIENTHONG_DEMO_API_TOKEN"] = token  # the source's bearer token_env (tests/test_layers.py)
        # the stand-in gateway's connection account for this run, handed over by variable name like every secret
        os.environ["LIENTHONG_POPULATION_ACCESS_KEY"] = population.access_key
        os.environ["LIENTHONG_POPULATION_SECRET_KEY"] = population.secret
        console.print(f"simulated Women's Union API at {api.members_url}")
        console.print(f"simulated population database ({len(register):,} citizens) behind a gateway at "
                      f"{population.verify_url}")
        hub = Hub.open(settings, require_init=False)
        hub.initialise()
        outcome = run_sources(hub, list(hub.sources.values()))
    console.print(summary_table(outcome))
    console.print(verification_line(hub))
    for pub in outcome.publications:
        if pub.seq is not None:
            console.print(f"published {pub.dataset}: {pub.rows_inserted:,} new, {pub.rows_updated:,} changed, "
                          f"{pub.rows_unchanged:,} unchanged (publication {pub.seq})")
    console.print(f"quality report: {outcome.report}")
    console.print(f"open data: {', '.join(str(p) for p in outcome.open_data)}")
    console.print(f"warehouse: {hub.engine.url.render_as_string(hide_password=True)}")
