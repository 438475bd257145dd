"""The verify stage: check staged people against the national population database before they are published.

Runs in the one job right before publishing (``lienthong.pipeline.publish_all``), so every door — sync, Airflow's
publish task, an API push, a web upload — verifies the same way; ``lienthong check`` does not (it calls no
outside service, and says so). Per source with a ``verify:`` block (``connectors.population.VerifyConfig``):

1. its staged rows with a 12-digit CCCD are the candidates (a 9-digit CMND or no number: not asked);
2. a record whose stored answer is about the same values (``asked_sha256``) and not older than ``ttl_days`` is
   not asked again; the others are asked ``batch_size`` at a time, paced to ``rate_per_second``;
3. each answered request is stored with its audit entry (purpose, who triggered it, counts) at once, so a run
   that dies midway resumes where it stopped;
4. each staged row gets the issue codes of its answer (a field that differs, an ID the register does not know),
   added to what cleaning found: the values the organisation sent are never changed;
5. published records never answered (published while the service was down) are asked too, and their flags are
   published in place (version and ``published_seq`` bumped, so consumers syncing by cursor see them).

When the service cannot be asked, the stage says so in one line (English, and Vietnamese for clerks) and the
source's batches are published unverified — unless the source says ``required: true``: then they stay staged
and the next run (any door) tries again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from connectors.population import PopulationClient, Query, ServiceUnavailable
from lienthong.cleaning.base import IssueType, Severity
from lienthong.errors import HubError
from lienthong.registry import SourceConfig
from lienthong.warehouse.verification import (
    StagedPerson,
    as_of,
    flag_published,
    flag_staged,
    outcome_of,
    staged_people,
    store_answers,
    stored_results,
    unverified_published,
)

log = logging.getLogger(__name__)

ISSUES: dict[str, IssueType] = {
    i.code: i
    for i in (
        IssueType("population_full_name_mismatch", Severity.FLAGGED,
                  "Họ và tên khác với Cơ sở dữ liệu quốc gia về dân cư (theo số CCCD): hãy đối chiếu với thẻ "
                  "căn cước của hội viên.",
                  "Full name differs from the national population database for this CCCD."),
        IssueType("population_date_of_birth_mismatch", Severity.FLAGGED,
                  "Ngày sinh khác với Cơ sở dữ liệu quốc gia về dân cư (theo số CCCD): hãy đối chiếu với thẻ "
                  "căn cước.",
                  "Date of birth differs from the national population database for this CCCD."),
        IssueType("population_sex_mismatch", Severity.FLAGGED,
                  "Giới tính khác với Cơ sở dữ liệu quốc gia về dân cư (theo số CCCD).",
                  "Sex differs from the national population database for this CCCD."),
        IssueType("population_id_not_found", Severity.FLAGGED,
                  "Số CCCD không có trong Cơ sở dữ liệu quốc gia về dân cư: có thể ghi sai số, hãy kiểm tra lại.",
                  "The CCCD is not in the national population database (possibly mistyped)."),
    )
}
_SEX = {"1": "male", "2": "female"}  # the shared list's codes (catalog sexes); 3 (undetermined) is not asked


@dataclass
class SourceVerification:
    """What the stage did for one source."""

    source_id: str
    candidates: int = 0  # staged records with a 12-digit CCCD
    asked: int = 0  # sent to the service in this run
    cached: int = 0  # answered by a stored answer still valid
    requests: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # match | mismatch | not_found, of the candidates
    error: HubError | None = None  # the service could not be asked (some records left unanswered)
    held: bool = False  # required: true and unanswered records: the source's batches stay staged


def verify_staged(engine: Engine, dataset: str, sources: list[SourceConfig], *, actor: str,
                  now: datetime | None = None) -> list[SourceVerification]:
    """Verify the staged rows of every source of ``dataset`` that has a ``verify:`` block.

    Args:
        engine: the warehouse.
        dataset: the dataset about to be published.
        sources: the registry's sources (those of other datasets or without ``verify`` are skipped).
        actor: who triggered the run, for the audit log (``cli:<user>``, ``airflow:<dag>``, ``key:<id> (...)``).
        now: the clock (tests).

    Returns:
        One result per verifying source; a source whose service could not be asked carries ``error`` (and ``held``
        when it requires verification), never raises for it.
    """
    out = []
    for source in sources:
        if source.dataset != dataset or source.verify is None or not source.verify.enabled:
            continue
        result = SourceVerification(source.id)
        try:
            _verify_source(engine, dataset, source, result, actor=actor, now=now or datetime.now(UTC))
        except ServiceUnavailable as exc:
            result.error = exc
            result.held = source.verify.required
            log.warning("%s%s", exc, " — its batches stay staged (verify.required)" if result.held else "")
        out.append(result)
    return out


def _verify_source(engine: Engine, dataset: str, source: SourceConfig, result: SourceVerification, *,
                   actor: str, now: datetime) -> None:
    config = source.verify
    assert config is not None  # noqa: S101 - checked by the caller
    rows = [r for r in staged_people(engine, dataset, source.id) if _is_cccd(r.id_number)]
    latest = {r.record_key: r for r in rows}  # a record in two staged batches: the newest is what gets published
    result.candidates = len(latest)
    stored = stored_results(engine, dataset, latest)
    fresh = {k for k, row in stored.items()
             if row["asked_sha256"] == asked_sha256(latest[k]) and as_of(row["expires_at"]) > as_of(now)}
    result.cached = len(fresh)
    to_ask = [r for k, r in latest.items() if k not in fresh]
    try:
        if to_ask:
            _ask(engine, dataset, source, to_ask, result, actor=actor, now=now)
        _verify_backlog(engine, dataset, source, result, actor=actor, now=now)
    finally:  # what was answered is flagged even when the service stopped answering midway
        answers = stored_results(engine, dataset, latest)
        flags = []
        for r in rows:
            answer = answers.get(r.record_key)
            if answer is None or answer["asked_sha256"] != asked_sha256(r):
                continue
            if r is latest[r.record_key]:
                result.outcomes[outcome_of(answer)] += 1
            issues = with_issues(r.issues, issue_codes(answer))
            if issues != r.issues:
                flags.append((r.batch_id, r.row_no, issues))
        flag_staged(engine, dataset, flags)
    log.info("verify %s: %d candidates, %d asked in %d requests, %d from the cache: %s", source.id,
             result.candidates, result.asked, result.requests, result.cached, dict(result.outcomes))


def _verify_backlog(engine: Engine, dataset: str, source: SourceConfig, result: SourceVerification, *,
                    actor: str, now: datetime) -> None:
    """Ask about the published records never answered (published while the service was down, or before the source
    verified) and flag them in place, as a new publication."""
    backlog = unverified_published(engine, dataset, source.id)
    if not backlog:
        return
    try:
        _ask(engine, dataset, source, backlog, result, actor=actor, now=now)
    finally:
        answers = stored_results(engine, dataset, {p.record_key for p in backlog})
        flags = []
        for p in backlog:
            answer = answers.get(p.record_key)
            if answer is not None:
                result.outcomes[outcome_of(answer)] += 1
                issues = with_issues(p.issues, issue_codes(answer))
                if issues != p.issues:
                    flags.append((p.record_key, issues))
        moved = flag_published(engine, dataset, flags)
        log.info("verify %s: %d published records asked after the fact, %d flagged", source.id, len(backlog), moved)


def _ask(engine: Engine, dataset: str, source: SourceConfig, people: list[StagedPerson],
         result: SourceVerification, *, actor: str, now: datetime) -> None:
    config = source.verify
    assert config is not None  # noqa: S101
    client = PopulationClient(config, source_id=source.id)
    requester = {"agency_id": source.agency_id, "system": "lienthong", "triggered_by": actor}
    try:
        for start in range(0, len(people), config.batch_size):
            chunk = people[start:start + config.batch_size]
            request_id = str(uuid.uuid4())
            refs = {f"q{i}": p for i, p in enumerate(chunk)}
            answers = client.verify([_query(ref, p) for ref, p in refs.items()], request_id=request_id,
                                    requester=requester)
            asked_at = now
            rows = [{"dataset": dataset, "record_key": refs[a.ref].record_key, "source_id": source.id,
                     "asked_sha256": asked_sha256(refs[a.ref]), "status": a.status,
                     "id_number_result": a.fields["id_number"], "full_name_result": a.fields["full_name"],
                     "date_of_birth_result": a.fields["date_of_birth"], "sex_result": a.fields["sex"],
                     "purpose": config.purpose, "request_id": request_id, "asked_at": asked_at,
                     "expires_at": asked_at + timedelta(days=config.ttl_days)} for a in answers]
            counts = Counter(outcome_of(r) for r in rows)
            store_answers(engine, dataset, rows, actor=actor, audit={
                "service": config.service, "purpose": config.purpose, "source_id": source.id,
                "agency_id": source.agency_id, "request_id": request_id, "url": config.url,
                "asked": len(chunk), "match": counts["match"], "mismatch": counts["mismatch"],
                "not_found": counts["not_found"]})
            result.asked += len(chunk)
            result.requests += 1
    finally:
        client.close()


def _query(ref: str, person: StagedPerson) -> Query:
    dob = person.date_of_birth
    return Query(ref, person.id_number or "", person.full_name,
                 dob.isoformat() if hasattr(dob, "isoformat") else (str(dob) if dob else None),
                 _SEX.get(person.sex or ""))  # type: ignore[arg-type]


def _is_cccd(value: str | None) -> bool:
    return value is not None and len(value) == 12 and value.isdigit()


def asked_sha256(person: StagedPerson) -> str:
    """The cache key: what would be asked about the person. A change of any of the four asks again."""
    q = _query("", person)
    text = "\x1f".join(v or "" for v in (q.id_number, q.full_name, q.date_of_birth, q.sex))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def issue_codes(answer: dict) -> list[str]:
    """The issue codes of a stored answer: what differs, or an ID the register does not know."""
    if answer["status"] == "not_found":
        return ["population_id_not_found"]
    return [f"population_{f}_mismatch" for f in ("full_name", "date_of_birth", "sex")
            if answer[f"{f}_result"] == "mismatch"]


def with_issues(issues: str | None, codes: list[str]) -> str | None:
    """``issues`` with the population codes replaced by ``codes`` (so running twice adds nothing)."""
    kept = [c for c in (issues or "").split(";") if c and c not in ISSUES]
    merged = kept + codes
    return ";".join(merged) if merged else None
