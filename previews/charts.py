"""Small charts drawn on the server as SVG (no outside scripts or CDN): bars and lines with labels."""
from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 560, 200, 34


def _frame(body: str, title: str, *, top: float | None = None, unit: str = "", y_label: str = "") -> SafeString:
    """The chart with its title written on it, and (with data) its axes: the baseline, the value axis with 0 and
    the top value, and what the values are."""
    axes = ""
    if top is not None:
        axes = (f'<line class="axis" x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}"/>'
                f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"/>'
                f'<text class="tick" x="{PAD - 4}" y="{HEIGHT - PAD + 4}">0</text>'
                f'<text class="tick" x="{PAD - 4}" y="{PAD + 4}">{escape(_fmt(top))}{escape(unit.strip())}</text>'
                f'<text class="axis-label" transform="translate(10 {HEIGHT / 2}) rotate(-90)">'
                f'{escape(y_label)}</text>')
    return mark_safe(  # noqa: S308 - every text in `body` is escaped where it is made
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
        f'<title>{escape(title)}</title><text class="chart-title" x="{PAD}" y="16">{escape(title)}</text>'
        f'{axes}{body}</svg>')


def bars(items: list[tuple[str, float]], *, title: str, unit: str = "", y_label: str = "") -> SafeString:
    if not items:
        return _frame(f'<text x="{PAD}" y="{HEIGHT / 2}" class="empty">no data yet</text>', title)
    top = max(value for _, value in items) or 1
    step = (WIDTH - 2 * PAD) / len(items)
    parts = []
    for index, (label, value) in enumerate(items):
        height = (HEIGHT - 2 * PAD) * value / top
        x = PAD + index * step + step * 0.15
        y = HEIGHT - PAD - height
        middle = x + step * 0.35
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{height:.1f}" rx="3"/>'
                     f'<text x="{middle:.1f}" y="{y - 4:.1f}" class="value">{escape(_fmt(value))}{unit}</text>'
                     f'<text x="{middle:.1f}" y="{HEIGHT - PAD + 14:.1f}" class="label">{escape(label)}</text>')
    return _frame("".join(parts), title, top=top, unit=unit, y_label=y_label)


def lines(series: dict[str, list[tuple[str, float]]], *, title: str, unit: str = "", y_label: str = "") -> SafeString:
    points = [value for values in series.values() for _, value in values]
    labels = sorted({label for values in series.values() for label, _ in values})
    if not points:
        return _frame(f'<text x="{PAD}" y="{HEIGHT / 2}" class="empty">no data yet</text>', title)
    top = max(points) or 1
    step = (WIDTH - 2 * PAD) / max(1, len(labels) - 1)
    position = {label: PAD + i * step for i, label in enumerate(labels)}
    parts = []
    for index, (name, values) in enumerate(series.items()):
        coords = " ".join(f"{position[label]:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top:.1f}"
                          for label, value in values)
        dots = "".join(f'<circle class="series-{index}" cx="{xy.split(",")[0]}" cy="{xy.split(",")[1]}" r="4"/>'
                       for xy in coords.split())
        parts.append(f'<polyline class="series-{index}" fill="none" points="{coords}"/>{dots}'
                     f'<text x="{WIDTH - PAD}" y="{PAD + 14 * index}" class="legend series-{index}" '
                     f'text-anchor="end">{escape(name)}</text>')
    for label in (labels[0], labels[-1]) if len(labels) > 1 else labels:
        parts.append(f'<text x="{position[label]:.1f}" y="{HEIGHT - PAD + 14}" class="label">{escape(label)}</text>')
    return _frame("".join(parts), title, top=top, unit=unit, y_label=y_label)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}".rstrip("0").rstrip(".")
