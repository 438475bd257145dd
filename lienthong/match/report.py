"""The match run report: the trained match weights as a chart and a table, the checks on them, the figures.

In Vietnamese, with English under each line (a switch at the top hides it), like the quality report: clerks and
engineers read the same page. Each comparison level shows m (how often the records of one person look like
this), u (how often two random people do) and what their ratio means in plain words.

Why: an EM-trained model can learn nonsense from correlated fields (an e-mail built from the name made plain
Splink link namesakes); the weights must be looked at, and the obvious failures are checked automatically:
an exact match that counts *against* a match, a disagreement that counts *for* one, a family name that weighs
more than the given name. The chart is drawn with matplotlib and embedded, so the report opens offline.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
from pathlib import Path
from typing import Any

from lienthong.match.model import TrainedModel, match_weights

_COMPARISONS = {
    "given": ("Tên", "Given name"), "family": ("Họ", "Family name"), "middle": ("Tên đệm", "Middle name"),
    "date_of_birth": ("Ngày sinh", "Date of birth"), "sex": ("Giới tính", "Sex"), "ward": ("Xã/phường", "Ward"),
    "id_number": ("Số định danh (CCCD/CMND)", "ID number"), "phone": ("Điện thoại", "Phone"),
    "email": ("Thư điện tử", "E-mail"), "postcode": ("Mã bưu chính", "Postcode"),
    "locality": ("Địa phương", "Locality"), "province": ("Tỉnh/vùng", "Region"), "address": ("Địa chỉ", "Address"),
}
_LEVELS = (  # (pattern of Splink's label, Vietnamese); the English is Splink's label itself
    (r"^Exact match", "Trùng khớp hoàn toàn"),
    (r"^Jaro-Winkler distance of \S+ >= ([\d.]+)", "Gần giống (Jaro-Winkler ≥ {0})"),
    (r"^Damerau-Levenshtein distance of \S+ <= (\d+)", "Sai khác tối đa {0} ký tự"),
    (r"^All other comparisons", "Khác nhau"),
    (r"^day and month swapped", "Đảo ngày và tháng"),
    (r"^one character apart", "Sai một ký tự"),
    (r"^same year, one side year only", "Cùng năm, một bên chỉ có năm"),
    (r"^same province", "Cùng tỉnh"),
    (r"^one digit apart", "Sai một chữ số"),
    (r"^two different CCCDs", "Hai số CCCD khác nhau"),
    (r"^same area", "Cùng khu vực"),
    (r"^swapped with the family name", "Đảo chỗ với họ"),
    (r"^swapped with the given name", "Đảo chỗ với tên"),
    (r"^half the words", "Chung từ một nửa số từ trở lên"),
    (r"^a word in common", "Chung ít nhất một từ"),
)


def level_vi(label: str) -> str:
    """The Vietnamese name of a comparison level (Splink's English label when none is known)."""
    for pattern, vi in _LEVELS:
        found = re.match(pattern, label)
        if found:
            return vi.format(*found.groups())
    return label


def meaning(w: dict[str, Any]) -> tuple[str, str]:
    """What a level's m, u and weight say, in plain Vietnamese and English."""
    m, u = w["m"] or 0.0, w["u"] or 0.0
    if w["weight"] is None or not u:
        return ("Chưa thấy trường hợp này khi ước lượng: không tính điểm.",
                "Never seen while training: it does not count.")
    factor = 2 ** abs(w["weight"])
    more = w["weight"] >= 0
    vi = (f"Cứ 100 cặp bản ghi của cùng một người thì khoảng {100 * m:.3g} cặp như thế này; với hai người bất kỳ "
          f"là {100 * u:.3g}. Nên khi thấy điều này, khả năng là cùng một người "
          f"{'tăng' if more else 'giảm'} {factor:,.1f} lần.")
    en = (f"About {100 * m:.3g} in 100 pairs of records of one person look like this; {100 * u:.3g} in 100 pairs "
          f"of two random people do. Seeing it makes a match {factor:,.1f} times "
          f"{'more' if more else 'less'} likely.")
    return vi, en


def weight_checks(weights: list[dict[str, Any]], locale: str = "vi") -> list[tuple[str, str]]:
    """Warnings (Vietnamese, English) about trained weights that contradict what the comparison means."""
    out = []
    for w in weights:
        if w["weight"] is None:
            continue
        level, name = str(w["level"]), w["comparison"]
        vi_name = _COMPARISONS.get(name, (name, name))[0]
        if level.startswith("Exact match") and w["weight"] <= 0:
            out.append((f"{vi_name}: trùng khớp hoàn toàn lại bị tính là bằng chứng chống ({w['weight']:.1f})",
                        f"{name}: an exact match counts against a match ({w['weight']:.1f})"))
        if level == "All other comparisons" and w["weight"] > 0:
            out.append((f"{vi_name}: khác nhau lại được tính là bằng chứng ủng hộ ({w['weight']:.1f}) — trường "
                        "tương quan hoặc quá ít cặp để ước lượng",
                        f"{name}: a disagreement counts for a match ({w['weight']:.1f}) — a correlated field or "
                        "too few training pairs"))
    exact = {w["comparison"]: w["weight"] for w in weights if str(w["level"]).startswith("Exact match")}
    if (locale == "vi" and exact.get("family") is not None and exact.get("given") is not None
            and exact["family"] > exact["given"]):
        out.append(("Họ được tính nặng hơn tên: với tên người Việt thì không nên",
                    "the family name weighs more than the given name: with Vietnamese names it should not"))
    return out


def _chart_of(weights: list[dict[str, Any]], folder: Path) -> str:
    """The chart of these weights, drawn once per model: every match run writes a report, and drawing took longer
    than matching a small push. Kept under ``folder/.charts`` by the weights' SHA-256."""
    digest = hashlib.sha256(json.dumps(weights, sort_keys=True, default=str).encode()).hexdigest()
    cached = folder / ".charts" / f"{digest}.png.b64"
    if cached.is_file():
        return cached.read_text(encoding="ascii")
    chart = _chart(weights)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(chart, encoding="ascii")
    return chart


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


def _both(vi: str, en: str, tag: str = "span") -> str:
    return f'{html.escape(vi)}<{tag} class="en" lang="en">{html.escape(en)}</{tag}>'


def _row(w: dict[str, Any]) -> str:
    weight = "" if w["weight"] is None else f"{w['weight']:+.2f}"
    name = _COMPARISONS.get(w["comparison"], (w["comparison"], w["comparison"]))
    vi, en = meaning(w)
    return (f"<tr><td>{_both(*name)}</td><td>{_both(level_vi(str(w['level'])), str(w['level']))}</td>"
            f"<td class=num>{w['m'] or 0:.4f}</td><td class=num>{w['u'] or 0:.6f}</td>"
            f"<td class=num>{weight}</td><td>{_both(vi, en, 'div')}</td></tr>")


_NOTES_VI = {"e-mail left out": "Bỏ qua thư điện tử: phần lớn địa chỉ chứa tên người, không phải bằng chứng độc lập",
             "shipped default model": "Dùng mô hình mặc định đi kèm (ước lượng trên sổ đăng ký mô phỏng)",
             "m estimated by EM only": "m chỉ ước lượng bằng EM (quá ít bản ghi có chung số định danh)",
             "EM failed": "EM không hội tụ"}


def _note(note: str) -> str:
    vi = next((v for k, v in _NOTES_VI.items() if note.startswith(k)), "Ghi chú của mô hình")
    return f"<li>{_both(vi, note)}</li>"


_STYLE = """body{font-family:system-ui,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;max-width:72rem;margin:auto;
padding:1.5rem;line-height:1.45} .en{color:#505050;font-weight:normal} span.en::before{content:" / "}
div.en{font-size:.9em} table{border-collapse:collapse;width:100%} th,td{border:1px solid #c9c9c9;padding:.3rem .5rem;
text-align:left;vertical-align:top} td.num{text-align:right;font-variant-numeric:tabular-nums} .bad{color:#a4161a}
#show-en:not(:checked) ~ main .en{display:none}"""


def write_match_report(path: Path, model: TrainedModel | dict, stats: dict[str, Any], title: str,
                       locale: str = "vi") -> Path:
    """Write the HTML report to ``path`` and return it."""
    weights = match_weights(model)
    notes = model.notes if isinstance(model, TrainedModel) else []
    checks = weight_checks(weights, locale)
    table = "".join(_row(w) for w in weights)
    figures = "".join(f"<li>{html.escape(str(k))}: {html.escape(f'{v:.2f}' if isinstance(v, float) else str(v))}</li>"
                      for k, v in stats.items())
    failed = "".join(f'<li class="bad">{_both(vi, en)}</li>' for vi, en in checks) or \
        f"<li>{_both('Không có cảnh báo nào', 'none failed')}</li>"
    body = f"""<!doctype html><html lang="vi"><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style><body>
<input type="checkbox" id="show-en" checked> <label for="show-en">English</label>
<main>
<h1>Báo cáo ghép bản ghi <span class="en" lang="en">Match report</span> — {html.escape(title)}</h1>
<p>{_both("Mỗi cách so sánh hai bản ghi (một mức) có hai xác suất: m — trong các cặp bản ghi của cùng một người, "
          "tỉ lệ cặp như thế này; u — trong các cặp hai người bất kỳ, tỉ lệ đó. Trọng số log2(m/u) dương là "
          "bằng chứng cho cùng một người, âm là bằng chứng chống; điểm của một cặp là tổng các trọng số.",
          "Each way two records can compare (a level) has two probabilities: m, the share of pairs of one "
          "person's records that look like this, and u, the share among pairs of two random people. The weight "
          "log2(m/u) is evidence for a match when positive, against when negative; a pair's score adds them up.",
          "div")}</p>
<h2>Kiểm tra trọng số đã ước lượng <span class="en" lang="en">Checks on the trained weights</span></h2>
<ul>{failed}</ul>
<ul>{''.join(_note(n) for n in notes)}</ul>
<h2>Trọng số ghép <span class="en" lang="en">Match weights</span></h2>
<img alt="match weights chart" src="data:image/png;base64,{_chart_of(weights, path.parent)}">
<table><tr><th>{_both("Trường", "Comparison")}</th><th>{_both("Mức", "Level")}</th><th>m</th><th>u</th>
<th>{_both("Trọng số", "Weight")}</th><th>{_both("Ý nghĩa", "What it means")}</th></tr>{table}</table>
<h2>Số liệu <span class="en" lang="en">Figures</span></h2><ul>{figures}</ul></main></body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path
