"""Text rules: encoding detection and repair, normalisation, tone placement, case."""

from __future__ import annotations

import random
import unicodedata

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.lists import get_code_list
from lienthong.cleaning.names import family_names
from lienthong.cleaning.text import (
    ISSUES,
    decode_legacy,
    detect_column_encoding,
    detect_table_encodings,
    fix_case,
    fix_column_encoding,
    is_syllable,
    normalize_text,
    normalize_tone_placement,
)
from lienthong.vietnamese import legacy_encodings as le
from tests.lienthong.cleaning.test_legacy_encodings import GIVEN, MIDDLE, vietnamese_names

ENCODERS = {"tcvn3": le.encode_tcvn3, "vni": le.encode_vni, "viqr": le.encode_viqr}
WARDS = [v.label_vi for v in get_code_list("wards").values]


def _names(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    # Family names with letters outside the Vietnamese alphabet (Ayŭn) cannot be typed in a legacy font.
    families = sorted(f.title() for f in family_names() if le.legacy_decodable(le.encode_tcvn3(f)))
    return [f"{rng.choice(families)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}" for _ in range(n)]


# --- encodings -------------------------------------------------------------------------------------------
def test_wards_are_unicode_as_a_column_and_cell_by_cell() -> None:
    assert len(WARDS) == 3321
    assert detect_column_encoding(pa.array(WARDS)) == "unicode"
    assert [w for w in WARDS if detect_column_encoding(pa.array([w])) not in ("unicode", "ascii")] == []
    assert fix_column_encoding(pa.array(WARDS)).values.to_pylist() == WARDS


def test_short_correct_cells_are_never_converted() -> None:
    for cell in ["hòa", "Hòa", "Tú", "Lý", "Hà", "Xã Hòa", "Bá", "ý", "Hòa Tú"]:
        assert detect_column_encoding(pa.array([cell])) == "unicode", cell
        assert fix_column_encoding(pa.array([cell])).values.to_pylist() == [cell]


def test_common_names_are_unicode() -> None:
    names = _names(3000)
    assert detect_column_encoding(pa.array(names)) == "unicode"
    assert all(detect_column_encoding(pa.array([n])) in ("unicode", "ascii") for n in names)


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "viqr"])
def test_detects_and_fixes_encoded_names(encoding: str) -> None:
    names = _names(3000)
    column = pa.array([ENCODERS[encoding](n) for n in names])
    assert detect_column_encoding(column) == encoding
    blocks = [detect_column_encoding(column.slice(i, 10)) for i in range(0, 3000, 10)]
    accuracy = blocks.count(encoding) / len(blocks)
    singles = [detect_column_encoding(column.slice(i, 1)) for i in range(3000)]
    print(f"\n{encoding}: columns of 10 names {accuracy:.1%}, single cells {singles.count(encoding) / 3000:.1%} "
          f"(others: {sorted(set(singles) - {encoding})})")
    assert accuracy >= 0.99
    assert set(singles) <= {encoding, "unicode", "ascii", "unknown"}  # never the wrong legacy encoding
    result = fix_column_encoding(column)
    assert result.values.to_pylist() == names
    assert set(result.issues.to_pylist()) <= {f"legacy_encoding_{encoding}", None}
    assert ISSUES[f"legacy_encoding_{encoding}"].severity == "changed"


@pytest.mark.parametrize(("column", "expected", "encoding"), [
    (["NguyÔn ThÞ Hoµ", "TrÇn V¨n Hïng", "Lª ThÞ Thu H­¬ng", None, "Mai"],
     ["Nguyễn Thị Hoà", "Trần Văn Hùng", "Lê Thị Thu Hương", None, "Mai"], "tcvn3"),
    (["Nguyeãn Thò Hoaø", "Traàn Vaên Huøng", "Leâ Thò Thu Höông", "Mai"],
     ["Nguyễn Thị Hoà", "Trần Văn Hùng", "Lê Thị Thu Hương", "Mai"], "vni"),
    (["Nguye^~n Thi. Hoa`", "Tra^`n Va(n Hu`ng", "Nguyen Van An"],
     ["Nguyễn Thị Hoà", "Trần Văn Hùng", "Nguyen Van An"], "viqr"),
])
def test_literal_columns(column: list, expected: list, encoding: str) -> None:
    assert detect_column_encoding(pa.array(column)) == encoding
    result = fix_column_encoding(pa.array(column))
    assert result.values.to_pylist() == expected
    assert result.issues.to_pylist()[0] == f"legacy_encoding_{encoding}"
    assert decode_legacy(pa.array(column), encoding).to_pylist() == expected  # type: ignore[arg-type]


def test_mixed_column_keeps_unicode_values() -> None:
    column = pa.array(["NguyÔn ThÞ Hoµ", "TrÇn V¨n Hïng", "Lª ThÞ Thu H­¬ng", "Phạm Văn Đồng", "Hòa"])
    result = fix_column_encoding(column, "tcvn3")
    assert result.values.to_pylist()[3:] == ["Phạm Văn Đồng", "Hòa"]
    assert result.issues.to_pylist()[3:] == [None, None]


def test_ascii_and_punctuation_are_not_viqr() -> None:
    assert detect_column_encoding(pa.array(["Nguyen Van An", "Tran Thi B"])) == "ascii"
    assert detect_column_encoding(pa.array(["O+", "A+", "AB-", "B+"])) == "ascii"
    assert detect_column_encoding(pa.array(["What?", "Khu A.", "O'Neil"])) == "ascii"
    assert detect_column_encoding(pa.array([None, None], pa.string())) == "ascii"


def test_garbled_column_is_refused_not_guessed() -> None:
    column = pa.array(["Nguyá»…n VÄƒn An", "Tráº§n Thá»‹ BÃ¬nh", "LÃª HoÃ ng", "An"])  # UTF-8 read as cp1252
    assert detect_column_encoding(column) == "unknown"
    result = fix_column_encoding(column)
    assert result.values.to_pylist() == [None, None, None, "An"]
    assert result.issues.to_pylist() == ["encoding_undetermined"] * 3 + [None]
    assert ISSUES["encoding_undetermined"].severity == "rejected"


def test_table_encodings_use_the_file_for_ambiguous_columns() -> None:
    names = _names(50)
    table = pa.table({
        "name": [le.encode_tcvn3(n) for n in names],
        "given": ["Tó"] * 50,  # TCVN3 for "Tú", also a valid (wrong) Unicode reading
        "code": [str(i) for i in range(50)],
        "n": list(range(50)),
    })
    assert detect_table_encodings(table) == {"name": "tcvn3", "given": "tcvn3", "code": "ascii"}
    unicode_table = pa.table({"name": names, "given": ["Tó"] * 50})
    assert detect_table_encodings(unicode_table) == {"name": "unicode", "given": "unicode"}


# --- normalisation ---------------------------------------------------------------------------------------
def test_normalize_text() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    result = normalize_text(pa.array([f"  {nfd}\u00a0 ", "Trần\u200b  Văn\tAn", "", "   ", None, "ok"]))
    assert result.values.to_pylist() == ["Nguyễn Thị Hoà", "Trần Văn An", None, None, None, "ok"]
    assert result.issues.to_pylist() == ["text_decomposed_unicode", "text_invisible_characters", None, None, None,
                                         None]


def test_normalize_text_among_tidy_values() -> None:
    # Values needing no step are left untouched beside those that do.
    result = normalize_text(pa.array(["An", "  Bình ", "Chi", None, "Dũng\u200b", "Em"] * 3))
    assert result.values.to_pylist() == ["An", "Bình", "Chi", None, "Dũng", "Em"] * 3
    assert result.issues.to_pylist() == [None, None, None, None, "text_invisible_characters", None] * 3


def test_normalize_text_keeps_tcvn3_soft_hyphen() -> None:
    assert normalize_text(pa.array(["Tr\xad¬ng"])).values.to_pylist() == ["Tr\xad¬ng"]  # ư in TCVN3


@pytest.mark.parametrize(("raw", "old", "new"), [
    ("hoà", "hòa", "hoà"), ("hòa", "hòa", "hoà"), ("Thuý", "Thúy", "Thuý"), ("thủy", "thủy", "thuỷ"),
    ("khoẻ", "khỏe", "khoẻ"), ("qủa", "quả", "quả"), ("qúy", "quý", "quý"), ("gía", "giá", "giá"),
    ("Hoàng", "Hoàng", "Hoàng"), ("toán", "toán", "toán"), ("mùa", "mùa", "mùa"), ("ngoài", "ngoài", "ngoài"),
    ("khuỷu", "khuỷu", "khuỷu"), ("giường", "giường", "giường"), ("HOÀ BÌNH", "HÒA BÌNH", "HOÀ BÌNH"),
    ("Phường Hoà Khánh, TP. Đà Nẵng", "Phường Hòa Khánh, TP. Đà Nẵng", "Phường Hoà Khánh, TP. Đà Nẵng"),
    ("(Thuỵ)", "(Thụy)", "(Thuỵ)"), ("Nguyễn Văn A", "Nguyễn Văn A", "Nguyễn Văn A"), ("Müller", "Müller", "Müller"),
])
def test_tone_placement(raw: str, old: str, new: str) -> None:
    assert normalize_tone_placement(pa.array([raw, None])).to_pylist() == [old, None]
    assert normalize_tone_placement(pa.array([raw]), style="new").to_pylist() == [new]


def test_tone_placement_on_wards_only_touches_oa_oe_uy() -> None:
    old = normalize_tone_placement(pa.array(WARDS)).to_pylist()
    changed = [(a, b) for a, b in zip(WARDS, old, strict=True) if a != b]
    assert changed  # the 2025 list mixes both styles
    assert all(b == normalize_tone_placement(pa.array([a]), style="old").to_pylist()[0] for a, b in changed)
    for a, b in changed:
        assert unicodedata.normalize("NFD", a).replace("\u0300", "") != a or a.lower() != b.lower()


def test_syllable_model() -> None:
    for word in ["Nguyễn", "nghiêng", "quốc", "giếng", "gìn", "khuya", "xoong", "thuở", "Trương", "yêu"]:
        assert is_syllable(word), word
    for word in ["hũaa", "kat", "ghá", "ká", "nguyôn", "v¨n", "hoµ", "mát̀", "cán̉"]:
        assert not is_syllable(word), word


@pytest.mark.parametrize(("raw", "expected"), [
    ("NGUYỄN văn an", "Nguyễn Văn An"), ("đặng thị ánh", "Đặng Thị Ánh"), ("ĐẶNG", "Đặng"),
    ("ÐINH", "Đinh"), (unicodedata.normalize("NFD", "NGUYỄN THỊ ÚT"), "Nguyễn Thị Út"),
    ("khu phố III", "Khu Phố III"), ("vi thị vi", "Vi Thị Vi"), ("h'hen niê", "H'Hen Niê"),
])
def test_fix_case(raw: str, expected: str) -> None:
    assert fix_case(pa.array([raw, None])).to_pylist() == [expected, None]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), max_size=20))
def test_rules_never_raise_and_are_idempotent(values: list) -> None:
    arr = pa.array(values, pa.string())
    once = normalize_text(arr).values
    assert normalize_text(once).values.equals(once)
    tones = normalize_tone_placement(once)
    assert normalize_tone_placement(tones).equals(tones)
    cased = fix_case(once)
    assert fix_case(cased).equals(cased)
    fix_column_encoding(arr)
    detect_column_encoding(arr)


@settings(max_examples=300, deadline=None)
@given(st.lists(vietnamese_names(), min_size=1, max_size=20), st.sampled_from(["old", "new"]))
def test_tone_placement_idempotent_on_names(names: list[str], style: str) -> None:
    once = normalize_tone_placement(pa.array(names), style=style)  # type: ignore[arg-type]
    assert normalize_tone_placement(once, style=style).equals(once)  # type: ignore[arg-type]
    back = normalize_tone_placement(once, style="new" if style == "old" else "old")  # type: ignore[arg-type]
    assert normalize_tone_placement(back, style=style).equals(once)  # type: ignore[arg-type]
