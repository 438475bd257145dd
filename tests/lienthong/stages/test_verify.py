"""The verify stage against the stand-in population database (a real HTTP server behind the stand-in gateway) and
a real warehouse: per-field answers beside the record, flags, batching, rate limit, cache TTL, resume, the service
down (required or not), the audit entries with their purpose, and erasure with the person."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lienthong import jobs
from lienthong.demo.population_db import Citizen, serve_population_db
from lienthong.stages.verify import verify_staged
from lienthong.warehouse.audit import AuditQuery, query_audit
from lienthong.warehouse.erasure import forget
from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.tables_verify import verification
from lienthong.warehouse.verification import confirmed_keys, verification_counts
from tests.lienthong.conftest import file_source, members_csv

PURPOSE = "Xác thực thông tin hội viên khi cập nhật danh sách (thử nghiệm)"


def _citizen(id_number: str, full_name: str, dob: str, sex: str) -> Citizen:
    return Citizen(id_number=id_number, full_name=full_name, other_names=None, date_of_birth=dob, sex=sex,
                   birth_registration_place=id_number[:3], home_town="00070", ethnicity="01", religion=None,
                   nationality="VN", blood_type="O", permanent_residence="Số 1 Hàng Bạc, 00070",
                   temporary_residence=None, current_residence="Số 1 Hàng Bạc, 00070",
                   relationship_to_head="Chủ hộ", head_of_household_id=None)


def _cccd(i: int) -> str:
    return f"0011850{i:05d}"


def _rows(n: int) -> list[str]:
    """``n`` members born 1985, women, CCCD 0011850xxxxx (consistent: century+sex 1 = woman born 19xx)."""
    return [f"HV{i:03d};Nguyễn Thị Lan {chr(65 + i % 26)};Nữ;01/02/1985;{_cccd(i)};0912345678;Kinh;Không;00070;"
            f";Chi hội 1;01/01/2010;active" for i in range(n)]


def _register(n: int) -> dict[str, Citizen]:
    """Everyone of :func:`_rows` agrees, except: #1 born another day, #2 a misspelt name, #3 a man, #4 unknown."""
    out = {}
    for i in range(n):
        name, dob, sex = f"Nguyễn Thị Lan {chr(65 + i % 26)}", "1985-02-01", "female"
        if i == 1:
            dob = "1985-03-01"
        if i == 2:
            name = "Nguyễn Thị Lann B"
        if i == 3:
            sex = "male"
        if i != 4:
            out[_cccd(i)] = _citizen(_cccd(i), name, dob, sex)
    return out


@pytest.fixture
def population(monkeypatch: pytest.MonkeyPatch):
    with serve_population_db(_register(250)) as endpoint:
        monkeypatch.setenv("TEST_DANCU_KEY", endpoint.access_key)
        monkeypatch.setenv("TEST_DANCU_SECRET", endpoint.secret)
        yield endpoint


def _source(folder: Path, endpoint, **verify) -> dict:
    config = {"service": "population", "purpose": PURPOSE, "url": endpoint.verify_url, "max_retries": 2,
              "backoff_s": 0.05, "token": {"url": endpoint.token_url, "app_name": endpoint.app_name,
                                           "access_key_env": "TEST_DANCU_KEY", "secret_key_env": "TEST_DANCU_SECRET"},
              **verify}
    return file_source(folder, verify=config)


def _sync(hub, actor: str = "cli:tester") -> list:
    problems: list = []
    runs = jobs.sync_sources(hub, list(hub.sources.values()))
    from lienthong.pipeline import publish_all

    publish_all(hub, [r.dataset for r in runs], actor=actor, problems=problems)
    return problems


def _published(hub) -> dict[str, dict]:
    pub = PUBLISHED["members"]
    with hub.engine.connect() as conn:
        return {r["member_id"]: dict(r) for r in conn.execute(select(pub)).mappings()}


def _results(hub) -> dict[str, dict]:
    with hub.engine.connect() as conn:
        return {r["record_key"]: dict(r) for r in conn.execute(select(verification)).mappings()}


def test_each_field_is_answered_beside_the_record_and_flagged_without_changing_it(
        make_hub, warehouse_url: str, tmp_path: Path, population) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(_rows(6) + [
        "HV900;Lê Văn Cũ;Nam;01/02/1960;012345678;;Kinh;Không;00070;;Chi hội 1;;active"]), encoding="utf-8")
    hub = make_hub([_source(drop, population)], url=warehouse_url)
    assert _sync(hub) == []

    results = _results(hub)
    assert len(results) == 6, "the 9-digit CMND is not asked"
    assert results["hlhpn_files:HV001"]["date_of_birth_result"] == "mismatch"
    assert results["hlhpn_files:HV002"]["full_name_result"] == "mismatch"
    assert results["hlhpn_files:HV003"]["sex_result"] == "mismatch"
    assert results["hlhpn_files:HV004"]["status"] == "not_found"
    assert {results["hlhpn_files:HV000"][f"{f}_result"] for f in ("id_number", "full_name", "date_of_birth",
                                                                   "sex")} == {"match"}
    # nothing of the register is stored: only the words, the purpose, the query's id and times
    assert set(verification.c.keys()) == {
        "dataset", "record_key", "source_id", "asked_sha256", "status", "id_number_result", "full_name_result",
        "date_of_birth_result", "sex_result", "purpose", "request_id", "asked_at", "expires_at"}

    published = _published(hub)
    assert published["HV001"]["date_of_birth"].isoformat() == "1985-02-01", "what the organisation sent stays"
    assert "population_date_of_birth_mismatch" in published["HV001"]["issues"]
    assert "population_full_name_mismatch" in published["HV002"]["issues"]
    assert "population_sex_mismatch" in published["HV003"]["issues"]
    assert "population_id_not_found" in published["HV004"]["issues"]
    assert "population" not in (published["HV000"]["issues"] or "")
    assert verification_counts(hub.engine)["hlhpn_files"] == {
        "verified": 6, "match": 2, "mismatch": 3, "not_found": 1, "full_name_mismatch": 1,
        "date_of_birth_mismatch": 1, "sex_mismatch": 1}
    assert confirmed_keys(hub.engine, "members") == {"hlhpn_files:HV000", "hlhpn_files:HV003",
                                                     "hlhpn_files:HV005"}

    entries = query_audit(hub.engine, AuditQuery(action="population.verify"))
    assert len(entries) == 1
    assert entries[0]["actor"] == "cli:tester"
    assert entries[0]["detail"]["purpose"] == PURPOSE
    assert entries[0]["records"] == 6
    assert population.db.requests[-1]["purpose"] == PURPOSE
    assert "0011850" not in str(entries[0]["detail"]), "no ID number in the audit entry"


def test_records_are_asked_in_batches_and_a_429_is_waited_out(make_hub, tmp_path: Path, population) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(_rows(250)), encoding="utf-8")
    population.db.rate_limit, population.db.rate_window_s = 2, 1.0  # the third request of a second: 429
    hub = make_hub([_source(drop, population, batch_size=50, rate_per_second=100)])
    assert _sync(hub) == []

    answered = [r for r in population.db.requests if r["status"] == 200]
    assert [r["queries"] for r in answered] == [50] * 5
    limited = [r for r in population.db.requests if r["status"] == 429]
    assert limited, "the pace allowed more than the service: it must have answered 429"
    # every 429 was waited out (Retry-After) and the query asked again: each record answered exactly once
    assert population.db.queries_answered() == 250 == len(_results(hub))
    assert len(query_audit(hub.engine, AuditQuery(action="population.verify"))) == 5


def test_an_unchanged_record_is_not_asked_again_within_the_ttl(make_hub, tmp_path: Path, population) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(_rows(3)), encoding="utf-8")
    hub = make_hub([_source(drop, population, ttl_days=30)])
    assert _sync(hub) == []
    assert population.db.queries_answered() == 3

    # the same three again and one changed (a new file): only the changed one is asked
    changed = _rows(3)
    changed[2] = changed[2].replace("Nguyễn Thị Lan C", "Nguyễn Thị Lan Cc")
    (drop / "b.csv").write_text(members_csv(changed), encoding="utf-8")
    assert _sync(hub) == []
    assert population.db.queries_answered() == 4
    assert "population_full_name_mismatch" in _published(hub)["HV002"]["issues"]

    # past the TTL the unchanged records are asked again
    (drop / "c.csv").write_text(members_csv(_rows(3)[::-1]), encoding="utf-8")  # same rows, another file
    jobs.sync_sources(hub, list(hub.sources.values()))
    later = datetime.now(UTC) + timedelta(days=31)
    (result,) = verify_staged(hub.engine, "members", list(hub.sources.values()), actor="cli:tester", now=later)
    assert (result.asked, result.cached) == (3, 0)
    assert population.db.queries_answered() == 7


def test_a_run_stopped_midway_resumes_without_asking_answered_records_again(
        make_hub, warehouse_url: str, tmp_path: Path, population) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(_rows(10)), encoding="utf-8")
    population.db.fail_after = 2  # the service dies after two requests of the run
    hub = make_hub([_source(drop, population, batch_size=3, required=True)], url=warehouse_url)
    problems = _sync(hub)
    assert len(problems) == 1 and "stay staged" in problems[0].message
    assert "Cơ sở dữ liệu quốc gia về dân cư" in problems[0].message_vi
    assert len(_results(hub)) == 6, "the two answered requests are kept"
    assert _published(hub) == {}, "required: nothing published unverified"

    population.db.fail_after = None
    assert _sync(hub) == []
    asked = [r["queries"] for r in population.db.requests if r["status"] == 200]
    assert asked == [3, 3, 3, 1], "the rest only: 4 records in two requests"
    assert len(_published(hub)) == 10
    assert len(_results(hub)) == 10


def test_the_service_down_publishes_unverified_unless_the_source_requires_it(
        make_hub, tmp_path: Path, population) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(_rows(3)), encoding="utf-8")
    population.db.down = True
    hub = make_hub([_source(drop, population, required=False)])
    problems = _sync(hub)
    assert len(problems) == 1
    assert "could not ask the population database" in problems[0].message
    assert "published without verification" in problems[0].message
    assert "vẫn được công bố" in problems[0].message_vi
    assert len(_published(hub)) == 3
    assert _results(hub) == {}

    # back up: the next run asks about what was published unverified and flags it in place, as a publication
    population.db.down = False
    versions = {k: r["version"] for k, r in _published(hub).items()}
    assert _sync(hub) == []
    assert len(_results(hub)) == 3
    published = _published(hub)
    assert "population_date_of_birth_mismatch" in published["HV001"]["issues"]
    assert published["HV001"]["version"] == versions["HV001"] + 1
    assert published["HV000"]["version"] == versions["HV000"], "nothing to flag: not republished"
    assert _sync(hub) == [] and population.db.queries_answered() == 3, "answered: not asked again"


def test_a_verified_person_is_forgotten_with_their_results(make_hub, tmp_path: Path, population) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(_rows(3)), encoding="utf-8")
    hub = make_hub([_source(drop, population)])
    assert _sync(hub) == []
    erasure = forget(hub.engine, _cccd(1), sources=hub.sources, actor="cli:tester")
    assert set(_results(hub)) == {"hlhpn_files:HV000", "hlhpn_files:HV002"}
    (entry,) = query_audit(hub.engine, AuditQuery(action="forget"))
    assert entry["detail"]["verification"] == 1
    assert _cccd(1) not in str(entry["detail"])
    assert erasure.verification == {"members": 1}


def test_a_sync_killed_midway_resumes_without_asking_answered_records_again(
        make_hub, tmp_path: Path, population) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(members_csv(_rows(10)), encoding="utf-8")
    hub = make_hub([_source(drop, population, batch_size=3, required=True)])
    population.db.stall_after = 2  # the third request hangs: the sync is killed while it waits
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_HOME=str(hub.settings.home), LIENTHONG_DATABASE_URL=hub.settings.warehouse_url,
               LIENTHONG_SOURCES_DIR=str(hub.settings.sources_dir))
    sync = subprocess.Popen([sys.executable, "-m", "lienthong.cli", "sync"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert population.db.stalled.wait(timeout=300), "the sync never reached the third request"
        sync.send_signal(signal.SIGKILL)
        sync.wait(timeout=60)
    finally:
        population.db.release.set()
        if sync.poll() is None:
            sync.kill()
    assert len(_results(hub)) == 6, "the two answered requests were stored before the kill"
    assert len(query_audit(hub.engine, AuditQuery(action="population.verify"))) == 2
    assert _published(hub) == {}

    population.db.stall_after = None
    deadline = time.monotonic() + 60
    while len(population.db.requests) < 3 and time.monotonic() < deadline:  # the held request, answered to no one
        time.sleep(0.05)
    before = len(population.db.requests)
    assert _sync(hub) == []
    assert [r["queries"] for r in population.db.requests[before:]] == [3, 1], "only the four never answered"
    assert len(_published(hub)) == 10 and len(_results(hub)) == 10
    assert len(query_audit(hub.engine, AuditQuery(action="population.verify"))) == 4
