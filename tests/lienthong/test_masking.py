"""One masking rule for every personal value the hub shows to people (issue 14; docs/security.md, "Masking")."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lienthong.cleaning import identity, phones
from lienthong.masking import mask
from quality.reasons import mask_value
from schemas.base import Privacy


def test_a_number_keeps_its_last_three_characters_from_nine_up() -> None:
    assert mask("001185012345") == "*********345"  # CCCD: place, sex, century, birth year hidden
    assert mask("123456789") == "******789"  # CMND
    assert mask("0912345678") == "*******678"  # the carrier prefix is hidden too
    assert mask(" +84 912 345 678 ") == "*** *** *** 678"  # spaces stay: the shape can be seen
    assert mask("12345678") == "********" and mask("12") == "**"  # too short to show any of it


def test_words_keep_their_initials() -> None:
    assert mask("Nguyễn Văn An") == "N***** V** A*"
    assert mask("H'Hen  Niê") == "H**** N**"
    assert mask("Số 12, Phường Phúc Xá") == "S* *** P***** P*** X*"  # a house number shows nothing
    assert mask("<script>alert(1)</script>") == "*" * 25


def test_nothing_to_mask() -> None:
    assert mask(None) == "" and mask("") == "" and mask("   ") == ""


def test_every_door_shows_the_same_mask() -> None:
    number, phone, name = "001185012345", "0987654321", "Trần Thị Lan"
    assert mask_value(number, Privacy.DIRECT_IDENTIFIER) == mask(number)
    assert mask_value(name, Privacy.DIRECT_IDENTIFIER) == "T*** T** L**"
    assert mask_value("1985-02-01", Privacy.QUASI_IDENTIFIER) == "1985-02-01"  # not an identifier: shown
    for vi, en in (identity.explain("cccd_place_code", number), phones.explain("phone_invalid", phone)):
        assert (mask(number) in vi and mask(number) in en) or (mask(phone) in vi and mask(phone) in en)
        assert number not in vi + en and phone not in vi + en


@given(st.text(alphabet="0123456789 .-+", min_size=1, max_size=20))
def test_a_number_shows_at_most_its_last_three_characters(value: str) -> None:
    shown = mask(value)
    visible = [ch for ch in shown if ch not in "* "]
    assert len(visible) <= 3
    if visible:
        assert len(value.strip()) >= 9 and shown.endswith(value.strip()[-3:])


@given(st.lists(st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠẦẤ", min_size=1, max_size=8), min_size=1,
                max_size=5))
def test_words_show_only_their_first_letters(words: list[str]) -> None:
    shown = mask(" ".join(words))
    assert shown.split(" ") == [w[0] + "*" * (len(w) - 1) for w in words]
