"""The guard after writing: an output value equal to an ID number or phone on file stops the release."""

from __future__ import annotations

import pytest

from lienthong.open_data.guard import DisclosureError, check_outputs
from tests.lienthong.open_data.conftest import SUBJECT, Fixture

LABELS = ["01", "00070", "HLHPN", "Hà Nội", "Tổng cộng", "total", "unknown"]


@pytest.mark.parametrize("needle", [SUBJECT["id"], SUBJECT["phone"]], ids=["id_number", "phone"])
def test_an_identifier_on_file_is_refused_and_its_output_named(tempting_read: Fixture, needle: str) -> None:
    outputs = {"members": (["province_code"], LABELS), "relief": (["campaign_code"], [*LABELS, needle, 7])}
    with pytest.raises(DisclosureError, match="open output of relief contains") as err:
        check_outputs(tempting_read.hub.engine, outputs)
    assert needle not in str(err.value) and err.value.message_vi


def test_codes_labels_and_numbers_not_on_file_pass(tempting_read: Fixture) -> None:
    not_on_file = ["001185099998", "0912999998", "123456789"]  # the shape of an ID number or phone, nobody's
    check_outputs(tempting_read.hub.engine, {"members": (["province_code"], [*LABELS, *not_on_file, 45, None])})
