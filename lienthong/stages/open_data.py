"""Open data, first cut: aggregate counts per province from the published datasets, small cells suppressed.

Only aggregates leave the hub: no row of a person, and a cell counting fewer than the threshold (default 5)
people is written empty with ``suppressed = true`` so it cannot single anyone out. Complementary suppression and
the portal formats come with the open-data issue.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine, func, select

from catalog.model import CodeList
from lienthong.warehouse.tables import PUBLISHED


def write_open_data(engine: Engine, folder: Path, code_lists: Mapping[str, CodeList], *, threshold: int) -> list[Path]:
    """Write the open aggregate tables to ``folder`` as CSV (UTF-8 with BOM so Excel shows Vietnamese)."""
    folder.mkdir(parents=True, exist_ok=True)
    provinces = code_lists["provinces"]
    orgs = code_lists["organisations"]
    members, feedback, relief = PUBLISHED["members"], PUBLISHED["feedback"], PUBLISHED["relief"]
    with engine.connect() as conn:
        member_rows = conn.execute(
            select(members.c.province_code, members.c.organisation, func.count().label("members"))
            .where(~members.c.deleted).group_by(members.c.province_code, members.c.organisation)
            .order_by(members.c.province_code, members.c.organisation)
        ).all()
        feedback_rows = conn.execute(
            select(feedback.c.province_code, func.count().label("feedback"),
                   func.count().filter(feedback.c.status == "resolved").label("resolved"))
            .where(~feedback.c.deleted).group_by(feedback.c.province_code).order_by(feedback.c.province_code)
        ).all()
        relief_rows = conn.execute(
            select(relief.c.campaign, relief.c.province_code, relief.c.role,
                   func.count().label("transactions"), func.sum(relief.c.amount_vnd).label("amount_vnd"))
            .where(~relief.c.deleted).group_by(relief.c.campaign, relief.c.province_code, relief.c.role)
            .order_by(relief.c.campaign, relief.c.province_code, relief.c.role)
        ).all()

    def province(code: str | None) -> tuple[str, str]:
        unknown = "Chưa xác định"  # rows whose ward is not known to the catalog have no province
        return (code, provinces.label(code) or unknown) if code else ("", unknown)

    written = [
        _write(folder / "members_by_province.csv",
               ["province_code", "province_name", "organisation", "organisation_name", "members", "suppressed"],
               [(*province(p), o, orgs.label(o) or o, *_suppress(n, threshold)) for p, o, n in member_rows]),
        _write(folder / "feedback_by_province.csv",
               ["province_code", "province_name", "feedback", "resolved", "suppressed"],
               [(*province(p), *_suppress_many((n, r), threshold)) for p, n, r in feedback_rows]),
        _write(folder / "relief_by_campaign_province.csv",
               ["campaign", "province_code", "province_name", "role", "transactions", "amount_vnd", "suppressed"],
               [(c, *province(p), role, *_suppress_many((n, amount), threshold, count_index=0))
                for c, p, role, n, amount in relief_rows]),
    ]
    return written


def _suppress(count: int, threshold: int) -> tuple[object, bool]:
    return ("", True) if 0 < count < threshold else (count, False)


def _suppress_many(values: tuple, threshold: int, count_index: int = 0) -> tuple:
    if 0 < values[count_index] < threshold:
        return (*[""] * len(values), True)
    return (*values, False)


def _write(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path
