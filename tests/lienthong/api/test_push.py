"""Push → status → published, idempotent re-push, and every refusal of an upload, against the real server."""

from __future__ import annotations

import csv
import io

import pytest

from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import BAD_ROWS, GOOD_ROWS, members_csv

pytestmark = pytest.mark.integration
FEED = members_csv(GOOD_ROWS + BAD_ROWS).encode("utf-8")
UPLOAD = "/api/v1/feeds/hlhpn_push/batches"


def test_push_then_status_then_published(server: Server) -> None:
    with server.client("hlhpn") as c:
        r = c.post(UPLOAD, content=FEED, headers={"Content-Type": "text/csv"}, params={"wait": "true"})
        assert r.status_code == 201, r.text
        report = r.json()
        assert r.headers["location"] == f"{UPLOAD}/{report['batch_id']}"
        assert report["status"] == "published"
        assert (report["rows_received"], report["rows_valid"], report["rows_quarantined"]) == (6, 3, 3)
        assert report["rows_published"] == 3 and report["reconciled"]
        assert [q["row"] for q in report["quarantined"]] == [5, 6, 7]  # the file's rows: the header is row 1
        reasons = report["quarantined"][0]["reasons"]
        assert reasons[0]["message_vi"] and reasons[0]["message_en"]
        assert report["quarantined"][0]["record"]["Mã hội viên"] == "HV004"  # the source's own columns

        status = c.get(f"{UPLOAD}/{report['batch_id']}")
        assert status.status_code == 200 and status.json()["status"] == "published"

        rejects = c.get(f"{UPLOAD}/{report['batch_id']}/rejects.csv")
        assert rejects.status_code == 200 and rejects.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(rejects.content.decode("utf-8-sig")), delimiter=";"))
        assert [r["Mã hội viên"] for r in rows] == ["HV004", "HV005", "HV006"]
        assert all(r["Lý do (tiếng Việt)"] and r["Reason (English)"] for r in rows)

        # the clerk fixes the rows and sends the same file back, reason columns and all
        rows[0]["Họ và tên"] = "Đỗ Thị Thu"
        rows[1]["Ngày sinh"] = "28/02/1990"
        fixed = io.StringIO()
        writer = csv.DictWriter(fixed, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows[:2])
        again = c.post(UPLOAD, content=fixed.getvalue().encode(), params={"wait": "true", "filename": "fixed.csv"})
        assert again.status_code == 201, again.text
        assert (again.json()["rows_valid"], again.json()["rows_quarantined"]) == (2, 0)

        records = c.get("/api/v1/datasets/members/records").json()["records"]
        assert sorted(r["member_id"] for r in records) == ["HV001", "HV002", "HV003", "HV004", "HV005"]


def test_repush_returns_the_same_batch(server: Server) -> None:
    with server.client("hlhpn") as c:
        first = c.post(UPLOAD, content=FEED, headers={"Content-Type": "text/csv"}, params={"wait": "true"})
        same = c.post(UPLOAD, content=FEED, headers={"Content-Type": "text/csv"})
        assert (first.status_code, same.status_code) == (201, 200)
        assert same.json()["batch_id"] == first.json()["batch_id"] and same.json()["duplicate"]

        # a retried upload with the same Idempotency-Key gets its first batch even if the client re-encoded it
        headers = {"Content-Type": "text/csv", "Idempotency-Key": "upload-2025-07-01"}
        one = c.post(UPLOAD, content=members_csv(GOOD_ROWS[:1]).encode(), headers=headers, params={"wait": "true"})
        two = c.post(UPLOAD, content=members_csv(GOOD_ROWS[:1]).replace("\n", "\r\n").encode(), headers=headers)
        assert (one.status_code, two.status_code) == (201, 200)
        assert two.json()["batch_id"] == one.json()["batch_id"]
    # ... and the same key for another source is a conflict, not a silent mix-up
    with server.client("admin") as c:
        headers = {"Content-Type": "text/csv", "Idempotency-Key": "k-1"}
        assert c.post("/api/v1/feeds/hnd_push/batches", content=FEED, headers=headers).status_code == 201
        clash = c.post(UPLOAD, content=FEED, headers=headers)
        assert (clash.status_code, clash.json()["error"]) == (409, "idempotency_conflict")
    batches = server.hub.engine.connect().exec_driver_sql("SELECT count(*) FROM batch").scalar_one()
    assert batches == 3  # FEED for hlhpn, the one-row feed, FEED for hnd


def test_multipart_upload(server: Server) -> None:
    with server.client("hlhpn") as c:
        r = c.post(UPLOAD, files={"file": ("danh_sach.csv", FEED, "text/csv")}, params={"wait": "true"})
        assert r.status_code == 201, r.text
        assert r.json()["origin"] == "api:danh_sach.csv"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b"<html><body>not a feed</body></html>", "text/html", 415, "unsupported_media_type"),
        (b"\"unterminated;quote\n1;2\n", "text/csv", 422, "malformed_feed"),
        ("Café crème;Zoë;façade\n".encode("cp1252"), "text/csv", 422, "malformed_feed"),  # not Vietnamese
        ("Mã;Tên\nHV1;An\n".encode(), "text/csv", 422, "malformed_feed"),  # not the source's columns
        (b"{\"records\": [1, 2", "application/json", 422, "malformed_feed"),
        (b"", "text/csv", 422, "empty_feed"),
    ],
    ids=["html", "broken-csv", "wrong-encoding", "wrong-columns", "broken-json", "empty"],
)
def test_refusals(server: Server, body: bytes, content_type: str, status: int, error: str) -> None:
    with server.client("hlhpn") as c:
        r = c.post(UPLOAD, content=body, headers={"Content-Type": content_type})
    assert r.status_code == status, r.text
    assert r.json()["error"] == error
    assert r.json()["message"] and r.json()["message_vi"]
    with server.hub.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM batch").scalar_one() == 0  # nothing landed


def test_wrong_encoding_names_the_problem(server: Server) -> None:
    with server.client("hlhpn") as c:
        r = c.post(UPLOAD, content=bytes(range(128, 256)) * 3, headers={"Content-Type": "text/csv"})
    assert "encoding" in r.json()["message"] and "bảng mã" in r.json()["message_vi"]


def test_size_and_row_limits(start_server) -> None:  # noqa: ANN001 - fixture factory
    s = start_server(api_max_upload_mb=0.01, api_max_upload_rows=4)
    s.key("hlhpn", "push:hlhpn_push", organisation="HLHPN")
    with s.client("hlhpn") as c:
        big = c.post(UPLOAD, content=FEED * 200, headers={"Content-Type": "text/csv"})
        assert big.status_code == 413 and big.json()["error"] == "too_large"
        many = c.post(UPLOAD, content=FEED, headers={"Content-Type": "text/csv"})
        assert many.status_code == 413 and many.json()["error"] == "too_many_rows"
        assert "4" in many.json()["message_vi"]


def test_bad_keys_and_wrong_source(server: Server) -> None:
    server.key("old", "push:hlhpn_push", expires_days=-1)
    revoked = server.key("gone", "push:hlhpn_push")
    from lienthong.warehouse.api_keys import revoke_key

    revoke_key(server.hub.engine, revoked.split("_")[1])
    cases = {None: "missing_key", "old": "expired_key", "gone": "revoked_key"}
    for name, error in cases.items():
        with server.client(name) as c:
            r = c.post(UPLOAD, content=FEED, headers={"Content-Type": "text/csv"})
        assert (r.status_code, r.json()["error"]) == (401, error)
        assert r.headers["www-authenticate"] == "Bearer"
    with server.client(headers={"Authorization": "Bearer lt_000000000000_" + "x" * 43}) as c:
        assert c.post(UPLOAD, content=FEED).json()["error"] == "invalid_key"
    with server.client("hnd") as c:  # HND's clerk may not push to the Women's Union's source
        r = c.post(UPLOAD, content=FEED, headers={"Content-Type": "text/csv"})
        assert (r.status_code, r.json()["error"]) == (403, "forbidden")
