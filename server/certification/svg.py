"""A 30-day chart drawn on the server as SVG: fever bars and a screening-coverage line.

No chart framework, no script, no style attributes (the CSP forbids inline styles):
presentation attributes only. Text goes through markupsafe.escape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

W, H = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 36, 36, 12, 28


def chart(
    days: Sequence[dt.date],
    values: Mapping[str, Mapping[str, int | None]],
    title: str,
    coverage_label: str = "coverage %",
    fever_label: str = "fevers",
) -> Markup:
    """`values[day.isoformat()]` has households, checked, fevers; missing days leave gaps."""
    n = max(len(days), 1)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / n
    fevers = [int((values.get(d.isoformat()) or {}).get("fevers") or 0) for d in days]
    top = max([*fevers, 1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#d6dadf"/>',
    ]
    for pct in (0, 50, 100):
        y = TOP + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#eef0f2"/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#0b6e4f">{pct}</text>'
        )
    parts.append(
        f'<text x="{W - RIGHT + 4}" y="{TOP + 10}" font-size="10" fill="#b3261e">{top}</text>'
        f'<text x="{W - RIGHT + 4}" y="{TOP + plot_h}" font-size="10" fill="#b3261e">0</text>'
    )
    points: list[list[str]] = [[]]
    for i, (day, count) in enumerate(zip(days, fevers, strict=True)):
        x = LEFT + i * step
        if count:
            h = plot_h * count / top
            parts.append(
                f'<rect x="{x + step * 0.2:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{step * 0.6:.1f}" '
                f'height="{h:.1f}" fill="#b3261e" opacity="0.7"><title>{day:%m-%d}: '
                f"{count}</title></rect>"
            )
        row = values.get(day.isoformat()) or {}
        households, checked = row.get("households"), row.get("checked")
        if households:
            pct = 100 * (checked or 0) / households
            y = TOP + plot_h * (1 - pct / 100)
            points[-1].append(f"{x + step / 2:.1f},{y:.1f}")
        elif points[-1]:
            points.append([])  # a day without figures breaks the line
        if i % 5 == 0 or i == n - 1:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{H - 10}" font-size="10" text-anchor="middle" '
                f'fill="#5b6670">{day:%m-%d}</text>'
            )
    for line in points:
        if len(line) > 1:
            parts.append(
                f'<polyline points="{" ".join(line)}" fill="none" stroke="#0b6e4f" '
                'stroke-width="2"/>'
            )
        elif line:
            x, y = line[0].split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="#0b6e4f"/>')
    parts.append(
        f'<text x="{LEFT}" y="{H - 1}" font-size="10" fill="#0b6e4f">— '
        f"{escape(coverage_label)}</text>"
        f'<text x="{W - RIGHT}" y="{H - 1}" font-size="10" text-anchor="end" fill="#b3261e">'
        f"▮ {escape(fever_label)}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))
