"""Charts for people who would rather look than read: members by province, relief by campaign (PNG and SVG).

Drawn from the *published* cells only (after suppression), so a chart can never show what the tables hide.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and in Airflow workers
import matplotlib.pyplot as plt  # noqa: E402

_STYLE = {"svg.hashsalt": "lienthong", "svg.fonttype": "path", "font.size": 9}
FORMATS = ("png", "svg")
DRAWING = 1  # bump when a chart is drawn differently: releases then redraw instead of copying the old files


def figures_digest(stem: str, figures: object) -> str:
    """SHA-256 of everything that decides a chart's bytes: the figures it shows, how and by what it is drawn."""
    decided = [stem, figures, DRAWING, _STYLE, matplotlib.__version__]
    return hashlib.sha256(json.dumps(decided, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _save(fig, folder: Path, stem: str) -> list[Path]:  # noqa: ANN001 - a matplotlib Figure
    paths = [folder / f"{stem}.{fmt}" for fmt in FORMATS]
    fig.savefig(paths[0], dpi=120, metadata={"Software": None})
    fig.savefig(paths[1], metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return paths


def members_by_province(folder: Path, totals: Mapping[str, int | None]) -> list[Path]:
    """Horizontal bars, one per province (label), biggest on top; hidden provinces are left out and noted."""
    shown = sorted(((label, n) for label, n in totals.items() if n is not None), key=lambda x: x[1])
    hidden = sum(1 for n in totals.values() if n is None)
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(8, max(3.0, 0.28 * len(shown) + 1.2)), layout="constrained")
        ax.barh([label for label, _ in shown], [n for _, n in shown], color="#c8102e")
        ax.set_xlabel("Số hội viên / Members")
        ax.set_title("Hội viên theo tỉnh/thành phố — Members by province")
        if hidden:
            ax.annotate(f"{hidden} tỉnh bị ẩn (ô nhỏ) / {hidden} provinces suppressed", (0, 0),
                        xycoords="figure fraction", xytext=(6, 4), textcoords="offset points", fontsize=7)
        return _save(fig, folder, "chart_members_by_province")


def relief_by_campaign(folder: Path, donations: Mapping[str, int | None],
                       support: Mapping[str, int | None]) -> list[Path]:
    """Grouped bars per campaign: money received and money distributed, in billions of VND."""
    campaigns = sorted(set(donations) | set(support))
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        xs = range(len(campaigns))
        for offset, (values, name, colour) in enumerate(((donations, "Ủng hộ / Donations", "#c8102e"),
                                                         (support, "Hỗ trợ / Support", "#ffcd00"))):
            ax.bar([x + (offset - 0.5) * 0.4 for x in xs], [(values.get(c) or 0) / 1e9 for c in campaigns],
                   width=0.4, label=name, color=colour)
        ax.set_xticks(list(xs), [c if len(c) < 40 else c[:38] + "…" for c in campaigns], rotation=12, ha="right")
        ax.set_ylabel("Tỷ đồng / billion VND")
        ax.set_title("Cứu trợ theo đợt vận động — Relief by campaign")
        ax.legend()
        return _save(fig, folder, "chart_relief_by_campaign")
