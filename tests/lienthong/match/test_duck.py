"""The match code's DuckDB spills to the system's temporary folder, never to ``.tmp`` where the hub was started."""

from __future__ import annotations

from lienthong.match import duck


def test_a_query_larger_than_memory_spills_to_the_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a clerk or a server happened to be started
    monkeypatch.setenv("TMPDIR", str(tmp_path / "system-tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    (tmp_path / "system-tmp").mkdir()
    con = duck.connect()
    try:
        assert con.execute("SELECT current_setting('temp_directory')").fetchone()[0] == str(duck.spill_folder())
        con.execute("SET memory_limit = '40MB'")
        con.execute("SELECT count(*) FROM (SELECT * FROM range(5000000) t(i) ORDER BY hash(i))").fetchone()
        spilled = [p.name for p in duck.spill_folder().iterdir()]
        assert any(name.startswith("duckdb_temp") for name in spilled), spilled
        assert not (tmp_path / ".tmp").exists()
        assert duck.spill_folder().parent == tmp_path / "system-tmp"
    finally:
        con.close()


def test_each_connection_is_capped_at_the_configured_memory():
    from lienthong.settings import Settings, use_settings

    use_settings(Settings(match_duckdb_memory_mb=300))
    try:
        con = duck.connect()
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        con.close()
    finally:
        use_settings(None)
    assert limit in {"286.1 MiB", "300.0 MB"}, limit  # DuckDB shows 300 MB in MiB
