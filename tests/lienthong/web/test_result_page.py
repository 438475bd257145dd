"""The result page, as a clerk reads it: rows numbered as the file shows them (the header is row 1, blank rows
counted), and rows published with a ward still to choose listed as "đã công bố, cần bổ sung" with the names of
the wards to choose from."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from catalog import get_code_list
from lienthong.cleaning.addresses import legacy_ward_table
from tests.lienthong.conftest import GOOD_ROWS, HEADER
from tests.lienthong.web.conftest import Site
from tests.lienthong.web.test_pages import send, wait_published


def _split_address() -> tuple[str, list[str]]:
    split = next(r for r in legacy_ward_table().to_pylist() if r["split"])
    return f"{split['legacy_ward']}, {split['legacy_district']}, {split['legacy_province']}", split["ward_codes"]


def test_rows_are_numbered_as_the_file_shows_them_and_wards_to_choose_are_listed(site: Site) -> None:
    address, codes = _split_address()
    rows = [
        GOOD_ROWS[0],
        "",  # a blank line: row 3 in the clerk's spreadsheet
        f"HV020;Đặng Thị Hạnh;Nữ;01/02/1985;;;Kinh;Không;;{address};Chi hội 1;;active",  # row 4: ward to choose
        "HV021;;Nữ;01/02/1985;;;Kinh;Không;00070;;Chi hội 1;;active",  # row 5: no name
    ]
    feed = ("\ufeff" + "\n".join([HEADER, *rows]) + "\n").encode("utf-8")
    c = site.client("hlhpn")
    r = send(c, "hlhpn_push", feed)
    url = r.headers["location"]
    assert wait_published(c, url)["rows_published"] == 2
    page = c.get(url).text

    assert re.findall(r'<table class="rejects">.*?<th scope="row">(\d+)</th>', page, re.S) == ["5"]
    assert "Đã công bố, cần bổ sung" in page
    section = page[page.index('id="to-complete"'):]
    assert re.search(r'<th scope="row">4</th><td>Đặng Thị Hạnh</td>', section)
    wards = get_code_list("wards")
    for code in codes:
        assert f"{wards.label(code)} ({code})" in section
    assert " hoặc " in section

    book = load_workbook(io.BytesIO(c.get(url + "/rejects.xlsx").content)).active
    head = [cell.value for cell in book[1]]
    assert [row[head.index("Dòng gốc")].value for row in book.iter_rows(min_row=2)] == [5]

    status = c.get(f"/api/v1/feeds/hlhpn_push/batches/{url.rsplit('/', 1)[1]}",
                   headers={"Authorization": f"Bearer {site.tokens['hlhpn']}"}).json()
    assert [q["row"] for q in status["quarantined"]] == [5]
