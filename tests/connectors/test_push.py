"""A push source is declared in the registry like any other and has nothing to pull."""

from __future__ import annotations

from pydantic import TypeAdapter

from connectors import ConnectorSpec, build_connector


def test_a_push_connector_extracts_nothing() -> None:
    config = TypeAdapter(ConnectorSpec).validate_python({"type": "push"})
    assert config.type == "push"
    assert list(build_connector(config, source_id="hnd_push").extract(None)) == []
