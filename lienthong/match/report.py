"""The match run report: the trained match weights as a chart and a table, the checks on them, the figures.

Why: an EM-trained model can learn nonsense from correlated fields (an e-mail built from the name made plain
Splink link namesakes); the weights must be looked at, and the obvious failures are checked automatically:
an exact match that counts *against* a match, a disagreement that counts *for* one, a family name that weighs
more than the given name. The chart is drawn with matplotlib and embedded, so the report opens offline.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from lienthong.match.model import TrainedModel, match_weights


def weight_checks(weights: list[dict[str, Any]]) -> list[str]:
    """Warnings about trained weights that contradict what the comparison means."""
    out = []
    for w in weights:
        if w["weight"] is None:
            continue
        level = str(w["level"])
        if level.startswith("Exact match") and w["weight"] <= 0:
            out.append(f"{w['comparison']}: an exact match counts against a match ({w['weight']:.1f})")
        if level == "All other comparisons" and w["weight"] > 0:
            out.append(f"{w['comparison']}: a disagreement counts for a match ({w['weight']:.1f}) — a correlated "
                       "field or too few training pairs")
    exact = {w["comparison"]: w["weight"] for w in weights if str(w["level"]).startswith("Exact match")}
    if exact.get("family") is not None and exact.get("given") is not None and exact["family"] > exact["given"]:
        out.append("the family name weighs more than the given name: with Vietnamese names it should not")
    return out


def _chart(weights: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [w for w in weights if w["weight"] is not None]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1))
    labels = [f"{w['comparison']}: {w['level']}" for w in rows]
    values = [max(min(w["weight"], 20), -20) for w in rows]
    ax.barh(range(len(rows)), values, color=["#2a7" if v > 0 else "#c44" for v in values])
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.5)
    ax.set_xlabel("match weight (log2 Bayes factor, clipped to ±20)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _row(w: dict[str, Any]) -> str:
    weight = "" if w["weight"] is None else f"{w['weight']:.2f}"
    return (f"<tr><td>{html.escape(w['comparison'])}</td><td>{html.escape(str(w['level']))}</td>"
            f"<td>{w['m'] or 0:.4f}</td><td>{w['u'] or 0:.6f}</td><td>{weight}</td></tr>")


def write_match_report(path: Path, model: TrainedModel | dict, stats: dict[str, Any], title: str) -> Path:
    """Write the HTML report to ``path`` and return it."""
    weights = match_weights(model)
    notes = model.notes if isinstance(model, TrainedModel) else []
    checks = weight_checks(weights)
    table = "".join(_row(w) for w in weights)
    figures = "".join(f"<li>{html.escape(str(k))}: {html.escape(f'{v:.2f}' if isinstance(v, float) else str(v))}</li>"
                      for k, v in stats.items())
    body = f"""<!doctype html><html lang="vi"><meta charset="utf-8"><title>{html.escape(title)}</title>
<body style="font-family:sans-serif;max-width:60rem;margin:auto">
<h1>{html.escape(title)}</h1>
<h2>Checks on the trained weights</h2>
<ul>{''.join(f'<li style="color:#a00">{html.escape(c)}</li>' for c in checks) or '<li>none failed</li>'}</ul>
<ul>{''.join(f'<li>{html.escape(n)}</li>' for n in notes)}</ul>
<h2>Match weights</h2>
<img alt="match weights chart" src="data:image/png;base64,{_chart(weights)}">
<table border="1" cellspacing="0" cellpadding="3"><tr><th>comparison</th><th>level</th><th>m</th><th>u</th>
<th>weight</th></tr>{table}</table>
<h2>Figures</h2><ul>{figures}</ul></body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path
