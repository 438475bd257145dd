"""Keyed pseudonyms: stable, keyed, labelled with the key generation, nulls kept."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lienthong.errors import ConfigError
from lienthong.pseudonymise import key_from_settings, pseudonymise
from lienthong.settings import Settings

KEY = b"a-test-key-of-sufficient-length"


def test_same_value_same_token_and_nulls_stay_null() -> None:
    tokens = pseudonymise(["001185012345", None, "001185012345", "", "0912345678"], key=KEY, key_id="k1")
    assert tokens[0] == tokens[2] and tokens[0].startswith("k1:") and len(tokens[0]) == 3 + 32
    assert tokens[1] is None and tokens[3] is None
    assert tokens[4] != tokens[0]
    assert "001185012345" not in "".join(t for t in tokens if t)


def test_arrow_in_arrow_out_and_equal_to_list() -> None:
    values = ["001185012345", None, "0912345678"]
    out = pseudonymise(pa.array(values), key=KEY, key_id="k1")
    assert isinstance(out, pa.Array) and out.type == pa.string()
    assert out.to_pylist() == pseudonymise(values, key=KEY, key_id="k1")
    chunked = pseudonymise(pa.chunked_array([values[:1], values[1:]]), key=KEY, key_id="k1")
    assert chunked.to_pylist() == out.to_pylist()


def test_rotation_changes_every_token_visibly() -> None:
    old = pseudonymise(["001185012345"], key=KEY, key_id="2025a")[0]
    new = pseudonymise(["001185012345"], key=KEY + b"-rotated", key_id="2026a")[0]
    assert old.split(":")[0] == "2025a" and new.split(":")[0] == "2026a"
    assert old.split(":")[1] != new.split(":")[1]
    default = pseudonymise(["x"], key=KEY)[0]  # without an id the prefix is a fingerprint of the key
    assert default.split(":")[0] == pseudonymise(["y"], key=KEY)[0].split(":")[0]


def test_short_or_missing_key_is_refused() -> None:
    with pytest.raises(ConfigError):
        pseudonymise(["1"], key=b"short")
    with pytest.raises(ConfigError) as err:
        key_from_settings(Settings(pseudonym_key=None))
    assert "LIENTHONG_PSEUDONYM_KEY" in str(err.value) and err.value.message_vi


def test_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIENTHONG_PSEUDONYM_KEY", "k" * 32)
    monkeypatch.setenv("LIENTHONG_PSEUDONYM_KEY_ID", "2026a")
    settings = Settings()
    assert "k" * 32 not in repr(settings)  # a secret, never printed
    assert key_from_settings(settings) == (b"k" * 32, "2026a")
