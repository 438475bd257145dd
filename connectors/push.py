"""Sources that only receive: a member organisation uploads its feeds over the HTTP API, nothing is pulled.

``{type: push}`` declares such a source; the API lands each upload (``lienthong.pipeline.receive_batch``) and a
scheduled sync of it has nothing to extract.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from connectors.base import Batch, Connector, ConnectorConfig, Cursor


class PushConfig(ConnectorConfig):
    """``{type: push}``: feeds arrive by upload only."""

    type: Literal["push"] = "push"


class PushConnector(Connector[PushConfig]):
    """Extracts nothing: the batches of a push source are landed by the HTTP API as they arrive."""

    Config = PushConfig
    isolation = "batch"  # each upload stands alone

    def extract(self, cursor: Cursor | None) -> Iterator[Batch]:
        return iter(())
