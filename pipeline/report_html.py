"""The service report as one self-contained HTML page: the figures with their definitions, and each
indicator over time in plain SVG with the plan's target drawn as a line.

Nothing for the browser to fetch: no script, no image file, the few glyphs of Noto Sans SC it prints
embedded, one `<style>` element whose hash (`csp()`) lets the review app serve the page under a
content security policy that allows nothing else. `claims report --html FILE` writes it; the review
app's operations page links to it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import math
import string
from functools import lru_cache
from html import escape
from pathlib import Path

from pipeline.indicators import Indicator, Report, Series, bucket, days_text, indicators

STYLE = """
body { font-family: "Noto Sans SC", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 24px auto; max-width: 1180px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 12px 0 24px; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 5px 8px; text-align: left; vertical-align: top;
         font-size: 13px; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { width: 17%; font-weight: 600; }
td.def { color: #555; font-size: 12px; width: 30%; }
td.miss { color: #b00; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 14px; }
figure { margin: 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px; }
figcaption { font-size: 13px; font-weight: 600; margin-bottom: 4px; }
p.empty { font-size: 16px; padding: 24px; background: #f7f7f7; }
"""
FONT = "Noto Sans SC"


@lru_cache(maxsize=1)
def _font_face() -> str:
    """An @font-face rule carrying the glyphs the page can print (its fixed text, ASCII), cut from the
    Noto Sans SC the project ships: the page reads the same on a machine without a Chinese font. Empty
    when fontTools (matplotlib's) or the font wheel is missing: the reader's fonts are used then."""
    try:
        import pylopdf_fonts_zh_cn
        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:  # pragma: no cover - both come with the project's dependencies
        return ""
    chars = "".join(f"{i.name}{i.definition}{i.target_source or ''}" for i in indicators())
    chars += string.printable + "理赔服务指标–÷·…≤≥"
    options = subset.Options()
    options.layout_features, options.name_IDs, options.notdef_outline = [], [], True
    font = TTFont(Path(pylopdf_fonts_zh_cn.__file__).parent / "NotoSansSC-Regular.otf", lazy=True)
    cutter = subset.Subsetter(options)
    cutter.populate(text="".join(sorted(set(chars))))
    cutter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode()
    return (
        f'@font-face {{ font-family: "{FONT}"; src: url(data:font/otf;base64,{data}) format("opentype"); }}\n'
    )


def style() -> str:
    """The page's one style element: the font and the layout."""
    return _font_face() + STYLE


def csp(*, header: bool = False) -> str:
    """The content security policy the page needs: its own style element and font, nothing else; as an
    HTTP header (`header`) it also refuses framing, which only a header can."""
    digest = base64.b64encode(hashlib.sha256(style().encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'sha256-{digest}'; font-src data:; base-uri 'none'"
    policy += "; form-action 'none'"
    return policy + ("; frame-ancestors 'none'" if header else "")


LINE, TARGET = "#1b6fb5", "#d95f02"


def value_text(ind: Indicator, value: float | None) -> str:
    """A figure's value alone, in its unit (no counts)."""
    if value is None:
        return "-"
    if ind.unit == "share":
        return f"{value:.1%}"
    if ind.unit == "days":
        return days_text(value)
    if ind.unit == "rating":
        return f"{value:.2f}"
    return f"{value:.0f}"


def target_text(ind: Indicator) -> str:
    if ind.target is None:
        return ""
    return f"{value_text(ind, ind.target)} ({ind.target_source})" if ind.target_source else ""


def misses(ind: Indicator, value: float | None) -> bool:
    """Below a share's target, or above a count's (breaches: the target is none)."""
    if ind.target is None or value is None:
        return False
    return value < ind.target if ind.unit == "share" else value > ind.target


def figures_table(report: Report) -> str:
    """The figures: one row per indicator, one column per group, the target and the definition."""
    head = "".join(f"<th>{escape(g.name)} <small>({g.claims} claims)</small></th>" for g in report.groups)
    rows = []
    for ind in report.indicators:
        cells = []
        for g in report.groups:
            f = g.figure(ind.key)
            miss = " miss" if misses(ind, f.value) else ""
            cells.append(f'<td class="num{miss}" data-key="{ind.key}">{escape(f.text)}</td>')
        rows.append(
            f'<tr><td class="name">{escape(ind.name)}</td>{"".join(cells)}'
            f'<td class="num">{escape(target_text(ind))}</td>'
            f'<td class="def">{escape(ind.definition)}</td></tr>'
        )
    return (
        f'<table class="figures"><thead><tr><th>Indicator</th>{head}<th>Target</th><th>Definition</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _scale(ind: Indicator, values: list[float]) -> tuple[float, float]:
    if ind.unit == "share":
        return 0.0, 1.0
    if ind.unit == "rating":
        return 1.0, 5.0
    top = max([*values, ind.target or 0.0])
    if ind.unit == "count":  # whole numbers at every tick: 0, half, top
        return 0.0, float(max(2, math.ceil(top / 2) * 2))
    return 0.0, max(top, 1.0) * 1.1


def plot(
    ind: Indicator,
    points: list[tuple[dt.date, float | None]],
    span: tuple[dt.date, dt.date] | None = None,
    width: int = 360,
    height: int = 170,
) -> str:
    """One indicator over time: a line of its value per bucket across `span` (the buckets' own by
    default), the target dashed; an SVG element."""
    left, right, top, bottom = 52, 10, 10, 28
    pw, ph = width - left - right, height - top - bottom
    known = [(d, v) for d, v in points if v is not None]
    lo, hi = _scale(ind, [v for _, v in known])

    def y(v: float) -> float:
        return top + ph * (1 - (min(max(v, lo), hi) - lo) / ((hi - lo) or 1.0))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(ind.name)} over time" data-key="{ind.key}">'
    ]
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e5e5"/>')
        parts.append(
            f'<text x="{left - 5}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10">'
            f"{value_text(ind, v)}</text>"
        )
    if ind.target is not None:
        ty = y(ind.target)
        parts.append(
            f'<line class="target" x1="{left}" x2="{left + pw}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="5 4"/>'
        )
        parts.append(
            f'<text x="{left + pw - 2}" y="{ty - 4:.1f}" text-anchor="end" font-size="10" fill="{TARGET}">'
            f"target {value_text(ind, ind.target)}</text>"
        )
    if not known:
        parts.append(
            f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle" font-size="12" fill="#777">'
            "nothing measured</text>"
        )
        return "".join(parts) + "</svg>"
    d0, d1 = span or (points[0][0], points[-1][0])
    span = (d1 - d0).days or 1

    def x(d: dt.date) -> float:
        return left + (pw / 2 if d0 == d1 else pw * (d - d0).days / span)

    labels = [(d0, "start"), (d1, "end")] if d0 != d1 else [(d0, "middle")]
    for d, anchor in labels:
        parts.append(
            f'<text x="{x(d):.1f}" y="{top + ph + 18}" text-anchor="{anchor}" font-size="10">'
            f"{d.isoformat()}</text>"
        )
    if len(known) > 1:
        path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in known)
        parts.append(f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="{path}"/>')
    for d, v in known:
        tip = escape(f"{d.isoformat()}: {value_text(ind, v)}")
        parts.append(
            f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="3" fill="{LINE}"><title>{tip}</title></circle>'
        )
    return "".join(parts) + "</svg>"


def render(
    report: Report,
    series: Series,
    *,
    generated_at: dt.datetime | None = None,
) -> str:
    """The whole page: title, period, the figures table, and one plot per indicator."""
    step, buckets = series
    title = f"Claims service report 理赔服务指标 {report.start} – {report.end}"
    when = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    by = f", by {report.by}" if report.by else ""
    body = [f"<h1>{escape(title)}</h1>", f'<p class="meta">generated {when}{escape(by)}</p>']
    if report.empty:
        body.append(
            f'<p class="empty" data-testid="empty">no claims decided between {report.start}'
            f" and {report.end}</p>"
        )
    else:
        body.append(figures_table(report))
        body.append(f"<h2>Over time <small>per {step}, by the day each claim was decided</small></h2>")
        plots = []
        span = (bucket(report.start, step), report.end)  # the whole period, not only its busy days
        for ind in report.indicators:
            points = [(d, g.figure(ind.key).value) for d, g in buckets]
            plots.append(
                f"<figure><figcaption>{escape(ind.name)}</figcaption>{plot(ind, points, span)}</figure>"
            )
        body.append(f'<div class="plots">{"".join(plots)}</div>')
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp()}">'
        f"<title>{escape(title)}</title><style>{style()}</style></head><body>{''.join(body)}</body></html>"
    )
