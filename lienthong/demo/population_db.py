"""A stand-in national population database (CSDLQG về dân cư) answering identity checks, behind the gateway.

No API of the real database is public; this serves the interface the hub assumes (docs/national-platforms.md,
"Population database") so the verify stage is shown and tested against a real HTTP server on 127.0.0.1:

- ``POST /citizens/verify`` with ``{"request_id", "purpose", "requester": {"agency_id", "system",
  "triggered_by"}, "queries": [{"ref", "id_number", "full_name", "date_of_birth", "sex"}]}`` (at most 100
  queries) answers ``{"request_id", "results": [{"ref", "status": "found"|"not_found", "fields": {"id_number",
  "full_name", "date_of_birth", "sex": "match"|"mismatch"|"not_found"}}]}`` — one word per field, never a value
  of the register (a field sent empty is answered ``not_found``: nothing to compare);
- 400 without a purpose or with malformed JSON, 413 above 100 queries; more than ``rate_limit`` requests in a
  ``rate_window_s`` window → 429 with ``Retry-After``; ``down = True`` → 503; ``fail_after = N`` → 503 from the
  (N+1)-th request on (a service that dies mid-run); ``stall_after = N`` holds every request after the N-th until
  ``release`` is set (the asking process can be killed meanwhile).

It is reached only through the stand-in gateway (:func:`serve_population_db`): the gateway's token, rights and
errors apply as they would on an LGSP/NDXP. The register (:func:`register_from_people`) holds, per citizen, the
fields of the Law on Identification 2023, Art. 9 — generated, consistent with the demo's people, and with
deliberate disagreements (a different date of birth, a misspelt name, the other sex, an ID number unknown).
"""

from __future__ import annotations

import csv
import json
import math
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from lienthong.demo.gateway import StandInGateway
from lienthong.demo.stand_in import serve_in_thread

Answer = tuple[int, dict[str, str], bytes]
VERIFY_PATH = "/citizens/verify"
API = "dan-cu"  # the API's name on the gateway
MAX_QUERIES = 100
# Shares of the register that disagree with what the organisations know (the rest agree).
DISAGREEMENTS = {"date_of_birth": 0.03, "full_name": 0.03, "sex": 0.01, "unknown_id": 0.03}
_BLOOD = ("O", "A", "B", "AB")
_RELATION = ("Chủ hộ", "Vợ", "Chồng", "Con", "Cha", "Mẹ")


@dataclass(frozen=True)
class Citizen:
    """A citizen's record, with the fields of the Law on Identification 2023, Art. 9(1)."""

    id_number: str  # số định danh cá nhân (k)
    full_name: str  # họ, chữ đệm và tên khai sinh (a)
    other_names: str | None  # tên gọi khác (b)
    date_of_birth: str  # ngày, tháng, năm sinh (c), ISO
    sex: str  # giới tính (d): male | female
    birth_registration_place: str  # nơi đăng ký khai sinh (đ): province code of the CCCD
    home_town: str  # quê quán (e)
    ethnicity: str  # dân tộc (g)
    religion: str | None  # tôn giáo (h)
    nationality: str  # quốc tịch (i)
    blood_type: str | None  # nhóm máu (k)
    permanent_residence: str  # nơi thường trú (m)
    temporary_residence: str | None  # nơi tạm trú (n)
    current_residence: str  # nơi ở hiện tại (p)
    relationship_to_head: str  # quan hệ với chủ hộ (r)
    head_of_household_id: str | None  # số định danh của chủ hộ (s)
    father_id: str | None = None  # cha, mẹ, vợ/chồng, người đại diện: số định danh (t)
    mother_id: str | None = None
    spouse_id: str | None = None
    date_of_death: str | None = None  # ngày chết / mất tích (x)


def register_from_people(people_csv: Path, *, seed: int = 7) -> dict[str, Citizen]:
    """The register, by ID number, of the people in the demo's ``truth/people.csv`` who hold a 12-digit CCCD,
    with :data:`DISAGREEMENTS` of them changed (and ``unknown_id`` left out)."""
    with people_csv.open(encoding="utf-8", newline="") as f:
        people = [p for p in csv.DictReader(f) if len(p["id_number"] or "") == 12]
    rng = np.random.default_rng([19, seed])
    register: dict[str, Citizen] = {}
    for p in people:
        draw = rng.random(4)
        if draw[3] < DISAGREEMENTS["unknown_id"]:
            continue
        dob = date.fromisoformat(p["date_of_birth"])
        if draw[0] < DISAGREEMENTS["date_of_birth"]:
            dob += timedelta(days=int(rng.integers(1, 400)))
        name = _misspelt(p["full_name"], rng) if draw[1] < DISAGREEMENTS["full_name"] else p["full_name"]
        sex = "male" if p["sex"] == "M" else "female"
        if draw[2] < DISAGREEMENTS["sex"]:
            sex = "female" if sex == "male" else "male"
        address = f"{p['address']}, {p['ward_code']}"
        register[p["id_number"]] = Citizen(
            id_number=p["id_number"], full_name=name, other_names=None, date_of_birth=dob.isoformat(), sex=sex,
            birth_registration_place=p["id_number"][:3], home_town=p["ward_code"], ethnicity=p["ethnicity_code"],
            religion=p["religion_code"] or None, nationality="VN", blood_type=_BLOOD[int(rng.integers(0, 4))],
            permanent_residence=address, temporary_residence=None, current_residence=address,
            relationship_to_head=_RELATION[int(rng.integers(0, len(_RELATION)))], head_of_household_id=None)
    return register


def _misspelt(name: str, rng: np.random.Generator) -> str:
    """The name with one letter of its given name doubled: "Nguyễn Văn Nam" → "Nguyễn Văn Namm"."""
    parts = name.split(" ")
    given = parts[-1]
    i = int(rng.integers(0, len(given)))
    parts[-1] = given[:i + 1] + given[i:]
    return " ".join(parts)


def _same_name(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())
    return norm(a) == norm(b)


@dataclass
class PopulationDb:
    """The service behind the gateway: compares what it is asked with :attr:`register`."""

    register: dict[str, Citizen]
    url: str = ""
    rate_limit: int | None = None  # requests per window; None: no limit
    rate_window_s: float = 1.0
    down: bool = False
    fail_after: int | None = None  # answer this many requests, then 503
    stall_after: int | None = None  # answer this many requests, then hold the next ones until ``release`` is set
    release: threading.Event = field(default_factory=threading.Event, repr=False)
    stalled: threading.Event = field(default_factory=threading.Event, repr=False)  # a request is being held
    requests: list[dict[str, Any]] = field(default_factory=list)  # every request: id, purpose, size, status
    _window: tuple[float, int] = (0.0, 0)
    _answered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def queries_answered(self) -> int:
        return sum(r["queries"] for r in self.requests if r["status"] == 200)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        status, head, data, doc = self._answer(method, path, headers, body)
        with self._lock:
            self.requests.append({"status": status, "at": time.monotonic(),
                                  "request_id": doc.get("request_id") if isinstance(doc, dict) else None,
                                  "purpose": doc.get("purpose") if isinstance(doc, dict) else None,
                                  "queries": len(doc.get("queries") or []) if isinstance(doc, dict) else 0})
        return status, head, data

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes, Any]:
        if method != "POST" or path.split("?")[0] != VERIFY_PATH:
            return (*_json(404, {"error": "not_found", "message": f"no {method} {path}"}), None)
        try:
            doc = json.loads(body)
            queries = doc["queries"]
            if not isinstance(queries, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return (*_json(400, {"error": "bad_request", "message": "body is not the verification JSON"}), None)
        if not str(doc.get("purpose") or "").strip():
            return (*_json(400, {"error": "purpose_required", "message": "every query states its purpose"}), doc)
        if len(queries) > MAX_QUERIES:
            return (*_json(413, {"error": "too_many", "message": f"at most {MAX_QUERIES} queries"}), doc)
        wait = self._rate()
        if wait:
            status, head, data = _json(429, {"error": "rate_limited", "message": "too many requests"})
            return status, {**head, "Retry-After": str(wait)}, data, doc
        with self._lock:
            if self.down or (self.fail_after is not None and self._answered >= self.fail_after):
                return (*_json(503, {"error": "unavailable", "message": "service unavailable"}), doc)
            stall = self.stall_after is not None and self._answered >= self.stall_after
            self._answered += 1
        if stall:  # a test kills the asking process meanwhile
            self.stalled.set()
            self.release.wait(timeout=120)
        results = [self._check(q) for q in queries]
        return (*_json(200, {"request_id": doc.get("request_id"), "results": results}), doc)

    def _check(self, query: dict[str, Any]) -> dict[str, Any]:
        citizen = self.register.get(str(query.get("id_number") or ""))
        if citizen is None:
            return {"ref": query.get("ref"), "status": "not_found",
                    "fields": dict.fromkeys(("id_number", "full_name", "date_of_birth", "sex"), "not_found")}

        def compare(asked: Any, same: bool) -> str:
            return "not_found" if asked in (None, "") else ("match" if same else "mismatch")

        name, dob, sex = query.get("full_name"), query.get("date_of_birth"), query.get("sex")
        return {"ref": query.get("ref"), "status": "found", "fields": {
            "id_number": "match",
            "full_name": compare(name, bool(name) and _same_name(name, citizen.full_name)),
            "date_of_birth": compare(dob, dob == citizen.date_of_birth),
            "sex": compare(sex, sex == citizen.sex)}}

    def _rate(self) -> int:
        """0 when the request is allowed, else the whole seconds until the window ends."""
        if self.rate_limit is None:
            return 0
        now = time.monotonic()
        with self._lock:
            start, calls = self._window
            if now - start >= self.rate_window_s:
                start, calls = now, 0
            self._window = (start, calls + 1)
        return 0 if calls < self.rate_limit else max(1, math.ceil(start + self.rate_window_s - now))


@dataclass(frozen=True)
class PopulationEndpoint:
    """Where the hub reaches the stand-in, and the connection account it was given (secrets in memory only)."""

    db: PopulationDb
    gateway: StandInGateway
    verify_url: str
    token_url: str
    app_name: str
    access_key: str
    secret: str


@contextmanager
def serve_population_db(register: dict[str, Citizen], *, app_name: str = "MTTQ_LIENTHONG",
                        port: int = 0) -> Iterator[PopulationEndpoint]:
    """The stand-in population database behind a stand-in gateway on 127.0.0.1, for the ``with`` block."""
    db = PopulationDb(register)
    gateway = StandInGateway()
    gateway.services[API] = db
    app = gateway.add_app(app_name, {API})
    with serve_in_thread(gateway, name="stand-in-population-db", port=port):
        yield PopulationEndpoint(db, gateway, f"{gateway.url}/{API}{VERIFY_PATH}", f"{gateway.url}/token",
                                 app_name, app.access_key, app.secret)


def _json(status: int, body: Any) -> Answer:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body, ensure_ascii=False).encode()
