"""Encoding detection: BOMs, UTF-8, cp1258 with combining tone marks, UTF-16 without BOM, and refusals."""

from __future__ import annotations

import codecs
import unicodedata

import pytest

from lienthong.errors import MalformedInput
from lienthong.vietnamese.encoding_detection import decode_text, detect_encoding
from lienthong.vietnamese.legacy_encodings import decode_tcvn3, encode_cp1258, encode_tcvn3

NAME = "Nguyễn Thị Hoà"
TEXT = "họ_tên;điện_thoại\nNguyễn Thị Hoà;0912345678\nTrần Văn Đức;0987654321\nLê Thị Hường;0901234567\n"


def test_python_cp1258_codec_needs_decomposed_tone_marks() -> None:
    with pytest.raises(UnicodeEncodeError):
        NAME.encode("cp1258")  # "ễ" and "ị" have no single byte in cp1258

    data = encode_cp1258(NAME)

    assert data == b"Nguy\xea\xden Thi\xf2 Ho\xe0"  # ê + combining ~, i + combining dot below, precomposed à
    assert data.decode("cp1258") != NAME  # decoded but not yet composed
    assert unicodedata.normalize("NFC", data.decode("cp1258")) == NAME


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF8 + TEXT.encode(), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode(), "utf-8"),
        (b"plain ascii,0912\n", "utf-8"),
        (b"", "utf-8"),
        (encode_cp1258(TEXT), "cp1258"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
    ],
    ids=["utf-8-bom", "utf-16-bom", "utf-8", "ascii", "empty", "cp1258", "utf-16-le", "utf-16-be"],
)
def test_detects(data: bytes, expected: str) -> None:
    encoding = detect_encoding(data)

    assert encoding == expected
    assert decode_text(data, encoding).lstrip("\ufeff") in (TEXT, "plain ascii,0912\n", "")


def test_cp1258_text_is_nfc_after_decoding() -> None:
    data = encode_cp1258(TEXT)

    text = decode_text(data, detect_encoding(data))

    assert text == TEXT
    assert unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize(
    "data",
    [
        "Café crème,Zoë,façade\n".encode("cp1252"),  # a Western code page, not Vietnamese
        bytes(range(128, 256)) * 3,  # binary noise
    ],
    ids=["cp1252-french", "noise"],
)
def test_refuses_to_guess(data: bytes) -> None:
    with pytest.raises(MalformedInput) as err:
        detect_encoding(data, origin="drop/hoi_vien.csv")

    assert "drop/hoi_vien.csv" in str(err.value)
    assert "encoding" in str(err.value)
    assert "bảng mã" in err.value.message_vi


def test_a_file_typed_in_a_legacy_font_is_read_as_the_western_text_it_is() -> None:
    data = (encode_tcvn3("Hoàng Văn Nam;Nguyễn Thị Hoà") + "\n").encode("cp1252")  # TCVN3 (ABC) font
    encoding = detect_encoding(data)
    assert encoding == "cp1252"  # the clean stage converts it, column by column
    assert decode_tcvn3(decode_text(data, encoding).strip()) == "Hoàng Văn Nam;Nguyễn Thị Hoà"


def test_decode_with_a_wrong_forced_encoding_names_the_byte() -> None:
    with pytest.raises(MalformedInput, match=r"x\.csv: byte 4 .* not valid utf-8"):
        decode_text(b"abc,\xff", "utf-8", origin="x.csv")
