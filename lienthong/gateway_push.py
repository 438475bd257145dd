"""Push a published dataset's changes since a cursor to an API on an LGSP/NDXP-style gateway.

The other direction of ``connectors.gateway``: the records a consumer would pull from ``/api/v1/datasets/{id}/
records`` — the same keyset cursor, changes and tombstones, the same view rules (direct identifiers withheld or
pseudonymised unless ``pii``) — are posted page by page as ``{"dataset", "records", "next", "pseudonymised",
"withheld"}`` with the gateway's token handling (:class:`connectors.gateway.GatewayClient`). Each page read is
audited (``records.push``). The caller keeps the cursor: the result's ``next`` is where the next push starts, and
a failed push says the cursor of the last page the gateway acknowledged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.gateway import GatewayClient
from lienthong.api.encoders import json_value
from lienthong.api.records import Cursor, records_query, shape, view_for
from lienthong.errors import ExtractError
from lienthong.hub import Hub
from lienthong.warehouse.api_keys import ApiKey
from lienthong.warehouse.audit import append_audit

_JSON = json.JSONEncoder(ensure_ascii=False, default=json_value, separators=(",", ":"))


@dataclass(frozen=True)
class PushResult:
    pages: int
    records: int
    next: str | None  # the cursor to start the next push from (the ``since`` given when nothing was new)


class PushFailed(ExtractError):
    """The gateway refused or kept failing; ``acknowledged`` is the cursor after the last page it took."""

    def __init__(self, cause: ExtractError, acknowledged: str | None, pushed: int) -> None:
        where = f"resume with --since {acknowledged}" if acknowledged else "nothing was acknowledged"
        super().__init__(f"{cause} ({pushed} records acknowledged; {where})",
                         message_vi=f"{cause.message_vi} (đã gửi được {pushed} bản ghi)", source_id=cause.source_id)
        self.acknowledged = acknowledged


def push_changes(hub: Hub, dataset: str, client: GatewayClient, url: str, *, since: str | None = None,
                 page_size: int = 500, pii: bool = False) -> PushResult:
    """Post every record of ``dataset`` changed after ``since`` to ``url``, ``page_size`` at a time.

    Raises:
        PushFailed: the gateway refused a page or kept failing; nothing after the last acknowledged page was sent.
    """
    scopes = {f"read:{dataset}", *({"read:pii"} if pii else ())}
    reader = ApiKey("gateway-push", f"gateway push to {url}", frozenset(scopes), None, None, datetime.now(UTC),
                    None, False)
    view = view_for(hub, reader, dataset)
    cursor, pages, sent = (Cursor.decode(since) if since else None), 0, 0
    while True:
        with hub.engine.begin() as conn:
            recs = shape(conn.execute(records_query(view, since=cursor, filters={}, limit=page_size)).all(), view)
            append_audit(conn, actor=f"cli:gateway-push ({url[:150]})", action="records.push", dataset=dataset,
                         records=len(recs), detail={"url": url, "since": cursor.encode() if cursor else None,
                                                    **view.describe()})
        if not recs:
            return PushResult(pages, sent, cursor.encode() if cursor else since)
        nxt = recs[-1]["cursor"]
        body = _JSON.encode({"dataset": dataset, "records": recs, "next": nxt, "pseudonymised": view.pseudonymised,
                             "withheld": view.withheld}).encode()
        start = cursor.encode() if cursor else ""
        key = hashlib.sha256(f"{dataset}:{start}:{nxt}".encode()).hexdigest()
        try:
            client.post_json(url, body, idempotency_key=key, where=f"{url} (page {pages + 1})")
        except ExtractError as exc:
            raise PushFailed(exc, start or since, sent) from exc
        cursor, pages, sent = Cursor.decode(nxt), pages + 1, sent + len(recs)
