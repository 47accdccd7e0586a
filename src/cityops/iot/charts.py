"""The 24-hour chart of a device page, drawn on the server as inline SVG from the minute rollups: no
JavaScript library, nothing loaded from anywhere (DESIGN.md: the UI works with no internet)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 200, 48, 12, 12, 24


def svg_chart(rollups, *, hours: int = 24, unit: str = "", label: str = "", now: datetime | None = None,
              threshold: float | None = None) -> str:
    """Mean per minute as a line, the min–max range as a band; an optional threshold as a dashed line."""
    now = now or timezone.now()
    start = now - timedelta(hours=hours)
    span = (now - start).total_seconds()
    if not rollups:
        empty = escape(gettext("暂无数据"))
        return mark_safe(  # noqa: S308 - fixed markup, the one text escaped
            f'<svg class="iot-chart empty" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}：{empty}" '
            f'xmlns="http://www.w3.org/2000/svg" style="width:100%;max-width:{W}px;background:#fafbfc">'
            f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" font-size="16" fill="#888">{empty}</text></svg>'
        )
    lows = [r.min for r in rollups]
    highs = [r.max for r in rollups]
    vmin, vmax = min(lows), max(highs)
    if threshold is not None:
        vmin, vmax = min(vmin, threshold), max(vmax, threshold)
    if vmax == vmin:
        vmax, vmin = vmax + 1, vmin - 1
    pad = (vmax - vmin) * 0.05
    vmin, vmax = vmin - pad, vmax + pad

    def x(t: datetime) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * max(0.0, min(1.0, (t - start).total_seconds() / span))

    def y(v: float) -> float:
        return PAD_T + (H - PAD_T - PAD_B) * (1 - (v - vmin) / (vmax - vmin))

    line = " ".join(f"{x(r.start):.1f},{y(r.mean):.1f}" for r in rollups)
    band = " ".join(f"{x(r.start):.1f},{y(r.max):.1f}" for r in rollups) + " " + " ".join(
        f"{x(r.start):.1f},{y(r.min):.1f}" for r in reversed(rollups)
    )
    parts = [
        f'<svg class="iot-chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" style="width:100%;max-width:{W}px;background:#fafbfc">',
        f'<polygon points="{band}" fill="#9ecae1" fill-opacity="0.35" stroke="none"/>',
        f'<polyline points="{line}" fill="none" stroke="#1f6fb2" stroke-width="1.5"/>',
    ]
    if threshold is not None:
        ty = y(threshold)
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#d62728" '
                     'stroke-dasharray="4 3"/>')
    for v in (vmin + pad, (vmin + vmax) / 2, vmax - pad):
        parts.append(f'<text x="{PAD_L - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10" fill="#555">'
                     f"{v:.3g}</text>")
    for k in range(0, hours + 1, max(1, hours // 6)):
        t = start + timedelta(hours=k)
        parts.append(f'<text x="{x(t):.1f}" y="{H - 6}" text-anchor="middle" font-size="10" fill="#555">'
                     f"{timezone.localtime(t):%H:%M}</text>")
    parts.append(f'<text x="{PAD_L}" y="{PAD_T + 8}" font-size="10" fill="#333">{escape(label)} {escape(unit)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part above is escaped
