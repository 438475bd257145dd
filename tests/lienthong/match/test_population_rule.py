"""The population-database rule: two records whose ID number the register confirmed with name and date of birth
are linked by rule; a record with a mismatch is not confirmed, so a mismatch never links."""

from __future__ import annotations

import pyarrow as pa

from lienthong.match.rules import deterministic_links


def _features(confirmed: list[bool]) -> pa.Table:
    # Same CCCD, but given names too far apart for the same-CCCD rule: only the register can say they are one.
    return pa.table({
        "unique_id": ["a:1", "b:1", "c:1"],
        "id_number": ["001185012345"] * 3,
        "id_kind": ["cccd"] * 3,
        "dob_year": [1985, 1985, 1985],
        "family": ["nguyen", "nguyen", "nguyen"],
        "middle": ["thi", "thi", "thi"],
        "given": ["lan", "huong", "mai"],
        "id_confirmed": confirmed,
    })


def test_two_confirmed_records_with_one_id_number_are_linked_by_rule() -> None:
    links = deterministic_links(_features([True, True, False]))
    assert links.select(["unique_id_l", "unique_id_r", "rule"]).to_pylist() == [
        {"unique_id_l": "a:1", "unique_id_r": "b:1", "rule": "population_confirmed"}]


def test_a_mismatch_is_never_used_to_link() -> None:
    assert deterministic_links(_features([True, False, False])).num_rows == 0
    without = _features([True, True, True]).drop_columns(["id_confirmed"])
    assert deterministic_links(without).num_rows == 0, "no answers: the same-CCCD rule alone decides"
