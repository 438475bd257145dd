"""On PostgreSQL the pull API's records are formatted by the database (COPY … TO STDOUT, row_to_json): the bytes
must be the generic encoders' — same records, same order, same cursors, same masking, same neutralised cells —
for every dataset, every view of a key and every query shape, whatever the values hold."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, String, insert

from lienthong.api import postgres_encoding
from lienthong.api.encoders import csv_rows, ndjson_lines
from lienthong.api.records import Cursor, View, records_query, shape, stream_rows, view_for
from lienthong.hub import Hub
from lienthong.pseudonymise import pseudonymise, token_sql
from lienthong.settings import Settings
from lienthong.spreadsheet_safety import PLAIN_NUMBER_SQL, neutralise, neutralise_sql
from lienthong.warehouse.api_keys import ApiKey, create_key
from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.tables_match import match_link
from lienthong.web.app import create_app
from schemas import CONTRACTS
from tests.lienthong.api.test_formula_injection import VALUES as FORMULAS

pytestmark = pytest.mark.integration
KEY = "test-pseudonym-key-0123456789abcdef"
TEXTS = [*FORMULAS, "-٣٤", "+１２", "=٣", 'say "hi", ok', "line\nbreak", "cr\r\nlf", "back\\slash\\\\n",
         "ctl\x01\x1f\x7f", "a\u2028b", " 0912345678 ", "\u00a00912\u3000", "Nguyễn Thị Hoà", "0", None]
STAMPS = [datetime(2026, 12, 2, 19, 53, 18, tzinfo=UTC), datetime(2026, 12, 2, 19, 53, 18, 500000, tzinfo=UTC),
          datetime(1999, 1, 1, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=7)))]


def _value(column, i: int) -> object:  # noqa: ANN001 - a SQLAlchemy column
    kind = column.type
    if isinstance(kind, DateTime):
        return STAMPS[i % len(STAMPS)]
    if isinstance(kind, Date):
        return [date(1990, 1, 2), date(5, 3, 4), None][i % 3]
    if isinstance(kind, Boolean):
        return [True, False, None][i % 3] if column.nullable else True
    if isinstance(kind, BigInteger | Integer):
        return [0, -5, 2**31 - 1, None][i % 4] if column.nullable else i
    text = TEXTS[i % len(TEXTS)]
    if text is None and not column.nullable:
        text = "x"
    length = getattr(kind, "length", None) if isinstance(kind, String) else None
    return text[:length] if text is not None and length else text


def _publish(hub: Hub, dataset: str, n: int) -> None:
    """``n`` rows in pub_<dataset>: every column takes every edge value across the rows; every 5th a tombstone,
    seqs out of key order, long non-ASCII keys (their base64 cursors wrap at 76 characters in PostgreSQL)."""
    table = PUBLISHED[dataset]
    rows = []
    for i in range(n):
        row = {c.name: _value(c, i + j) for j, c in enumerate(table.c)}
        key = f"src:{'Nguyễn' * (i % 4) * 6}{i:03d}"
        row |= {"record_key": key, "source_id": "src" if i % 2 else "other", "batch_id": "b", "row_no": i,
                "version": 1 + i % 3, "published_seq": 1 + (i * 7) % 5, "updated_at": STAMPS[i % 3],
                "deleted": i % 5 == 4}
        rows.append(row)
    with hub.engine.begin() as conn:
        conn.execute(insert(table), rows)
        conn.execute(insert(match_link), [
            {"dataset": dataset, "record_key": r["record_key"], "entity_id": f"E{i:05d}", "rule": "new", "run_id": 1,
             "linked_at": STAMPS[0]} for i, r in enumerate(rows) if i % 3 == 0])


@pytest.fixture
def hub(pg_url: str, tmp_path: Path) -> Iterator[Hub]:
    settings = Settings(home=tmp_path / "home", database_url=pg_url, sources_dir=tmp_path, pseudonym_key=KEY)
    hub = Hub.open(settings, require_init=False)
    hub.initialise()
    for dataset in CONTRACTS:
        _publish(hub, dataset, 3 * len(TEXTS))
    yield hub
    hub.engine.dispose()


def _key(*scopes: str, organisation: str | None = None) -> ApiKey:
    return ApiKey("k", "k", frozenset(scopes), organisation, None, STAMPS[0], None, False)


KEYS = {"admin": _key("admin"), "no read:pii": _key(*(f"read:{d}" for d in CONTRACTS)),
        "organisation": _key(*(f"read:{d}" for d in CONTRACTS), organisation="Nguyễn Thị Hoà")}
QUERIES = {"live": {"since": None, "filters": {}, "limit": None},
           "since, with tombstones": {"since": Cursor(0, ""), "filters": {}, "limit": None},
           "after a cursor, limited": {"since": Cursor(2, "src:M"), "filters": {}, "limit": 7}}


def _generic(conn, view: View, query, fmt: str) -> tuple[int, bytes]:  # noqa: ANN001
    columns = [*view.columns, "cursor"]
    chunks = list(stream_rows(conn, query, view, chunk=7))
    return sum(map(len, chunks)), b"".join(csv_rows(columns, c) if fmt == "csv" else ndjson_lines(c) for c in chunks)


def _first_difference(got: bytes, want: bytes) -> tuple[bytes, bytes] | None:
    return next(((g, w) for g, w in zip(got.split(b"\n"), want.split(b"\n"), strict=False) if g != w), None)


def _copied(conn, view: View, query, fmt: str) -> tuple[int, bytes]:  # noqa: ANN001
    chunks = list(postgres_encoding.copied_chunks(conn, view, query, fmt))
    return sum(n for n, _ in chunks), b"".join(b for _, b in chunks)


@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Ho_Chi_Minh", "Asia/Kolkata"])
def test_the_database_gives_the_generic_bytes(hub: Hub, time_zone: str) -> None:
    checked = 0
    for dataset in CONTRACTS:
        for key_name, key in KEYS.items():
            view = view_for(hub, key, dataset, entity_ids=True)
            if key_name == "no read:pii" and dataset == "members":
                assert view.pseudonymised == ["id_number", "phone"]
            for query_name, q in QUERIES.items():
                query = records_query(view, **q)
                with hub.engine.connect() as conn:
                    conn.exec_driver_sql(f"SET TIME ZONE '{time_zone}'")
                    assert postgres_encoding.usable(conn)
                    for fmt in ("csv", "ndjson"):
                        want, got = _generic(conn, view, query, fmt), _copied(conn, view, query, fmt)
                        assert got == want, (dataset, key_name, query_name, fmt, _first_difference(got[1], want[1]))
                    records = shape(conn.execute(query).all(), view)
                    as_json = postgres_encoding.json_rows(conn, view, query)
                    assert [c for _, c in as_json] == [r["cursor"] for r in records]
                    assert "\n".join(j for j, _ in as_json) == ndjson_lines(records).decode()[:-1]
                    checked += len(records)
    assert checked > 500


def test_a_stream_cut_short_leaves_the_transaction_usable(hub: Hub) -> None:
    view = view_for(hub, KEYS["admin"], "members")
    with hub.engine.connect() as conn, conn.begin():
        chunks = postgres_encoding.copied_chunks(conn, view, records_query(view, since=None, filters={}, limit=None),
                                                 "csv")
        next(chunks)
        chunks.close()  # the client went away: the COPY is cancelled, inside its savepoint
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_tokens_made_in_sql_are_pseudonymise_tokens(hub: Hub) -> None:
    values = ["001085012345", " 0912345678 ", "\u00a00912\u3000", "", "   ", None, "Nguyễn", "+84 912 345 678"]
    for key, key_id in ((KEY.encode(), None), (b"k" * 100, "gen2"), (b"0123456789abcdef", "=x")):
        sql, params = token_sql("v", key=key, key_id=key_id)
        with hub.engine.connect() as conn:
            cur = conn.connection.driver_connection.cursor()
            got = [cur.execute(f"SELECT {sql} FROM (SELECT %(v)s::text AS v) t", {**params, "v": v}).fetchone()[0]
                   for v in values]
        assert got == pseudonymise(values, key=key, key_id=key_id)


def test_cells_neutralised_in_sql_are_neutralise_cells(hub: Hub) -> None:
    values = [v for v in TEXTS if v is not None] + ["-١٢٣", "+٣ ٤", "-1.500.000", "+84 912 345 678\n"]
    with hub.engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        got = [cur.execute(f"SELECT {neutralise_sql('v')} FROM (SELECT %(v)s::text AS v) t",
                           {"v": v, "plain_number": PLAIN_NUMBER_SQL}).fetchone()[0] for v in values]
    assert got == [neutralise(v) for v in values]


@pytest.mark.parametrize("warehouse", ["sqlite", "postgresql"])
def test_every_format_serves_the_same_records_through_the_api(warehouse: str, tmp_path: Path,
                                                              request: pytest.FixtureRequest) -> None:
    """The door itself, on each warehouse: SQLite takes the generic path, PostgreSQL its own."""
    url = f"sqlite:///{tmp_path / 'wh.db'}" if warehouse == "sqlite" else request.getfixturevalue("pg_url")
    settings = Settings(home=tmp_path / "home", database_url=url, sources_dir=tmp_path, pseudonym_key=KEY)
    hub = Hub.open(settings, require_init=False)
    hub.initialise()
    _publish(hub, "members", 2 * len(TEXTS))
    token = create_key(hub.engine, name="portal", scopes=["read:members"]).token
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as c:
        params = {"since": Cursor(0, "").encode()}
        page = c.get("/api/v1/datasets/members/records", params=params)
        ndjson = c.get("/api/v1/datasets/members/records", params={**params, "format": "ndjson"})
        as_csv = c.get("/api/v1/datasets/members/records", params={**params, "format": "csv"})
    hub.engine.dispose()
    records = page.json()["records"]
    assert page.text == json.dumps(page.json(), ensure_ascii=False, separators=(",", ":"))  # compact, in order
    assert [json.loads(line) for line in ndjson.text.split("\n")[:-1]] == records and len(records) == 2 * len(TEXTS)
    assert page.json()["next"] == records[-1]["cursor"] and page.json()["pseudonymised"] == ["id_number", "phone"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"), newline="")))
    assert [r["cursor"] for r in rows] == [r["cursor"] for r in records]
    assert [r["phone"] for r in rows] == [neutralise(r.get("phone")) or "" for r in records]


@pytest.mark.parametrize("key_id", ["=2026", "-gen2", "+84", "@k", "plain"])
def test_a_key_id_a_spreadsheet_would_run_gives_the_generic_csv(pg_url: str, tmp_path: Path, key_id: str) -> None:
    """The database neutralises a pseudonym by its key id alone (a token is never a plain number): the cells must
    still be what :func:`neutralise` makes of each whole token."""
    settings = Settings(home=tmp_path / "home", database_url=pg_url, sources_dir=tmp_path, pseudonym_key=KEY,
                        pseudonym_key_id=key_id)
    hub = Hub.open(settings, require_init=False)
    hub.initialise()
    _publish(hub, "members", 2 * len(TEXTS))
    view = view_for(hub, KEYS["no read:pii"], "members", entity_ids=True)
    query = records_query(view, **QUERIES["since, with tombstones"])
    with hub.engine.connect() as conn:
        want, got = _generic(conn, view, query, "csv"), _copied(conn, view, query, "csv")
    hub.engine.dispose()
    assert got == want, _first_difference(got[1], want[1])
    assert (f",'{key_id}:" in got[1].decode()) == (key_id[0] in "=+-@")
