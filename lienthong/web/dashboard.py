"""The quality dashboard: per source the last batch, rows, quality score over time, freshness against the
schedule and the most frequent failing rules; records by province; the review queue of uncertain matches.

An admin key sees every source; any other key sees only the sources it may push to (a member organisation's
clerk watches their own feeds). Records by province and the review queue show the whole hub and personal data,
so they are for admin keys only. Everything is read from the warehouse's own tables (batch, quarantine,
``pub_<dataset>``, ``match_review``); nothing here writes except a reviewer's decision, which goes through
``lienthong.match.review.apply_decision`` and is audited.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine, func, inspect, select

from catalog import get_code_list
from lienthong.api.context import ApiContext, get_context
from lienthong.api.errors import ApiError
from lienthong.registry import SourceConfig
from lienthong.warehouse.audit import append_audit
from lienthong.warehouse.tables import PUBLISHED, quarantine
from lienthong.warehouse.tables import batch as batch_t
from lienthong.warehouse.verification import verification_counts
from lienthong.web import charts
from lienthong.web.session import SignedIn, Visitor, WebRoute, check_csrf, render
from lienthong.web.words import rule_name, schedule_words
from quality.reasons import mask_value
from schemas import get_contract
from schemas.base import Privacy

router = APIRouter(include_in_schema=False, route_class=WebRoute)
Context = Annotated[ApiContext, Depends(get_context)]
SCORE_POINTS = 30  # batches per source on the quality chart
REASON_ROWS = 20_000  # newest open quarantined rows counted for the top failing rules
REVIEW_SHOWN = 25
REVIEW_FIELDS = ("full_name", "date_of_birth", "sex", "id_number", "phone", "ward_code", "organisation")


@router.get("/dashboard")
def dashboard(request: Request, who: SignedIn, ctx: Context, decided: bool = False) -> Response:
    key = who.key
    sources = [s for s in ctx.hub.sources.values() if key.can_push(s.id)]
    if not sources and not key.is_admin():
        raise ApiError(403, "forbidden", f"key {key.key_id} may push to no source", who.t("error.forbidden"))
    engine = ctx.hub.engine
    rows = source_rows(engine, sources, who)
    history = score_history(engine, [s.id for s in sources])
    score_svg = charts.line_chart(
        {s.id: history.get(s.id, []) for s in sources}, title=who.t("dash.score_chart"),
        desc="; ".join(f"{s.title} ({s.id}): {len(history.get(s.id, []))}" for s in sources))
    provinces = province_charts(engine, who) if key.is_admin() else []
    review = review_queue(engine) if key.is_admin() else None
    return render(request, who, "dashboard.html", rows=rows, score_svg=score_svg, history=history,
                  sources=sources, rules=top_rules(engine, [s.id for s in sources], who), provinces=provinces,
                  review=review, decided=decided,
                  verification=verification_counts(engine, source_ids=[s.id for s in sources]))


@router.post("/review/{item_id}")
def decide(item_id: int, who: SignedIn, ctx: Context, decision: Annotated[str, Form(max_length=16)] = "",
           csrf: Annotated[str, Form(max_length=100)] = "") -> RedirectResponse:
    """Accept ("same person") or reject a pair of the review queue (admin keys)."""
    check_csrf(who, csrf)
    if not who.key.is_admin():
        raise ApiError(403, "forbidden", "reviewing matches needs an admin key", who.t("error.forbidden"))
    if decision not in ("accepted", "rejected"):
        raise ApiError(422, "invalid_decision", "decision must be accepted or rejected", "Quyết định không hợp lệ")
    from lienthong.match.review import apply_decision

    outcome = apply_decision(ctx.hub.engine, item_id, decision, who.key.actor)
    if outcome is None:
        raise ApiError(404, "not_found", f"no review item {item_id}", f"Không có cặp hồ sơ số {item_id}")
    with ctx.hub.engine.begin() as conn:
        append_audit(conn, actor=who.key.actor, action="review.decide", dataset=None, records=2,
                     detail={**outcome, "via": "web"})
    return RedirectResponse("/dashboard?decided=true#review", status_code=303)


# --- what the page shows ---------------------------------------------------------------------------------------

def source_rows(engine: Engine, sources: list[SourceConfig], who: Visitor) -> list[dict[str, Any]]:
    """One line per source: batches, rows, the last batch and its score, published records, freshness."""
    ids = [s.id for s in sources]
    with engine.connect() as conn:
        totals = {r.source_id: r for r in conn.execute(
            select(batch_t.c.source_id, func.count().label("batches"), func.sum(batch_t.c.rows_read).label("read"),
                   func.sum(batch_t.c.rows_valid).label("valid"),
                   func.sum(batch_t.c.rows_quarantined).label("quarantined"),
                   func.max(batch_t.c.landed_at).label("last"))
            .where(batch_t.c.source_id.in_(ids)).group_by(batch_t.c.source_id))}
        published: dict[str, int] = {}
        for dataset in {s.dataset for s in sources}:
            table = PUBLISHED[dataset]
            published.update({r[0]: r[1] for r in conn.execute(
                select(table.c.source_id, func.count()).where(~table.c.deleted, table.c.source_id.in_(ids))
                .group_by(table.c.source_id))})
    out = []
    for s in sources:
        t = totals.get(s.id)
        read, valid = (t.read or 0, t.valid or 0) if t else (0, 0)
        last = _aware(t.last) if t else None
        out.append({"source": s, "batches": t.batches if t else 0, "rows_read": read,
                    "rows_quarantined": (t.quarantined or 0) if t else 0, "published": published.get(s.id, 0),
                    "score": round(100 * valid / read, 1) if read else None, "last": last,
                    "freshness": freshness(s.schedule.cron, last), "schedule": s.schedule.cron,
                    "schedule_words": schedule_words(s.schedule.cron)})
    return out


def freshness(cron: str | None, last: datetime | None, now: datetime | None = None) -> str:
    """``ok`` / ``late`` / ``never`` / ``on_demand``: late when nothing arrived since the second-to-last time the
    schedule fired (one missed run is tolerated: a file dropped a little late is not an alarm)."""
    if not cron:
        return "on_demand"
    if last is None:
        return "never"
    now = now or datetime.now(UTC)
    try:
        from croniter import croniter  # comes with Airflow; without it only the @-presets are understood
    except ImportError:
        period = _PRESETS.get(cron)
        return "ok" if period is None or last >= now - 2 * period else "late"
    it = croniter(cron, now)
    it.get_prev(datetime)
    second_last = it.get_prev(datetime)
    return "ok" if last >= second_last else "late"


_PRESETS = {"@hourly": timedelta(hours=1), "@daily": timedelta(days=1), "@weekly": timedelta(weeks=1),
            "@monthly": timedelta(days=31), "@yearly": timedelta(days=366)}


def score_history(engine: Engine, source_ids: list[str]) -> dict[str, list[tuple[datetime, float]]]:
    """Per source, (processed at, % valid rows) of its last processed batches, oldest first."""
    out: dict[str, list[tuple[datetime, float]]] = {}
    with engine.connect() as conn:
        for sid in source_ids:
            rows = conn.execute(
                select(batch_t.c.processed_at, batch_t.c.rows_read, batch_t.c.rows_valid)
                .where(batch_t.c.source_id == sid, batch_t.c.rows_valid.is_not(None), batch_t.c.rows_read > 0)
                .order_by(batch_t.c.seq.desc()).limit(SCORE_POINTS)).all()
            out[sid] = [(_aware(r.processed_at), 100.0 * r.rows_valid / r.rows_read) for r in reversed(rows)]
    return out


def top_rules(engine: Engine, source_ids: list[str], who: Visitor, limit: int = 10) -> list[dict[str, Any]]:
    """The (rule, column) pairs failed by most open quarantined rows, with one example message each."""
    counts: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], dict] = {}
    labels: dict[str, str] = {}
    with engine.connect() as conn:
        for dataset, reasons in conn.execute(
                select(quarantine.c.dataset, quarantine.c.reasons)
                .where(quarantine.c.status == "open", quarantine.c.source_id.in_(source_ids))
                .order_by(quarantine.c.created_at.desc()).limit(REASON_ROWS)):
            seen = set()
            for r in reasons:
                pair = (r.get("rule", "?"), r.get("column", "?"))
                if pair not in seen:
                    seen.add(pair)
                    counts[pair] += 1
                    example.setdefault(pair, r)
                    labels.setdefault(pair[1], _label(dataset, pair[1]))
    return [{"rule": rule, "name": rule_name(rule), "column": column, "label": labels[column], "count": n,
             "example": example[(rule, column)]} for (rule, column), n in counts.most_common(limit)]


def _label(dataset: str, column: str) -> str:
    """The Vietnamese label of a contract field (what a clerk calls it), else the name as it is."""
    try:
        return get_contract(dataset).field(column).label_vi
    except (KeyError, LookupError, ValueError, AttributeError):
        return column


def province_charts(engine: Engine, who: Visitor) -> list[dict[str, Any]]:
    """Per published dataset with a province, its live records by province as a bar chart and a table."""
    provinces = get_code_list("provinces")
    out = []
    for dataset, table in PUBLISHED.items():
        if "province_code" not in table.c:
            continue
        with engine.connect() as conn:
            counts = conn.execute(select(table.c.province_code, func.count()).where(~table.c.deleted)
                                  .group_by(table.c.province_code).order_by(func.count().desc())).all()
        if not counts:
            continue
        unknown = "(không rõ)" if who.lang == "vi" else "(unknown)"
        bars = [(provinces.label(code) or code if code else unknown, n) for code, n in counts]
        contract = get_contract(dataset)
        title = f"{who.t('dash.province_chart')} — {contract.title_en if who.lang == 'en' else contract.title_vi}"
        out.append({"dataset": dataset, "title": title, "bars": bars,
                    "svg": charts.bar_chart(bars, title=title, desc=", ".join(f"{b}: {n}" for b, n in bars[:10]))})
    return out


def review_queue(engine: Engine) -> dict[str, Any] | None:
    """Open pairs of the review queue with both records side by side (identifiers masked); None when matching
    is not part of this warehouse (its module or table is missing)."""
    try:
        from lienthong.warehouse import tables_match
    except ImportError:
        return None
    if not inspect(engine).has_table(tables_match.match_review.name):
        return None
    items = tables_match.review_items(engine, status="open")
    shown = []
    for item in items[:REVIEW_SHOWN]:
        table = PUBLISHED.get(item["dataset"])
        records = {}
        if table is not None:
            cols = [table.c.record_key, *(table.c[f] for f in REVIEW_FIELDS if f in table.c)]
            with engine.connect() as conn:
                records = {r.record_key: dict(r._mapping) for r in conn.execute(
                    select(*cols).where(table.c.record_key.in_([item["record_key_l"], item["record_key_r"]])))}
        shown.append({**item, "left": _masked(item["dataset"], records.get(item["record_key_l"])),
                      "right": _masked(item["dataset"], records.get(item["record_key_r"]))})
    return {"items": shown, "total": len(items)}


def _masked(dataset: str, record: dict | None) -> dict[str, str]:
    """A record for the reviewer: names and dates in the clear (what they compare), ID numbers and phones masked."""
    if record is None:
        return {}
    contract = get_contract(dataset)
    out = {}
    for name in REVIEW_FIELDS:
        value = record.get(name)
        if value is None:
            continue
        spec = contract.field(name)
        if spec.privacy is Privacy.DIRECT_IDENTIFIER and name != "full_name":
            shown = mask_value(value, Privacy.DIRECT_IDENTIFIER)
        elif isinstance(value, date):
            shown = f"{value:%d/%m/%Y}"
        elif spec.code_list:
            label = get_code_list(spec.code_list).label(str(value))
            shown = f"{label} ({value})" if label else str(value)
        else:
            shown = str(value)
        out[spec.label_vi] = shown
    out["Mã bản ghi"] = record.get("record_key", "")
    return out


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive UTC timestamps, PostgreSQL aware ones; compare them as aware."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
