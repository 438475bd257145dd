"""Every hostile file pushed to the real server, with ``wait=true``: a 4xx with a Vietnamese reason, nothing landed,
and the server alive and reading the next good feed. The web's "check only" refuses them the same way."""

from __future__ import annotations

import os

import psutil
import pytest

from tests.connectors import hostile_files as hf
from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import GOOD_ROWS, members_csv
from tests.lienthong.web.conftest import sign_in_form_token

pytestmark = [pytest.mark.integration, pytest.mark.slow]
UPLOAD = "/api/v1/feeds/hlhpn_push/batches"
LIMIT_ERRORS = {"too_large", "too_many_rows"}


def test_every_hostile_file_is_refused_and_the_server_lives_on(server: Server) -> None:
    answers = {}
    with server.client("hlhpn") as c:
        for name, make in hf.HOSTILE.items():
            data, media, filename = make()
            r = c.post(UPLOAD, content=data, headers={"Content-Type": media},
                       params={"wait": "true", "filename": filename})
            answers[name] = (r.status_code, r.json().get("error"))
            assert r.status_code in (413, 422), f"{name}: {r.status_code} {r.text[:300]}"
            assert r.json()["message_vi"] and r.json()["message"], name
            assert (r.status_code == 413) == (r.json()["error"] in LIMIT_ERRORS), name

        good = c.post(UPLOAD, content=members_csv(GOOD_ROWS).encode(), headers={"Content-Type": "text/csv"},
                      params={"wait": "true"})
        assert good.status_code == 201, good.text
        assert good.json()["status"] == "published"
    with server.hub.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM batch").scalar_one() == 1  # only the good one landed
    assert answers["xlsx-far-cell"] == (413, "too_large")
    assert answers["xlsx-row-bomb"] == (413, "too_large")
    assert answers["csv-header-only"] == (422, "malformed_feed")
    assert answers["csv-duplicate-header"] == (422, "malformed_feed")
    assert answers["json-deep"] == (422, "malformed_feed")
    # the server (this process: uvicorn runs in a thread of it) never needed the memory a hostile file asked for
    assert psutil.Process(os.getpid()).memory_info().rss < 2 * 1024**3


def test_a_file_that_kills_the_parser_worker_is_a_413(start_server) -> None:  # noqa: ANN001 - fixture factory
    s = start_server(api_parse_memory_mb=250)
    s.key("hlhpn", "push:hlhpn_push", organisation="HLHPN")
    data = hf.workbook(hf.sheet_xml("".join(
        f'<row r="{r}">' + "".join(hf.inline(f"{c}{r}", f"Nguyễn Văn {r}{c}") for c in "ABCDEFGHIJKL")
        + "</row>" for r in range(1, 100_001))))
    with s.client("hlhpn") as c:
        r = c.post(UPLOAD, content=data, headers={"Content-Type": hf.MEDIA_XLSX}, params={"wait": "true"})
        assert r.status_code == 413, r.text
        assert "250 MiB" in r.json()["message_vi"]
        good = c.post(UPLOAD, content=members_csv(GOOD_ROWS).encode(), headers={"Content-Type": "text/csv"},
                      params={"wait": "true"})
        assert good.status_code == 201, good.text


def test_check_only_on_the_web_refuses_a_hostile_file(server: Server) -> None:
    with server.client() as c:
        page = c.post("/sign-in", data={"token": server.tokens["hlhpn"], "form_token": sign_in_form_token(c)},
                      follow_redirects=False)
        assert page.status_code == 303, page.text
        form = c.get("/upload")
        token = _csrf(form.text)
        r = c.post("/upload", data={"csrf": token, "source_id": "hlhpn_push", "mode": "check"},
                   files={"file": ("far.xlsx", hf.far_cell_xlsx(), hf.MEDIA_XLSX)},
                   headers={"Accept": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["message_vi"]


def _csrf(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]
