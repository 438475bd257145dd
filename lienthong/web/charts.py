"""Small server-rendered SVG charts: a line chart of quality over time and a horizontal bar chart.

Hand-built rather than matplotlib: a few dozen elements, text a screen reader and the browser's search can find,
scaling with the page (``viewBox``), no font files or internet. Each chart carries a ``<title>``/``<desc>`` and
the page puts the same figures in a table beside it, so nothing is only in the picture. Colours are the
Okabe–Ito palette (distinguishable with colour-blindness), and each line also has its own marker shape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("circle", "square", "diamond", "triangle")


def line_chart(series: Mapping[str, Sequence[tuple[datetime, float]]], *, title: str, desc: str,
               width: int = 720, height: int = 280, y_max: float = 100.0, y_suffix: str = "%") -> str:
    """One line per series over time; y from 0 to ``y_max``. Empty series are left out."""
    series = {k: v for k, v in series.items() if v}
    left, right, top, bottom = 48, 16, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom - 22 * ((len(series) + 2) // 3)
    parts = _open(width, height, title, desc)
    times = [t for points in series.values() for t, _ in points]
    if not times:
        return "".join([*parts, _text(width / 2, height / 2, "—", anchor="middle"), "</svg>"])
    t0, t1 = min(times), max(times)
    span = (t1 - t0).total_seconds() or 1.0

    def x(t: datetime) -> float:
        return left + (plot_w * (t - t0).total_seconds() / span if t1 != t0 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - min(max(v, 0.0), y_max) / y_max)

    for tick in range(0, 101, 25):
        value = y_max * tick / 100
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="#d0d7de" stroke-width="1"/>')
        parts.append(_text(left - 6, y(value) + 4, f"{value:g}{y_suffix}", anchor="end"))
    parts.append(_text(left, top + plot_h + 18, f"{t0:%d/%m %H:%M}", anchor="start"))
    if t1 != t0:
        parts.append(_text(left + plot_w, top + plot_h + 18, f"{t1:%d/%m %H:%M}", anchor="end"))
    for i, (name, points) in enumerate(series.items()):
        colour, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
        coords = [(x(t), y(v)) for t, v in sorted(points)]
        path = " ".join(f"{'M' if j == 0 else 'L'}{px:.1f},{py:.1f}" for j, (px, py) in enumerate(coords))
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for (px, py), (t, v) in zip(coords, sorted(points), strict=True):
            parts.append(_marker(marker, px, py, colour, f"{name}: {v:.1f}{y_suffix} ({t:%d/%m/%Y %H:%M})"))
        lx = left + (i % 3) * (plot_w / 3)
        ly = top + plot_h + 40 + 22 * (i // 3)
        parts.append(_marker(marker, lx + 6, ly - 4, colour, None))
        parts.append(_text(lx + 16, ly, name, anchor="start"))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str, desc: str, width: int = 720,
              bar_height: int = 22) -> str:
    """Horizontal bars, largest first as given, each labelled with its value."""
    label_w, value_w, gap = 220, 70, 6
    height = max(1, len(bars)) * (bar_height + gap) + 10
    parts = _open(width, height, title, desc)
    top_value = max((v for _, v in bars), default=0) or 1
    plot_w = width - label_w - value_w
    for i, (label, value) in enumerate(bars):
        y = 5 + i * (bar_height + gap)
        w = max(1.0, plot_w * value / top_value)
        parts.append(_text(label_w - 8, y + bar_height * 0.7, label, anchor="end"))
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{PALETTE[0]}">'
                     f"<title>{escape(label)}: {value:,.0f}</title></rect>")
        parts.append(_text(label_w + w + 6, y + bar_height * 0.7, f"{value:,.0f}", anchor="start"))
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str, desc: str) -> list[str]:
    tag = hashlib.sha1(title.encode()).hexdigest()[:8]  # stable ids for aria-labelledby, distinct per chart
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img" '
            f'aria-labelledby="t-{tag} d-{tag}" font-family="system-ui, sans-serif" font-size="13">',
            f'<title id="t-{tag}">{escape(title)}</title><desc id="d-{tag}">{escape(desc)}</desc>']


def _text(x: float, y: float, value: str, *, anchor: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="#1f2328">{escape(value)}</text>'


def _marker(kind: str, x: float, y: float, colour: str, tip: str | None) -> str:
    inner = f"<title>{escape(tip)}</title>" if tip else ""
    if kind == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}">{inner}</rect>'
    if kind == "diamond":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}" '
                f'fill="{colour}">{inner}</polygon>')
    if kind == "triangle":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}" '
                f'fill="{colour}">{inner}</polygon>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}">{inner}</circle>'
