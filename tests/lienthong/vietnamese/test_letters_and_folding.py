"""The letters, tone placement and keys of Vietnamese text, defined once in ``lienthong.vietnamese`` (issue 14)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lienthong.vietnamese.folding import (
    PLAIN_LETTERS,
    clean_text,
    fold,
    match_key,
    spelling_key,
    tone_on_first_of_pair,
    without_diacritics,
)
from lienthong.vietnamese.letters import (
    ACUTE,
    CIRCUMFLEX,
    GRAVE,
    HOOK,
    TONE_MARKS,
    TONED_VOWELS,
    VIETNAMESE_LETTERS,
    split_letter,
    strip_tones,
)
from lienthong.vietnamese.syllables import place_tone
from tests.lienthong.cleaning.test_legacy_encodings import SYLLABLES

ROOT = Path(__file__).resolve().parents[3]


def test_the_alphabet() -> None:
    assert len(VIETNAMESE_LETTERS) == 12 * 6 * 2 + 2  # 12 vowels x (no tone + 5 tones) x 2 cases, đ Đ
    assert len(TONED_VOWELS) == 12 * 5 * 2
    assert {"ễ", "Ự", "đ", "Đ", "y", "ỵ"} <= VIETNAMESE_LETTERS and not {"ñ", "ð", "ŭ"} & VIETNAMESE_LETTERS
    assert all(unicodedata.normalize("NFC", ch) == ch and len(ch) == 1 for ch in VIETNAMESE_LETTERS)
    assert split_letter("ế") == ("e", CIRCUMFLEX, ACUTE) and split_letter("Ỏ") == ("O", "", HOOK)
    assert split_letter("d") == ("d", "", "")


def test_strip_tones_keeps_the_vowel_marks() -> None:
    assert strip_tones("Hoà") == ("Hoa", GRAVE)
    assert strip_tones("Trường") == ("Trương", GRAVE)
    assert strip_tones(unicodedata.normalize("NFD", "Thuỷ")) == ("Thuy", HOOK)
    assert strip_tones("Lan") == ("Lan", "")


@pytest.mark.parametrize(("word", "old", "new"), [
    ("hoà", "hòa", "hoà"), ("Thuỷ", "Thủy", "Thuỷ"), ("khỏe", "khỏe", "khoẻ"), ("qủa", "quả", "quả"),
    ("gía", "giá", "giá"), ("Nguyễn", "Nguyễn", "Nguyễn"), ("hoàng", "hoàng", "hoàng"), ("ABC", "ABC", "ABC"),
])
def test_place_tone_in_either_convention(word: str, old: str, new: str) -> None:
    assert place_tone(word, "old") == old
    assert place_tone(word, "new") == new


def test_without_diacritics_keeps_case() -> None:
    assert without_diacritics("Đắk Lắk") == "Dak Lak"
    assert without_diacritics("ĐỖ THỊ Ánh") == "DO THI Anh"
    assert without_diacritics("Ðoàn ðức") == "Doan duc"  # the eth look-alikes a Latin-1 reading of cp1258 gives


def test_match_key_folds_case_diacritics_and_spacing() -> None:
    assert match_key("  NGUYỄN   Thị  Hoà ") == match_key("nguyen thi hòa") == "nguyen thi hoa"
    assert match_key("Nữ") == "nu" and match_key("Ðà Nẵng") == "da nang"
    assert match_key(unicodedata.normalize("NFD", "Đặng Thuỷ")) == "dang thuy"
    assert fold("Ngô  Thị\x85") == "ngo  thi\x85"  # a word's key: spacing is not its business


def test_spelling_key_ignores_tone_placement_but_keeps_diacritics() -> None:
    assert spelling_key("Hoà  Bình") == spelling_key("hòa bình")
    assert spelling_key("Văn Lăng") != spelling_key("Văn Lang")
    assert spelling_key("Ea H\u2019leo") == spelling_key("ea h'leo")
    assert clean_text(" Xã\u00a0 Ea\u2013Kly ") == "Xã Ea-Kly"


def test_plain_letters_map_one_for_one() -> None:
    lower = "".join(sorted(ch for ch in VIETNAMESE_LETTERS if ch.islower()))
    plain = lower.translate(PLAIN_LETTERS)
    assert len(plain) == len(lower) and plain.isascii()
    assert plain == "".join(without_diacritics(ch) for ch in lower)


def test_tone_on_first_of_pair_works_on_words_run_together() -> None:
    assert tone_on_first_of_pair("hoà") == tone_on_first_of_pair("hòa") == "hòa"
    assert tone_on_first_of_pair("thuỷnguyên") == "thủynguyên"
    assert tone_on_first_of_pair("khoẻ") == "khỏe"
    assert tone_on_first_of_pair("hoàng") == "hòang"  # closed syllables too: harmless in a key both sides get


@given(st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=4), st.sampled_from(["old", "new"]))
def test_the_keys_do_not_depend_on_the_tone_convention(words: list[str], style: str) -> None:
    text = " ".join(words)
    placed = " ".join(place_tone(w, style) for w in words)  # type: ignore[arg-type]
    assert match_key(placed) == match_key(text) and spelling_key(placed) == spelling_key(text)
    assert tone_on_first_of_pair(placed.lower()) == tone_on_first_of_pair(place_tone_all(text.lower(), "old"))


def place_tone_all(text: str, style: str) -> str:
    return " ".join(place_tone(w, style) for w in text.split())  # type: ignore[arg-type]


# What only the field-knowledge package may spell out: the tone marks, the vowel list, stripping combining marks.
_DEFINITIONS = re.compile("|".join([
    r"unicodedata\.combining\(",
    r"\\u0309|\\u0323|[\u0309\u0323]",  # hỏi and nặng: only tone-mark lists hold them
    "aăâeêioôơuưy",
    "[àáảãạ]{3}",  # a run of toned vowels: a folding table or a tone-placement class
]))


def test_letters_tones_and_folding_are_defined_only_in_the_vietnamese_package() -> None:
    packages = ("lienthong", "connectors", "catalog", "quality", "schemas", "dags", "scripts")
    found = [f"{path.relative_to(ROOT)}: {line.strip()}" for package in packages
             for path in sorted((ROOT / package).rglob("*.py")) if "vietnamese" not in path.parts
             for line in path.read_text(encoding="utf-8").splitlines() if _DEFINITIONS.search(line)]
    assert found == []
    assert TONE_MARKS == "\u0300\u0301\u0309\u0303\u0323"
