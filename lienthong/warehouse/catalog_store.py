"""Loading the shared code lists into the warehouse, one row per (list, version), keeping old versions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from catalog import typed_code_list
from catalog.model import CodeList, CodeValue
from lienthong.warehouse.tables import code_list, code_value


def store_code_lists(engine: Engine, lists: Iterable[CodeList]) -> list[tuple[str, str, bool]]:
    """Store each list's version unless present, and make it the current one.

    Returns (name, version, newly stored) per list.
    """
    now = datetime.now(UTC)
    out = []
    with engine.begin() as conn:
        for cl in lists:
            exists = conn.execute(
                select(code_list.c.name).where(code_list.c.name == cl.name, code_list.c.version == cl.version)
            ).first()
            if not exists:
                conn.execute(insert(code_list).values(
                    name=cl.name, version=cl.version, title_vi=cl.title_vi, title_en=cl.title_en,
                    valid_from=cl.valid_from, basis=cl.basis, is_current=False, loaded_at=now,
                ))
                conn.execute(insert(code_value), [
                    {"list_name": cl.name, "version": cl.version, "code": v.code, "label_vi": v.label_vi,
                     "label_en": v.label_en, "parent": v.parent, "aliases": list(v.aliases),
                     "valid_from": v.valid_from, "valid_to": v.valid_to}
                    for v in cl.values
                ])
            conn.execute(update(code_list).where(code_list.c.name == cl.name)
                         .values(is_current=code_list.c.version == cl.version))
            out.append((cl.name, cl.version, not exists))
    return out


def stored_versions(engine: Engine) -> list[dict]:
    """Every stored list version, newest first per list."""
    with engine.connect() as conn:
        rows = conn.execute(select(code_list).order_by(code_list.c.name, code_list.c.loaded_at.desc())).mappings()
        return [dict(r) for r in rows]


def load_current_code_lists(engine: Engine) -> dict[str, CodeList]:
    """The current version of every code list stored in the warehouse — what validation checks against."""
    with engine.connect() as conn:
        heads = conn.execute(select(code_list).where(code_list.c.is_current)).mappings().all()
        values = conn.execute(
            select(code_value).join(
                code_list,
                (code_list.c.name == code_value.c.list_name) & (code_list.c.version == code_value.c.version),
            ).where(code_list.c.is_current)
        ).mappings().all()
    by_list: dict[str, list[CodeValue]] = {}
    for v in values:
        by_list.setdefault(v["list_name"], []).append(CodeValue(
            code=v["code"], label_vi=v["label_vi"], label_en=v["label_en"], parent=v["parent"],
            aliases=tuple(v["aliases"] or ()), valid_from=v["valid_from"], valid_to=v["valid_to"],
        ))
    return {
        h["name"]: typed_code_list(CodeList(
            name=h["name"], version=h["version"], title_vi=h["title_vi"], title_en=h["title_en"],
            valid_from=h["valid_from"], basis=h["basis"], values=tuple(by_list.get(h["name"], ())),
        ))  # typed: the wards list answers codes only (names are looked up within a province)
        for h in heads
    }
