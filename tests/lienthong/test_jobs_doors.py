"""One job, whichever door the feed comes through (issue 13, part 1).

The same feed — one person registered twice under two member ids, and a few others — goes through each door into
a fresh warehouse: ``lienthong sync`` of a files source (``run_sources``, what the command runs), the Airflow task
bodies called one after the other as the DAGs would, a push to a real ``lienthong serve``, and a web upload. Each
must end with the same published rows, the same entities (both records of the person in one), a quality report
and an open-data release (none existed before). Plus the single-flight queue that keeps a burst of pushes from
running one full match each.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select

from lienthong.api.processing import AfterPublishQueue
from lienthong.hub import Hub
from lienthong.settings import Settings
from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.tables_match import match_link
from tests.conftest import new_database
from tests.lienthong.conftest import HEADER, file_source

SOURCE = "hnd_push"  # the same source id at every door, so record keys (and entity ids) can be compared
TWICE = ("HV001", "HV101")  # one person, registered twice
ROWS = [
    "HV001;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 1;"
    "01/01/2010;active",
    "HV101;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 2;"
    "01/01/2012;active",
    "HV002;Trần Văn Bình;Nam;15/07/1990;001090054321;0987654321;Kinh;Không;00070;Số 5 Hàng Đào;Chi hội 1;"
    "01/03/2015;active",
    "HV003;Lê Thị Mai;Nữ;20/11/1978;;0903111222;Kinh;Không;00070;Số 9 Hàng Ngang;Chi hội 3;01/05/2001;active",
    "HV004;Phạm Quốc Huy;Nam;03/03/2000;001200098765;0911000111;Kinh;Không;00070;Số 2 Hàng Gai;Chi hội 2;"
    "01/09/2020;active",
]
FEED = ("\n".join([HEADER, *ROWS]) + "\n").encode("utf-8")


def _state(engine: Engine) -> tuple[dict, dict]:
    """(published rows by record key, entity id by record key) of the warehouse."""
    table = PUBLISHED["members"]
    fields = ("member_id", "full_name", "id_number", "phone", "ward_code", "organisation", "deleted")
    with engine.connect() as conn:
        rows = {r[0]: tuple(r[1:]) for r in conn.execute(select(table.c.record_key, *[table.c[f] for f in fields]))}
        links = dict(conn.execute(select(match_link.c.record_key, match_link.c.entity_id)).all())
    return rows, links


def _check(home: Path, engine: Engine) -> tuple[dict, dict]:
    rows, links = _state(engine)
    assert len(rows) == len(ROWS) and set(links) == set(rows)
    person = {links[f"{SOURCE}:{m}"] for m in TWICE}
    assert len(person) == 1, "the person registered twice is one entity"
    assert len(set(links.values())) == len(ROWS) - 1
    assert list((home / "reports").glob("quality-*.html")), "the quality report was written"
    assert (home / "open-data" / "datapackage.json").exists(), "the open-data release was written"
    return rows, links


def _registry(tmp_path: Path, connector: dict) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir(exist_ok=True)
    source = file_source(tmp_path / "drop", SOURCE, organisation="HND", constants={"organisation": "HND"},
                         connector=connector)
    (folder / f"{SOURCE}.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    return folder


def _files_hub(tmp_path: Path, url: str) -> Hub:
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    (drop / "danh_sach.csv").write_bytes(FEED)
    sources = _registry(tmp_path, {"type": "files", "path": str(drop), "pattern": "*.csv"})
    hub = Hub.open(Settings(home=tmp_path / "home", database_url=url, sources_dir=sources), require_init=False)
    hub.initialise()
    return hub


def _door_cli(tmp_path: Path, url: str) -> tuple[dict, dict]:
    from lienthong.cli.runs import run_sources

    hub = _files_hub(tmp_path, url)
    assert not (hub.settings.home / "open-data").exists()
    outcome = run_sources(hub, list(hub.sources.values()))
    assert outcome.exit_code == 0, outcome.problems
    try:
        return _check(hub.settings.home, hub.engine)
    finally:
        hub.engine.dispose()


def _door_airflow(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    from lienthong.orchestration import tasks
    from lienthong.settings import get_settings

    hub = _files_hub(tmp_path, url)
    monkeypatch.setenv("LIENTHONG_HOME", str(hub.settings.home))
    monkeypatch.setenv("LIENTHONG_DATABASE_URL", url)
    monkeypatch.setenv("LIENTHONG_SOURCES_DIR", str(hub.settings.sources_dir))
    get_settings.cache_clear()
    try:  # sync__hnd_push, then publish__members, then open_data: each task one call
        landing = tasks.extract_and_land(SOURCE)
        processed = tasks.process(SOURCE)
        tasks.commit_cursor(SOURCE, landing["cursor"])
        tasks.report_problems(SOURCE, landing, processed)
        publication = tasks.publish("members")
        assert publication["batches"] == 1 and publication["batch_ids"] == landing["batch_ids"]
        tasks.match("members")
        assert tasks.quality_report("members", publication)["report"]
        assert tasks.open_data()
        return _check(hub.settings.home, hub.engine)
    finally:
        get_settings.cache_clear()
        hub.engine.dispose()


def _wait_matched(engine: Engine, n: int) -> None:
    """Until the after-publish job (run by the server's workers after the response) linked ``n`` records."""
    deadline = time.monotonic() + 300  # only stops a hang
    while time.monotonic() < deadline:
        if len(_state(engine)[1]) >= n:
            return
        time.sleep(0.3)
    pytest.fail("the pushed batch was never matched")


def _door_api(tmp_path: Path, url: str) -> tuple[dict, dict]:
    from tests.lienthong.api.served import serve

    with serve(url, tmp_path, LIENTHONG_API_AFTER_PUBLISH="true") as server:
        from lienthong.warehouse.api_keys import create_key

        server.tokens["hnd"] = create_key(server.hub.engine, name="hnd", scopes=[f"push:{SOURCE}"],
                                          organisation="HND").token
        with server.client("hnd", **{"Content-Type": "text/csv"}) as c:
            r = c.post(f"/api/v1/feeds/{SOURCE}/batches?filename=danh_sach.csv", content=FEED)
            assert r.status_code == 201, r.text
        server.wait_final(SOURCE, {r.json()["batch_id"]})
        _wait_matched(server.hub.engine, len(ROWS))
        home = tmp_path / "home"
        deadline = time.monotonic() + 120
        while not (home / "open-data" / "datapackage.json").exists() and time.monotonic() < deadline:
            time.sleep(0.3)  # the release is the job's last step
        return _check(home, server.hub.engine)


@pytest.mark.integration
def test_every_door_runs_the_same_job_on_the_same_feed(pg_url: str, tmp_path_factory: pytest.TempPathFactory,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cli = _door_cli(tmp_path_factory.mktemp("cli"), pg_url)
    with new_database() as url:
        airflow = _door_airflow(tmp_path_factory.mktemp("airflow"), url, monkeypatch)
    with new_database() as url:
        api = _door_api(tmp_path_factory.mktemp("api"), url)
    assert cli == airflow == api


def test_a_web_upload_is_matched_reported_and_released_after_it_is_published(make_hub, tmp_path: Path) -> None:
    from tests.lienthong.web.conftest import Site
    from tests.lienthong.web.test_pages import send, wait_published

    sources = [file_source(tmp_path, SOURCE, organisation="HND", constants={"organisation": "HND"},
                           connector={"type": "push"})]
    site = Site(make_hub(sources))
    site.key("hnd", f"push:{SOURCE}", organisation="HND")
    c = site.client("hnd")
    try:
        r = send(c, SOURCE, FEED)
        assert r.status_code == 303, r.text
        wait_published(c, r.headers["location"])
        queue = c.app.state.context.processing.after_publish
        assert queue.wait_idle(300) and "error" not in (queue.last or {}), queue.last
        assert not queue.last["problems"]
        rows, links = _check(site.hub.settings.home, site.hub.engine)
        assert rows[f"{SOURCE}:HV001"][0] == "HV001"
    finally:
        c.__exit__(None, None, None)
        site.hub.engine.dispose()


def test_a_burst_of_requests_while_one_runs_collapses_into_one_follow_up_run() -> None:
    """Fifty batches published while a run is under way: one follow-up run covering all of them, not fifty."""
    started: list[tuple[list[str], list[str]]] = []
    release = threading.Event()
    futures: list[Future] = []

    def start(datasets: list[str], batch_ids: list[str]) -> Future:
        started.append((datasets, batch_ids))
        future: Future = Future()
        futures.append(future)
        if len(started) == 1:  # the first run holds until the burst has arrived
            threading.Thread(target=lambda: (release.wait(60), future.set_result({"run": 1}))).start()
        else:
            future.set_result({"run": len(started)})
        return future

    queue = AfterPublishQueue(start)
    queue.request(["members"], ["b0"])
    for i in range(1, 51):
        queue.request(["members" if i % 2 else "relief"], [f"b{i}"])
    assert len(started) == 1, "nothing more starts while a run is under way"
    release.set()
    assert queue.wait_idle(60)
    assert len(started) == 2 and queue.runs == 2 and queue.requests == 51
    datasets, batch_ids = started[1]
    assert sorted(datasets) == ["members", "relief"] and batch_ids == [f"b{i}" for i in range(1, 51)]
    queue.request(["members"], ["b51"])  # idle again: a new request runs at once
    assert queue.wait_idle(60) and len(started) == 3 and started[2] == (["members"], ["b51"])


def test_a_run_that_fails_does_not_stop_the_queue() -> None:
    calls: list[list[str]] = []

    def start(datasets: list[str], batch_ids: list[str]) -> Future:
        calls.append(batch_ids)
        future: Future = Future()
        future.set_exception(RuntimeError("match failed")) if len(calls) == 1 else future.set_result({})
        return future

    queue = AfterPublishQueue(start)
    queue.request(["members"], ["a"])
    assert queue.wait_idle(10) and queue.last == {"error": "RuntimeError: match failed"}
    queue.request(["members"], ["b"])
    assert queue.wait_idle(10) and calls == [["a"], ["b"]] and queue.last == {}



def test_the_job_says_each_step_as_it_starts(tmp_path: Path) -> None:
    """What `lienthong sync` shows while a large feed is published, matched, reported and released."""
    from lienthong import jobs

    hub = _files_hub(tmp_path, f"sqlite:///{tmp_path / 'w.db'}")
    try:
        runs = jobs.sync_sources(hub, list(hub.sources.values()))
        seen: list[str] = []
        done = jobs.after_publish(hub, ["members"], batch_ids=runs, on_step=seen.append)
        assert seen == ["publish", "match", "quality report", "open data"] == list(done.seconds)
        assert not done.problems
    finally:
        hub.engine.dispose()
