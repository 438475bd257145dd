"""`forget`: no trace of the person's personal data in any table or file it governs, counts still reconcile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.formats import read_payload
from lienthong.open_data.build import build_open_data
from lienthong.warehouse.audit import AuditQuery, query_audit
from lienthong.warehouse.erasure import forget
from lienthong.warehouse.landing import read_raw
from lienthong.warehouse.queries import batches, published_count
from lienthong.warehouse.tables import PUBLISHED, metadata
from lienthong.warehouse.tables import batch as batch_t
from tests.lienthong.open_data.conftest import SUBJECT, Fixture

TRACES = (SUBJECT["id"], SUBJECT["phone"], SUBJECT["name"], "001 185 099 999", "+84 912 999 999", "912999999")


def every_table_text(fx: Fixture) -> dict[str, str]:
    """Every row of every warehouse table as text (JSON columns included), except the raw bytes."""
    out = {}
    with fx.hub.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "raw_payload":
                continue
            rows = conn.execute(select(table)).all()
            out[table.name] = json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)
    return out


def raw_text(fx: Fixture) -> str:
    with fx.hub.engine.connect() as conn:
        ids = conn.execute(select(batch_t.c.batch_id)).scalars().all()
    parts = []
    for batch_id in ids:
        raw = read_raw(fx.hub.engine, batch_id)  # decompressed, checksum verified
        parts.append(raw.payload.decode("utf-8", errors="replace"))
        parts.append(json.dumps(read_payload(raw.payload, raw.media_type, raw.read_options).to_pylist(),
                                ensure_ascii=False))
    return "\n".join(parts)


def test_forget_leaves_no_trace(tempting: Fixture, tmp_path: Path) -> None:
    fx = tempting
    engine = fx.hub.engine
    assert SUBJECT["name"] in raw_text(fx) and SUBJECT["id"] in every_table_text(fx)["pub_members"]
    members_before, relief_before = published_count(engine, "members"), published_count(engine, "relief")
    with engine.connect() as conn:
        relief = PUBLISHED["relief"]
        money_before = sum(conn.execute(select(relief.c.amount_vnd).where(~relief.c.deleted)).scalars())

    erasure = forget(engine, "001.185.099.999", sources=fx.hub.sources, actor="cli:test",
                     pseudonym_key=(b"k" * 32, "k2026"))
    folder = build_open_data(engine, tmp_path / "open-data", fx.hub.code_lists, threshold=5).folder

    assert erasure.published == {"members": 1, "relief": 1}
    assert erasure.quarantine == {"members": 1}
    assert erasure.raw_rows["members"] == 3  # a.csv, b.csv (re-delivery) and b.csv's quarantined row
    tables = every_table_text(fx)
    for name, text in tables.items():
        for trace in TRACES:
            assert trace not in text, (name, trace)
    raw = raw_text(fx)
    for trace in TRACES:
        assert trace not in raw, trace
    for path in folder.iterdir():
        if path.suffix in (".csv", ".json", ".ttl", ".jsonld", ".svg"):
            assert not any(t in path.read_text(encoding="utf-8-sig") for t in TRACES), path.name
    # the member is gone from the counts, the relief transaction (money) is kept without the person
    assert published_count(engine, "members") == members_before - 1
    assert published_count(engine, "relief") == relief_before
    with engine.connect() as conn:
        assert sum(conn.execute(select(relief.c.amount_vnd).where(~relief.c.deleted)).scalars()) == money_before
        tombstone = conn.execute(select(PUBLISHED["members"]).where(
            PUBLISHED["members"].c.record_key == "hlhpn_files:HV900")).one()
    assert tombstone.deleted and tombstone.version == 2 and tombstone.full_name is None
    # nothing lost: every batch still reconciles, and its rows still point at the right raw rows
    assert all(b["reconciled"] for b in batches(engine))
    entries = query_audit(engine, AuditQuery(action="forget"))
    assert {e["dataset"] for e in entries} == {"members", "relief"}
    assert all(e["detail"]["subject"] == "*********999" and e["detail"]["subject_token"].startswith("k2026:")
               for e in entries)


def test_raw_rows_stay_aligned_after_removal(tempting: Fixture) -> None:
    """Rows after a removed one are renumbered: each published row still matches its raw row."""
    fx = tempting
    forget(fx.hub.engine, SUBJECT["id"], sources=fx.hub.sources, actor="cli:test")
    members = PUBLISHED["members"]
    with fx.hub.engine.connect() as conn:
        rows = conn.execute(select(members.c.batch_id, members.c.row_no, members.c.member_id)
                            .where(~members.c.deleted)).all()
    payloads = {}
    for batch_id, row_no, member_id in rows:
        if batch_id not in payloads:
            raw = read_raw(fx.hub.engine, batch_id)
            payloads[batch_id] = read_payload(raw.payload, raw.media_type, raw.read_options).to_pylist()
        assert payloads[batch_id][row_no]["Mã hội viên"] == member_id


def test_unknown_or_malformed_id(tempting: Fixture) -> None:
    from lienthong.errors import HubError

    with pytest.raises(HubError) as err:
        forget(tempting.hub.engine, "12345", sources=tempting.hub.sources, actor="cli:test")
    assert err.value.message_vi
    erasure = forget(tempting.hub.engine, "001185777777", sources=tempting.hub.sources, actor="cli:test")
    assert erasure.datasets == []
    assert query_audit(tempting.hub.engine, AuditQuery(action="forget"))[0]["records"] == 0


def test_forget_reaches_the_entities_the_match_stage_built(tempting: Fixture) -> None:
    from lienthong.pipeline import match_published

    fx = tempting
    match_published(fx.hub, ["members"])
    # the subject's entity holds one record: no golden record is stored for it (it is built from the record when
    # read), so the ID number is in the published record only; the entity itself still goes
    erasure = forget(fx.hub.engine, SUBJECT["id"], sources=fx.hub.sources, actor="cli:test")
    assert erasure.entities == {"members": 1}
    for name, text in every_table_text(fx).items():
        for trace in TRACES:
            assert trace not in text, (name, trace)
    again = match_published(fx.hub, ["members"])["members"]
    assert again["records"] == 0, "the tombstoned records are not matched again"
