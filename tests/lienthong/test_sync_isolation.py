"""One bad file never stops a source's other files, one bad source never stops the others (issue 12, row 9).

`lienthong sync bad good`, where ``bad`` is a folder holding a file that cannot be a feed: the good source is
extracted, processed and published, the bad file is reported in one line naming the source, the file, the reason
(English and Vietnamese), and the command exits 1 at the end.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lienthong.cli.runs import run_sources
from lienthong.pipeline import land_source, process_landed, publish_all, sync_source
from lienthong.warehouse.queries import batches, published_count
from lienthong.warehouse.tables import batch as batch_t
from tests.lienthong.cli.in_process import run_cli
from tests.lienthong.conftest import GOOD_ROWS, HEADER, file_source, members_csv

# Files that cannot be a feed: the reader refuses each before anything is landed.
HOSTILE = {
    "ragged.csv": (HEADER + "\nHV001;only;three\n").encode(),
    "corrupt.xlsx": b"PK\x03\x04 this is not a workbook",
    "empty.csv": b"",
    "header_only.csv": ("\ufeff" + HEADER + "\n").encode(),
    "duplicate_header.csv": ("\ufeff" + HEADER + ";Họ và tên\n" + GOOD_ROWS[0] + ";x\n").encode(),
    "invalid.json": b"[" * 100_000,
}


def _folder(root: Path, name: str, files: dict[str, bytes]) -> Path:
    folder = root / name
    folder.mkdir()
    for file_name, content in files.items():
        (folder / file_name).write_bytes(content)
    return folder


def _landed(hub, source_id: str) -> int:
    with hub.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(batch_t).where(batch_t.c.source_id == source_id)
                            ).scalar_one()


@pytest.mark.parametrize("bad_file", list(HOSTILE))
def test_a_bad_source_does_not_stop_the_good_one(make_hub, tmp_path, bad_file):
    bad = _folder(tmp_path, "bad", {bad_file: HOSTILE[bad_file]})
    good = _folder(tmp_path, "good", {"a.csv": members_csv(GOOD_ROWS).encode()})
    hub = make_hub([file_source(bad, "bad", connector={"type": "files", "path": str(bad), "pattern": "*"}),
                    file_source(good, "good")])

    outcome = run_sources(hub, [hub.source("bad"), hub.source("good")])

    assert published_count(hub.engine, "members") == len(GOOD_ROWS)
    runs = {r.source_id: r for r in outcome.runs}
    assert runs["good"].rows_published == len(GOOD_ROWS) and not runs["good"].problems
    [problem] = outcome.problems
    assert problem.source_id == "bad" and problem.message.startswith("bad: ") and bad_file in problem.message
    assert problem.message_vi.startswith("bad: ") and problem.message_vi != problem.message
    assert "Traceback" not in problem.message and "\n" not in problem.message
    assert outcome.failed == ["bad"] and outcome.exit_code == 1


@pytest.mark.parametrize("bad_file", list(HOSTILE))
def test_a_bad_file_is_refused_before_landing_and_the_sources_other_files_go_on(make_hub, tmp_path, bad_file):
    second = [row.replace("HV00", "HV10") for row in GOOD_ROWS]
    folder = _folder(tmp_path, "drop", {"a.csv": members_csv(GOOD_ROWS).encode(), bad_file: HOSTILE[bad_file],
                                        "z.csv": members_csv(second).encode()})
    hub = make_hub([file_source(folder, connector={"type": "files", "path": str(folder), "pattern": "*"})])

    run = sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])

    assert run.batches_new == 2 and run.rows_read == 2 * len(GOOD_ROWS)
    assert published_count(hub.engine, "members") == 2 * len(GOOD_ROWS)
    [problem] = run.problems
    assert bad_file in problem.message
    assert _landed(hub, "hlhpn_files") == 2, "nothing of the bad file is landed"


def test_the_airflow_tasks_refuse_a_bad_file_and_land_process_the_others(make_hub, tmp_path):
    folder = _folder(tmp_path, "drop", {"a.csv": members_csv(GOOD_ROWS).encode(),
                                        "b.csv": HOSTILE["ragged.csv"], "c.xlsx": HOSTILE["corrupt.xlsx"]})
    hub = make_hub([file_source(folder, connector={"type": "files", "path": str(folder), "pattern": "*"})])
    source = hub.source("hlhpn_files")

    landing = land_source(hub, source)
    processed = process_landed(hub, source)

    assert sorted(p.message.split(":")[1].strip().rsplit("/", 1)[-1] for p in landing.problems) == ["b.csv", "c.xlsx"]
    assert landing.batches_new == 1 and processed.rows_valid == len(GOOD_ROWS) and not processed.problems
    assert [b["status"] for b in batches(hub.engine, source_id="hlhpn_files")] == ["staged"]


def test_sync_bad_good_from_the_command_line_exits_1_with_one_line_per_problem(make_hub, tmp_path):
    bad = _folder(tmp_path, "bad", {"ragged.csv": HOSTILE["ragged.csv"]})
    good = _folder(tmp_path, "good", {"a.csv": members_csv(GOOD_ROWS).encode()})
    sources = tmp_path / "sources"
    sources.mkdir()
    for source in (file_source(bad, "bad"), file_source(good, "good")):
        (sources / f"{source['id']}.yml").write_text(yaml.safe_dump(source, allow_unicode=True), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env.update(LIENTHONG_HOME=str(tmp_path / "home"), LIENTHONG_SOURCES_DIR=str(sources), COLUMNS="200")
    assert run_cli("init", env=env).returncode == 0  # the command's main(), in this process

    sync = run_cli("sync", "bad", "good", env=env)

    assert sync.returncode == 1, sync.stderr
    assert "Traceback" not in sync.stderr + sync.stdout
    good_row = next(line for line in sync.stdout.splitlines() if line.strip().startswith("good "))
    cells = [cell.strip() for cell in good_row.split("│")]  # source, dataset, read, quarantined, published, …
    assert cells[4] == str(len(GOOD_ROWS)), "the good source is published"
    lines = [line for line in sync.stderr.splitlines() if line.startswith("✗")]
    assert len(lines) == 1 and "bad:" in lines[0] and "ragged.csv" in lines[0] and "line 2" in lines[0]
    assert "dòng 2" in sync.stderr


def test_the_airflow_run_fails_at_its_end_naming_the_refused_file(make_hub, tmp_path, monkeypatch):
    from lienthong.errors import SourceProblems
    from lienthong.orchestration import tasks
    from lienthong.settings import get_settings

    folder = _folder(tmp_path, "drop", {"a.csv": members_csv(GOOD_ROWS).encode(), "b.csv": HOSTILE["ragged.csv"]})
    hub = make_hub([file_source(folder)])
    monkeypatch.setenv("LIENTHONG_HOME", str(hub.settings.home))
    monkeypatch.setenv("LIENTHONG_DATABASE_URL", hub.settings.warehouse_url)
    monkeypatch.setenv("LIENTHONG_SOURCES_DIR", str(hub.settings.sources_dir))
    get_settings.cache_clear()
    try:
        landing = tasks.extract_and_land("hlhpn_files")
        processed = tasks.process("hlhpn_files")
        with pytest.raises(SourceProblems) as info:
            tasks.report_problems("hlhpn_files", landing, processed)
    finally:
        get_settings.cache_clear()

    assert processed["rows_valid"] == len(GOOD_ROWS), "the good file went through before the run fails"
    assert "b.csv" in str(info.value) and "line 2" in str(info.value) and "dòng 2" in info.value.message_vi
    assert tasks.report_problems("hlhpn_files", {"problems": []}, {"problems": []}) == {
        "source_id": "hlhpn_files", "problems": 0}
