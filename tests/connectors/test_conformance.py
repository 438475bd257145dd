"""The conformance suite every connector kind passes: paging, resume, empty or broken source, bad payload.

The harnesses (``connector_harness.py``) give each kind a real source; the tests only speak the ``Connector``
interface, so a new connector kind joins the suite by adding a harness.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import Batch
from connectors.formats import read_payload
from tests.connectors.connector_harness import CHUNK, members


def _ids(batches: list[Batch]) -> list[str]:
    return [i for b in batches for i in b.records.column("id").to_pylist()]


def _last_cursor(batches: list[Batch]) -> dict[str, Any] | None:
    """What the runner would have saved: the cursor of the last batch that carries one."""
    cursors = [b.cursor for b in batches if b.cursor is not None]
    return cursors[-1] if cursors else None


def test_reads_every_record_in_pages(harness: Any) -> None:
    harness.add(members(0, 25))

    batches = list(harness.connector().extract(None))

    assert len(batches) == 3
    assert [b.row_count for b in batches] == [CHUNK, CHUNK, 5]
    assert sorted(_ids(batches), key=int) == [str(i) for i in range(25)]
    rows = {r["id"]: r for b in batches for r in b.records.to_pylist()}
    assert rows["7"]["dien_thoai"] == "0900000007"  # leading zero kept
    assert rows["1"]["ho_ten"] == "Trần Văn Đức 1"
    assert all(b.origin for b in batches)


def test_payload_rereads_to_the_same_records(harness: Any) -> None:
    harness.add(members(0, 15))

    for batch in harness.connector().extract(None):
        again = read_payload(batch.payload, batch.media_type, batch.read_options, origin=batch.origin)
        assert again.equals(batch.records), batch.origin


def test_resumes_from_the_saved_cursor(harness: Any) -> None:
    harness.add(members(0, 25))
    first = list(harness.connector().extract(None))
    harness.add(members(25, 32))

    second = list(harness.connector().extract(_last_cursor(first)))

    if harness.incremental:
        assert sorted(_ids(second), key=int) == [str(i) for i in range(25, 32)]
    else:  # no cursor: the old files come again, byte for byte, and landing skips them by hash
        assert [b.payload for b in second[: len(first)]] == [b.payload for b in first]
        assert sorted(_ids(second), key=int) == [str(i) for i in range(32)]


def test_nothing_new_yields_nothing(harness: Any) -> None:
    if not harness.incremental:
        pytest.skip("a cursor-less connector re-reads everything; landing deduplicates")
    harness.add(members(0, 12))
    cursor = _last_cursor(list(harness.connector().extract(None)))

    assert list(harness.connector().extract(cursor)) == []


def test_empty_source_yields_no_batch(harness: Any) -> None:
    assert list(harness.connector().extract(None)) == []


def test_broken_source_raises(harness: Any) -> None:
    harness.add(members(0, 5))
    expected = harness.break_source()

    with pytest.raises(expected) as err:
        list(harness.connector().extract(None))

    assert err.value.message_vi
    assert "password" not in str(err.value).lower()


def test_malformed_payload_raises(harness: Any) -> None:
    if not harness.can_corrupt:
        pytest.skip("a database returns typed rows: there is no payload to corrupt")
    harness.add(members(0, 25))
    expected = harness.corrupt()

    with pytest.raises(expected) as err:
        list(harness.connector().extract(None))

    assert err.value.message_vi
