"""Legacy encoders and decoders: literal samples typed by hand (so an encoder bug cannot hide a decoder bug)
and round trips over generated Vietnamese names."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lienthong.vietnamese import legacy_encodings as le
from lienthong.vietnamese.letters import TONE_MARKS

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý", "Trương", "Đinh", "Lương", "Quách"]
MIDDLE = ["Văn", "Thị", "Đức", "Hữu", "Đình", "Ngọc", "Xuân", "Quốc", "Thùy", "Mỹ", "Bảo", "Khánh", "Thế"]
GIVEN = ["An", "Ánh", "Ấn", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hòa", "Hoà", "Hùng", "Hương", "Huyền",
         "Khoa", "Khỏe", "Lộc", "Ngữ", "Nguyệt", "Phước", "Quân", "Quý", "Quỳnh", "Thủy", "Thuỷ", "Trường", "Tú",
         "Uyên", "Xuyến", "Yến", "Ý", "Ỷ", "Ửng", "Ưng", "Ổn", "Đạt", "Ước", "Ỵ", "Giữa", "Khuỷu", "Ngoãn"]
SYLLABLES = FAMILY + MIDDLE + GIVEN


@st.composite
def vietnamese_names(draw: st.DrawFn) -> str:
    words = [draw(st.sampled_from(FAMILY)), *draw(st.lists(st.sampled_from(MIDDLE), max_size=2)),
             draw(st.sampled_from(GIVEN))]
    style = draw(st.sampled_from(["title", "upper", "lower"]))
    name = " ".join(words)
    return name.upper() if style == "upper" else name.lower() if style == "lower" else name


# Hand-typed: what these names look like when an ABC/VNI-font file is read as Latin-1/cp1252.
TCVN3_LITERALS = {
    "NguyÔn ThÞ Hoµ": "Nguyễn Thị Hoà",
    "NguyÔn V¨n An": "Nguyễn Văn An",
    "TrÇn V¨n Hïng": "Trần Văn Hùng",
    "Lª ThÞ Thu H­¬ng": "Lê Thị Thu Hương",
    "§Æng Quèc B¶o": "Đặng Quốc Bảo",
    "Tr­¬ng ThÞ Ngäc Lan": "Trương Thị Ngọc Lan",
    "x· Hoµ B×nh": "xã Hoà Bình",
    "Phan Thanh Tó": "Phan Thanh Tú",
    "N÷": "Nữ",
}
VNI_LITERALS = {
    "Nguyeãn Thò Hoaø": "Nguyễn Thị Hoà",
    "Nguyeãn Vaên An": "Nguyễn Văn An",
    "Traàn Vaên Huøng": "Trần Văn Hùng",
    "Leâ Thò Thu Höông": "Lê Thị Thu Hương",
    "Ñaëng Quoác Baûo": "Đặng Quốc Bảo",
    "Tröông Thò Ngoïc Lan": "Trương Thị Ngọc Lan",
    "Phöôøng Beán Ngheù": "Phường Bến Nghé",
    "NGUYEÃN THÒ HOAØ": "NGUYỄN THỊ HOÀ",
    "Huyønh Î": "Huỳnh Ỵ",
}
VIQR_LITERALS = {
    "Nguye^~n Va(n An": "Nguyễn Văn An",
    "Nguye^~n Thi. Hoa`": "Nguyễn Thị Hoà",
    "Tru+o+ng Thi. Ngo.c Lan": "Trương Thị Ngọc Lan",
    "DDa(.ng Quo^'c Ba?o": "Đặng Quốc Bảo",
    "ddi Ha` No^.i": "đi Hà Nội",
    "Tru*o*`ng": "Trường",
}


@pytest.mark.parametrize(("legacy", "unicode"), TCVN3_LITERALS.items())
def test_tcvn3_literals(legacy: str, unicode: str) -> None:
    assert le.decode_tcvn3(legacy) == unicode
    assert le.encode_tcvn3(unicode) == legacy


@pytest.mark.parametrize(("legacy", "unicode"), VNI_LITERALS.items())
def test_vni_literals(legacy: str, unicode: str) -> None:
    assert le.decode_vni(legacy) == unicode
    assert le.encode_vni(unicode) == legacy


@pytest.mark.parametrize(("legacy", "unicode"), VIQR_LITERALS.items())
def test_viqr_literals(legacy: str, unicode: str) -> None:
    assert le.decode_viqr(legacy) == unicode


def test_viqr_encode() -> None:
    assert le.encode_viqr("Nguyễn Văn Hoà") == "Nguye^~n Va(n Hoa`"
    assert le.encode_viqr("Đặng Trường") == "DDa(.ng Tru+o+`ng"


def test_tcvn3_table_is_complete_and_one_to_one() -> None:
    letters = {unicodedata.normalize("NFC", v + t) for v in "aăâeêioôơuưy" for t in ("", *TONE_MARKS)}
    assert letters - {*"aeiouy"} | {"đ"} <= set(le.TCVN3_ENCODE)
    assert len(set(le.TCVN3_ENCODE.values())) == len(le.TCVN3_ENCODE) == 74
    assert all(0xA1 <= ord(code) <= 0xFE for code in le.TCVN3_ENCODE.values())


def test_tcvn3_capitals_are_restored_from_the_word() -> None:
    assert le.decode_tcvn3("NGUYÔN THÞ ¸NH") == "NGUYỄN THỊ ÁNH"
    assert le.decode_tcvn3("Lª ý") == "Lê Ý"  # title-case context
    assert le.decode_tcvn3("lª ý") == "lê ý"


def test_legacy_domain() -> None:
    assert le.legacy_decodable("NguyÔn V¨n")
    assert not le.legacy_decodable("Nguyễn")


@settings(max_examples=3000, deadline=None)
@given(vietnamese_names())
def test_round_trips(name: str) -> None:
    assert le.decode_vni(le.encode_vni(name)) == name
    assert le.decode_viqr(le.encode_viqr(name)) == name
    assert le.decode_tcvn3(le.encode_tcvn3(name)).lower() == name.lower()
    # Case survives TCVN3 when the text says what it is: a word with two letters TCVN3 keeps the case of
    # ("NGUYỄN" vs "Nguyễn") and a word starting with one ("VŨ HÀ" and "Vũ Hà" are the same bytes).
    kept = [[ch for ch in w if ch not in le.TCVN3_CASELESS and ch.isalpha()] for w in le.encode_tcvn3(name).split()]
    starts = [w[0] not in le.TCVN3_CASELESS for w in le.encode_tcvn3(name).split()]
    if any(len(k) > 1 for k in kept) and any(starts):
        assert le.decode_tcvn3(le.encode_tcvn3(name)) == name
