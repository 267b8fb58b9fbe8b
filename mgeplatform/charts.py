"""Geometry for small inline-SVG charts in reports (no chart library, no
JavaScript): the template draws rectangles and labels from these numbers,
so the figures are the same numbers as the tables beside them."""

from __future__ import annotations

import textwrap

LIKERT_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#d9d9d9", 4: "#67a9cf", 5: "#2166ac"}


def horizontal_bars(
    rows: list[tuple[str, float | None]],
    *,
    maximum: float = 100.0,
    width: int = 420,
    bar_height: int = 22,
    label_width: int = 230,
    unit: str = "%",
) -> dict:
    """One bar per (label, value); None draws no bar and says "no data"."""
    scale = (width - label_width - 60) / maximum if maximum else 0
    bars = []
    for i, (label, value) in enumerate(rows):
        y = i * (bar_height + 8)
        bars.append(
            {
                "label": label,
                "y": y,
                "text_y": y + bar_height * 0.7,
                "value": value,
                "width": round((value or 0) * scale, 1),
                "text": "no data" if value is None else f"{value:g}{unit}",
                "value_x": label_width + round((value or 0) * scale, 1) + 6,
            }
        )
    return {
        "width": width,
        "height": len(rows) * (bar_height + 8),
        "bar_height": bar_height,
        "label_width": label_width,
        "bars": bars,
    }


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def stacked_likert(
    rows: list[tuple[str, dict[int, float]]],
    *,
    width: int = 600,
    bar_height: int = 22,
    line_height: int = 15,
    chars_per_line: int = 90,
) -> dict:
    """One 100% bar per item, split into its 1-5 shares, under its label
    (wrapped: an SVG text does not wrap by itself)."""
    bars, y = [], 0
    for label, distribution in rows:
        lines = _wrap(label, chars_per_line)
        label_lines = [{"text": line, "y": y + line_height * (i + 1) - 3} for i, line in enumerate(lines)]
        top = y + line_height * len(lines) + 2
        x, parts = 0.0, []
        for level in range(1, 6):
            share = distribution.get(level, 0) or 0
            w = width * share / 100
            parts.append(
                {
                    "level": level,
                    "x": round(x, 1),
                    "width": round(w, 1),
                    "colour": LIKERT_COLOURS[level],
                    "share": share,
                    "show": share >= 6,
                    "text_x": round(x + w / 2, 1),
                }
            )
            x += w
        bars.append(
            {"label": label, "label_lines": label_lines, "y": top, "text_y": top + bar_height * 0.7, "parts": parts}
        )
        y = top + bar_height + 12
    return {
        "width": width,
        "height": y,
        "bar_height": bar_height,
        "bars": bars,
        "legend": [{"level": k, "colour": c} for k, c in LIKERT_COLOURS.items()],
    }


LINE_CHART = {"width": 640, "height": 260, "left": 44, "right": 16, "top": 16, "bottom": 40}


def line_chart(points: list[dict]) -> dict | None:
    """Inline SVG geometry for positions at the checkpoints (1 at the top:
    lower is better). A series is broken where the value has no position;
    None when it has none anywhere (an empty chart says nothing)."""
    w, h = LINE_CHART["width"], LINE_CHART["height"]
    x0, x1 = LINE_CHART["left"], w - LINE_CHART["right"]
    y0, y1 = LINE_CHART["top"], h - LINE_CHART["bottom"]
    positions = [p[k] for p in points for k in ("pagerank_position", "votes_position") if p[k] is not None]
    if not positions:
        return None
    worst = max(positions + [2])
    n = max(len(points) - 1, 1)

    def x(i):
        return round(x0 + (x1 - x0) * i / n, 1)

    def y(pos):
        return round(y0 + (y1 - y0) * (pos - 1) / (worst - 1), 1)

    series = []
    for key, label, css in (
        ("pagerank_position", "By PageRank", "pagerank"),
        ("votes_position", "By direct votes", "votes"),
    ):
        segments: list[list[str]] = []
        current: list[str] = []
        dots: list[dict] = []
        for i, p in enumerate(points):
            if p[key] is None:
                if current:
                    segments.append(current)
                current = []
                continue
            current.append(f"{x(i)},{y(p[key])}")
            dots.append({"x": x(i), "y": y(p[key]), "position": p[key], "events": p["events"]})
        if current:
            segments.append(current)
        series.append(
            {"key": key, "label": label, "css": css, "segments": [" ".join(s) for s in segments], "dots": dots}
        )
    step = max(1, round((worst - 1) / 5))
    y_ticks = [{"label": pos, "y": y(pos)} for pos in range(1, worst + 1, step)]
    if y_ticks[-1]["label"] != worst:
        y_ticks.append({"label": worst, "y": y(worst)})
    x_ticks = [
        {"label": p["events"], "x": x(i)}
        for i, p in enumerate(points)
        if i == 0 or p["events"] != points[i - 1]["events"]
    ]
    return {
        **LINE_CHART,
        "x0": x0,
        "x1": x1,
        "y0": y0,
        "y1": y1,
        "series": series,
        "y_ticks": y_ticks,
        "x_ticks": x_ticks,
        "axis_y": y1 + 28,
        "mid_x": round((x0 + x1) / 2, 1),
    }
