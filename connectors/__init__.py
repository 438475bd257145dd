"""Extract-only connectors. See ``connectors.base``.

``ConnectorSpec`` is what a source YAML's ``connector:`` key holds; its ``type`` picks the connector.
Importing this package stays light (no requests, no SQLAlchemy): the registry, so every DAG parse, imports it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from connectors.base import Batch, Connector, ConnectorConfig, Cursor
from connectors.files import FilesConfig, FilesConnector
from connectors.gateway import GatewayConfig, GatewayConnector
from connectors.push import PushConfig, PushConnector
from connectors.rest import RestConfig, RestConnector
from connectors.sql import SqlConfig, SqlConnector
from connectors.xroad import XRoadConfig, XRoadConnector
from lienthong.errors import ConfigError

__all__ = [
    "Batch",
    "Connector",
    "ConnectorSpec",
    "Cursor",
    "FilesConfig",
    "GatewayConfig",
    "PushConfig",
    "RestConfig",
    "SqlConfig",
    "XRoadConfig",
    "build_connector",
]

ConnectorSpec = Annotated[
    FilesConfig | RestConfig | SqlConfig | PushConfig | GatewayConfig | XRoadConfig, Field(discriminator="type"),
]

CONNECTORS: dict[str, type[Connector]] = {
    "files": FilesConnector,
    "gateway": GatewayConnector,
    "push": PushConnector,
    "rest": RestConnector,
    "sql": SqlConnector,
    "xroad": XRoadConnector,
}


def build_connector(config: ConnectorConfig, *, source_id: str) -> Connector:
    """The connector for a validated config (``source.connector`` of a registry entry).

    Raises:
        ConfigError: no connector handles ``config.type``.
    """
    kind = CONNECTORS.get(config.type)
    if kind is None or not isinstance(config, kind.Config):
        msg = f"{source_id}: no connector for type {config.type!r}; known: {', '.join(CONNECTORS)}"
        msg_vi = f"{source_id}: không có bộ kết nối loại {config.type!r}"
        raise ConfigError(msg, message_vi=msg_vi, source_id=source_id)
    return kind(config, source_id=source_id)
