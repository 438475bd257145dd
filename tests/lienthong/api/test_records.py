"""Pulling records: cursor sync across changes and deletions, streamed CSV/NDJSON, and the audit log."""

from __future__ import annotations

import csv
import io
import json
import time
import tracemalloc
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, text

from lienthong.warehouse.audit import AuditQuery, query_audit
from lienthong.warehouse.tables import PUBLISHED, publication
from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import GOOD_ROWS, members_csv

pytestmark = pytest.mark.integration
RECORDS = "/api/v1/datasets/members/records"
UPLOAD = "/api/v1/feeds/hlhpn_push/batches"
FIVE = [
    GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[2],
    "HV007;Đặng Thị Yến;Nữ;03/03/1993;;0988000111;Kinh;Không;00070;;Chi hội 3;;active",
    "HV008;Bùi Thị Hương;Nữ;04/04/1994;;0988000222;Kinh;Không;00070;;Chi hội 3;;active",
]


def _push(c, rows: list[str]) -> None:  # noqa: ANN001 - an httpx client
    c.post(UPLOAD, content=members_csv(rows).encode(), params={"wait": "true"},
           headers={"Content-Type": "text/csv"}).raise_for_status()


def _delete(server: Server, record_key: str) -> None:
    """What a deletion will look like once the hub publishes them: a new publication marks the row deleted.

    The hub has no deletion path yet (sources only add and change records), so the test writes the row as the
    publisher would: deleted, version + 1, the new publication's seq.
    """
    now = datetime.now(UTC)
    with server.hub.engine.begin() as conn:
        seq = conn.execute(insert(publication).values(dataset="members", published_at=now, batch_ids=[],
                                                      rows_inserted=0, rows_updated=1)
                           .returning(publication.c.seq)).scalar_one()
        pub = PUBLISHED["members"]
        conn.execute(pub.update().where(pub.c.record_key == record_key)
                     .values(deleted=True, version=pub.c.version + 1, published_seq=seq, updated_at=now))


def test_cursor_sync_with_changes_and_deletions(server: Server) -> None:
    with server.client("admin") as c:
        _push(c, FIVE)
        page1 = c.get(RECORDS, params={"limit": 2}).json()
        assert [r["member_id"] for r in page1["records"]] == ["HV001", "HV002"] and page1["has_more"]

        # between pages: HV001 (already read) changes, HV004 is new, HV008 (not yet read) is deleted
        changed = FIVE[0].replace("Số 1 Hàng Bạc", "Số 9 Hàng Bạc")
        _push(c, [changed, "HV004;Phạm Thị Hạnh;Nữ;01/01/1990;;;Kinh;Không;00070;;Chi hội 1;;active"])
        _delete(server, "hlhpn_push:HV008")

        seen, cursor = [], page1["next"]
        while True:
            page = c.get(RECORDS, params={"limit": 2, "since": cursor}).json()
            seen += page["records"]
            cursor = page["next"]
            if not page["has_more"]:
                break
        keys = [(r["member_id"] if not r["deleted"] else r["record_key"], r["version"]) for r in seen]
        # HV003, HV007 from the first publication; HV001 v2 and HV004 from the second; HV008's tombstone last
        assert keys == [("HV003", 1), ("HV007", 1), ("HV001", 2), ("HV004", 1), ("hlhpn_push:HV008", 2)]
        tombstone = seen[-1]
        assert tombstone["deleted"] and "full_name" not in tombstone and "member_id" not in tombstone
        assert next(r for r in seen if r.get("member_id") == "HV001")["address"] == "Số 9 Hàng Bạc"

        # nothing new: the same cursor comes back, with nothing after it
        idle = c.get(RECORDS, params={"since": cursor}).json()
        assert idle["records"] == [] and idle["next"] == cursor and not idle["has_more"]
        # a full pull without a cursor shows the live records only
        live = c.get(RECORDS).json()["records"]
        assert sorted(r["member_id"] for r in live) == ["HV001", "HV002", "HV003", "HV004", "HV007"]
        assert c.get(RECORDS, params={"since": "not-a-cursor!"}).json()["error"] == "invalid_cursor"


def test_csv_and_ndjson_match_json(server: Server) -> None:
    with server.client("hlhpn") as c:
        _push(c, FIVE)
    with server.client("portal") as c:
        as_json = c.get(RECORDS).json()["records"]
        as_csv = list(csv.DictReader(io.StringIO(c.get(RECORDS, params={"format": "csv"}).text.lstrip("\ufeff"))))
        nd = c.get(RECORDS, headers={"Accept": "application/x-ndjson"})
        assert nd.headers["x-pseudonymised-fields"] == "id_number,phone"
        assert nd.headers["x-withheld-fields"] == "full_name,family_name,middle_name,given_name,address"
        as_nd = [json.loads(line) for line in nd.text.splitlines()]
    assert [r["record_key"] for r in as_csv] == [r["record_key"] for r in as_json] == [r["record_key"] for r in as_nd]
    assert as_nd == as_json
    assert "full_name" not in as_csv[0] and as_csv[0]["phone"] == as_json[0]["phone"]


def _load_many(server: Server, n: int, start: int = 0) -> None:
    """n published members written straight into pub_members by COPY (the pipeline is not what is tested here)."""
    now = datetime.now(UTC)
    with server.hub.engine.begin() as conn:
        seq = conn.execute(insert(publication).values(dataset="members", published_at=now, batch_ids=[],
                                                      rows_inserted=n, rows_updated=0)
                           .returning(publication.c.seq)).scalar_one()
        cur = conn.connection.driver_connection.cursor()
        cols = ("record_key, source_id, batch_id, row_no, member_id, full_name, id_number, phone, organisation, "
                "ward_code, version, published_seq, updated_at, deleted")
        with cur.copy(f"COPY pub_members ({cols}) FROM STDIN") as copy:
            for i in range(start, start + n):
                copy.write_row((f"hlhpn_push:M{i:07d}", "hlhpn_push", "bload", i, f"M{i:07d}",
                                f"Nguyễn Văn Số {i}", f"{1000000000 + i:012d}", f"09{i:08d}", "HLHPN", "00070",
                                1, seq, now, False))


def _stream_csv(server: Server) -> tuple[int, int, int, int]:
    """(lines, chunks, bytes, peak bytes traced in this process — server and client — while streaming)."""
    lines, chunks, size = 0, 0, 0
    tracemalloc.start()
    try:
        with server.client("admin") as c, c.stream("GET", RECORDS, params={"format": "csv"}) as r:
            assert r.status_code == 200 and "content-length" not in r.headers  # chunked, not built whole
            for chunk in r.iter_bytes():
                chunks += 1
                size += len(chunk)
                lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, chunks, size, peak


def test_streaming_a_large_csv_holds_one_chunk_at_a_time(server: Server) -> None:
    _load_many(server, 25_000)
    lines, chunks, size, peak = _stream_csv(server)
    assert lines == 25_001 and chunks > 1
    _load_many(server, 50_000, start=25_000)
    lines3, _, size3, peak3 = _stream_csv(server)
    assert lines3 == 75_001 and size3 > 2.5 * size
    # three times the records, not three times the memory: what is held is one chunk, whatever the size
    assert peak3 < 1.5 * peak, (peak, peak3)
    entries = query_audit(server.hub.engine, AuditQuery(action="records.read"))
    assert entries[0]["records"] == 75_000 and entries[0]["detail"]["complete"]
    assert entries[0]["detail"]["format"] == "csv"


def test_audit_log(server: Server) -> None:
    with server.client("hlhpn") as c:
        _push(c, FIVE)
    with server.client("portal") as c:
        c.get(RECORDS, params={"limit": 2, "ward_code": "00070"}).raise_for_status()
    with server.client("hnd") as c:
        c.get(RECORDS, params={"format": "ndjson"}).raise_for_status()
    entries = query_audit(server.hub.engine)
    by_action = {(e["action"], e["actor"].split(" ")[1]): e for e in entries}
    push = by_action[("batch.push", "(hlhpn)")]
    assert push["records"] == 5 and push["detail"]["source_id"] == "hlhpn_push" and push["dataset"] == "members"
    assert push["detail"]["agency_id"] == server.hub.sources["hlhpn_push"].agency_id  # the source's (QĐ 20/2020)
    portal = by_action[("records.read", "(portal)")]
    assert portal["records"] == 2 and portal["detail"]["filters"] == {"ward_code": "00070"}
    assert portal["detail"]["pseudonymised"] == ["id_number", "phone"]
    hnd = by_action[("records.read", "(hnd)")]
    assert hnd["records"] == 0 and hnd["detail"]["organisation"] == "HND" and hnd["detail"]["complete"]

    # append-only, by the database itself
    with pytest.raises(Exception, match="append-only"), server.hub.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_an_interrupted_stream_is_audited_with_what_was_sent(server: Server) -> None:
    _load_many(server, 30_000)
    with server.client("admin") as c, c.stream("GET", RECORDS, params={"format": "ndjson"}) as r:
        next(r.iter_bytes())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        entries = query_audit(server.hub.engine, AuditQuery(action="records.read"))
        if entries:
            break
        time.sleep(0.2)
    assert entries and not entries[0]["detail"]["complete"] and 0 < entries[0]["records"] < 30_000
