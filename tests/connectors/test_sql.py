"""SqlConnector: config rules, keyset resumption across equal watermarks, typed values, hidden passwords."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pydantic
import pytest
import sqlalchemy as sa

from connectors.sql import SqlConfig, SqlConnector
from lienthong.errors import ConfigError, ExtractError


def _connector(**config: object) -> SqlConnector:
    return SqlConnector(SqlConfig.model_validate(config), source_id="hoi_ccb_db")


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"table": "t"}, "exactly one of url and url_env"),
        ({"url": "sqlite://", "url_env": "X", "table": "t"}, "exactly one of url and url_env"),
        ({"url": "sqlite://"}, "exactly one of table and query"),
        ({"url": "sqlite://", "table": "t", "query": "SELECT 1"}, "exactly one of table and query"),
        ({"url": "sqlite://", "table": "t", "watermark": "updated_at"}, "watermark and key go together"),
        ({"url": "postgresql://u:pw@db/x", "table": "t"}, "contains a password"),
    ],
)
def test_config_rules(config: dict, problem: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=problem) as err:
        SqlConfig.model_validate(config)

    assert "pw" not in str(err.value).replace("password", "")


def test_url_env_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOI_CCB_DB_URL", raising=False)

    with pytest.raises(ConfigError, match="environment variable HOI_CCB_DB_URL"):
        list(_connector(url_env="HOI_CCB_DB_URL", table="members").extract(None))


def _sqlite(tmp_path: Path, rows: list[dict]) -> str:
    url = f"sqlite:///{tmp_path / 'ccb.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE hoi_vien (ma INTEGER, ten TEXT, cap_nhat TEXT, so_du NUMERIC)"))
        if rows:
            conn.execute(sa.text("INSERT INTO hoi_vien VALUES (:ma, :ten, :cap_nhat, :so_du)"), rows)
    engine.dispose()
    return url


@pytest.mark.integration
def test_keyset_resumes_inside_a_run_of_equal_watermarks(tmp_path: Path) -> None:
    same = "2025-03-01 10:00:00"
    later = [f"2025-03-0{day} 00:00:00" for day in (2, 3, 4)]
    rows = [{"ma": i, "ten": f"CCB {i}", "cap_nhat": ([same] * 7 + later)[i], "so_du": i} for i in range(10)]
    url = _sqlite(tmp_path, rows[::-1])  # inserted backwards: the order comes from ORDER BY, not the table
    connector = _connector(url=url, table="hoi_vien", watermark="cap_nhat", key="ma", chunk_size=4)

    first = list(connector.extract(None))
    resumed = list(connector.extract(first[0].cursor))  # as if the run died after landing chunk 1

    assert [b.row_count for b in first] == [4, 4, 2]
    assert first[0].cursor == {"watermark": same, "key": 3}
    assert [b.origin for b in first] == [f"sql:hoi_vien rows {r}" for r in ("1–4", "5–8", "9–10")]
    assert [i for b in resumed for i in b.records.column("ma").to_pylist()] == [str(i) for i in range(4, 10)]


@pytest.mark.integration
def test_query_source(tmp_path: Path) -> None:
    url = _sqlite(tmp_path, [{"ma": 1, "ten": "An", "cap_nhat": "2025-01-01", "so_du": 2}])

    batches = list(_connector(url=url, query="SELECT ma, upper(ten) AS ten FROM hoi_vien;").extract(None))

    assert batches[0].records.to_pylist() == [{"ma": "1", "ten": "AN"}]
    assert batches[0].origin == "sql:query rows 1–1"
    assert batches[0].cursor is None


@pytest.mark.integration
def test_wrong_column_or_table_is_explained(tmp_path: Path) -> None:
    url = _sqlite(tmp_path, [])

    with pytest.raises(ExtractError, match="no such table: members; check `table`/`query`"):
        list(_connector(url=url, table="members").extract(None))
    query = "SELECT ma AS id, cap_nhat FROM hoi_vien"
    renamed = _connector(url=url, query=query, watermark="cap_nhat", key="ma")
    with pytest.raises(ExtractError, match="no such column: ma; check `table`/`query`, `watermark`"):
        list(renamed.extract(None))


@pytest.mark.integration
def test_postgres_types_become_strings_and_password_stays_hidden(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE hoi_vien (ma int PRIMARY KEY, sdt text, ngay_sinh date, cap_nhat timestamptz, "
            "so_du numeric(12, 2), the_le jsonb, hoat_dong boolean)"
        ))
        conn.execute(sa.text("INSERT INTO hoi_vien VALUES (:ma, :sdt, :ns, :cn, :sd, :tl, :hd)"), [
            {"ma": 1, "sdt": "0912345678", "ns": dt.date(1950, 5, 17), "sd": decimal.Decimal("1200.50"),
             "cn": dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC), "tl": '{"nhóm": [1, 2]}', "hd": True},
            {"ma": 2, "sdt": None, "ns": None, "sd": None, "cn": dt.datetime(2025, 3, 2, tzinfo=dt.UTC),
             "tl": None, "hd": False},
        ])
    engine.dispose()
    monkeypatch.setenv("HOI_CCB_DB_URL", pg_url)
    connector = _connector(url_env="HOI_CCB_DB_URL", table="hoi_vien", watermark="cap_nhat", key="ma")

    batches = list(connector.extract(None))
    again = list(connector.extract(batches[-1].cursor))
    twice = _connector(url_env="HOI_CCB_DB_URL", query="SELECT ma, sdt AS ma FROM hoi_vien")
    with pytest.raises(ConfigError, match="the query returns ma more than once; give them aliases"):
        list(twice.extract(None))

    assert batches[0].records.to_pylist()[0] == {
        "ma": "1", "sdt": "0912345678", "ngay_sinh": "1950-05-17", "cap_nhat": "2025-03-01T08:30:00+00:00",
        "so_du": "1200.50", "the_le": '{"nhóm": [1, 2]}', "hoat_dong": "true",
    }
    assert batches[-1].cursor == {"watermark": "2025-03-02T00:00:00+00:00", "key": 2}
    assert again == []

    secret = pg_url.replace("postgresql+psycopg://postgres@", "postgresql+psycopg://postgres:hunter2@")
    down = secret.replace(":5432/", ":1/")
    monkeypatch.setenv("HOI_CCB_DB_URL", down)
    with pytest.raises(ExtractError, match="the database is unreachable") as err:
        list(connector.extract(None))
    assert "hunter2" not in str(err.value) and "***" in str(err.value)
