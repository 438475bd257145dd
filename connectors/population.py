"""Identity checks against the national population database (CSDLQG về dân cư), through the gateway.

No public API of the population database exists (docs/national-platforms.md, "Population database"): this is the
interface the hub assumes, kept thin so that pointing it at the real service is a change of URL and, at most, of
the field names below. A request asks, for a batch of people, whether ID number, full name, date of birth and sex
agree with the register; the answer is one word per field — ``match``, ``mismatch``, ``not_found`` — and never a
value of the register, so the hub cannot store what it is not given.

The request goes through :class:`connectors.gateway.GatewayClient` (the gateway's token, one refresh on 401, 403
said plainly, 429 waited out with its ``Retry-After``, 5xx retried with backoff); this module adds the pacing to
``rate_per_second`` and the check of the answer.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.gateway import GatewayClient, GatewayToken
from lienthong.errors import ExtractError, HubError

RESULTS = ("match", "mismatch", "not_found")
FIELDS = ("id_number", "full_name", "date_of_birth", "sex")
MAX_BATCH = 100  # what the assumed interface accepts in one request (413 above)


class VerifyConfig(BaseModel):
    """A source's ``verify:`` block: which service, for what purpose, and how hard to ask.

    Example: ``{service: population, purpose: "Xác thực hội viên khi kết nạp (Điều lệ Hội, Điều 5)",
    url: https://lgsp.example.gov.vn/dan-cu/v1/citizens/verify, token: {url: https://lgsp.example.gov.vn/token,
    app_name: MTTQ_LIENTHONG, access_key_env: DANCU_ACCESS_KEY, secret_key_env: DANCU_SECRET_KEY}}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    service: Literal["population"] = "population"
    enabled: bool = Field(default=True, description="Off until the agency's access is granted; e.g. "
                          "`enabled: \"${LIENTHONG_POPULATION_VERIFY:-false}\"` to turn it on per deployment.")
    purpose: str = Field(min_length=10, max_length=300, description="Why the hub asks, as granted to the agency "
                         "(sent with every query and written to the audit log).")
    url: str = Field(description="The verification endpoint, as the gateway publishes it.")
    token: GatewayToken
    required: bool = Field(default=False, description="Hold the source's batches back from publication while the "
                           "service cannot be asked; false: publish them unverified and say so.")
    ttl_days: float = Field(default=30, gt=0, description="An unchanged record is not asked again for this long.")
    batch_size: int = Field(default=100, ge=1, le=MAX_BATCH, description="Records per request.")
    rate_per_second: float = Field(default=20, gt=0, description="Requests per second at most.")
    max_retries: int = Field(default=5, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)
    timeout_s: float = Field(default=30, gt=0)


@dataclass(frozen=True)
class Query:
    """One person to check: ``ref`` is the hub's handle for the answer, never sent back to anyone else."""

    ref: str
    id_number: str
    full_name: str | None
    date_of_birth: str | None  # ISO yyyy-mm-dd
    sex: Literal["male", "female"] | None

    def as_json(self) -> dict[str, str | None]:
        return {"ref": self.ref, "id_number": self.id_number, "full_name": self.full_name,
                "date_of_birth": self.date_of_birth, "sex": self.sex}


@dataclass(frozen=True)
class Answer:
    ref: str
    status: Literal["found", "not_found"]
    fields: dict[str, str]  # field -> match | mismatch | not_found


class ServiceUnavailable(ExtractError):
    """The population database could not be asked (down, refused, or answered something else)."""


class PopulationClient:
    """Asks the verification endpoint in batches, at most ``rate_per_second`` requests a second."""

    def __init__(self, config: VerifyConfig, *, source_id: str) -> None:
        self.config, self.source_id = config, source_id
        self.gateway = GatewayClient(config.token, name=source_id, max_retries=config.max_retries,
                                     backoff_s=config.backoff_s, timeout_s=config.timeout_s)
        self._next_at = 0.0
        self._lock = threading.Lock()

    def verify(self, queries: list[Query], *, request_id: str, requester: dict[str, str | None]) -> list[Answer]:
        """The answers to ``queries`` (at most ``batch_size``), one per query, in any order.

        Raises:
            ServiceUnavailable: the gateway or the service refused, kept failing, or answered malformed JSON.
        """
        self._pace()
        body = json.dumps({"request_id": request_id, "purpose": self.config.purpose, "requester": requester,
                           "queries": [q.as_json() for q in queries]}, ensure_ascii=False).encode()
        try:
            response = self.gateway.post_json(self.config.url, body, idempotency_key=request_id,
                                              where="the population database")
        except HubError as exc:
            raise self._unavailable(str(exc)) from exc
        return self._answers(response.content, queries)

    def close(self) -> None:
        self.gateway.close()

    def _pace(self) -> None:
        """Sleep until the next request is allowed (requests spaced ``1 / rate_per_second`` apart)."""
        with self._lock:
            now = time.monotonic()
            wait = self._next_at - now
            self._next_at = max(now, self._next_at) + 1 / self.config.rate_per_second
        if wait > 0:
            time.sleep(wait)

    def _answers(self, content: bytes, queries: list[Query]) -> list[Answer]:
        asked = {q.ref for q in queries}
        try:
            doc = json.loads(content)
            out = [Answer(r["ref"], r["status"], {f: r["fields"][f] for f in FIELDS}) for r in doc["results"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise self._unavailable(f"its answer is not the expected JSON ({type(exc).__name__}: {exc})") from exc
        bad = [a.ref for a in out if a.status not in ("found", "not_found")
               or any(v not in RESULTS for v in a.fields.values())]
        missing = asked - {a.ref for a in out}
        if bad or missing or len(out) != len(asked):
            raise self._unavailable(f"its answer has {len(missing)} queries unanswered and {len(bad)} results "
                                    "outside match/mismatch/not_found")
        return out

    def _unavailable(self, why: str) -> ServiceUnavailable:
        msg = (f"{self.source_id}: identity verification could not ask the population database at "
               f"{self.config.url}: {why}. Records answered before are kept; the rest are asked on the next run")
        msg_vi = (f"{self.source_id}: chưa đối chiếu được thông tin công dân với Cơ sở dữ liệu quốc gia về dân cư "
                  "(dịch vụ không phản hồi); các bản ghi chưa đối chiếu sẽ được đối chiếu ở lần chạy sau")
        return ServiceUnavailable(msg, message_vi=msg_vi, source_id=self.source_id)
