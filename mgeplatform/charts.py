"""Geometry for small inline-SVG charts in reports (no chart library, no
JavaScript): the template draws rectangles and labels from these numbers,
so the figures are the same numbers as the tables beside them."""

from __future__ import annotations

LIKERT_COLOURS = {1: "#b2182b", 2: "#ef8a62", 3: "#d9d9d9", 4: "#67a9cf", 5: "#2166ac"}


def horizontal_bars(rows: list[tuple[str, float | None]], *, maximum: float = 100.0, width: int = 420,
                    bar_height: int = 22, label_width: int = 230, unit: str = "%") -> dict:
    """One bar per (label, value); None draws no bar and says "no data"."""
    scale = (width - label_width - 60) / maximum if maximum else 0
    bars = []
    for i, (label, value) in enumerate(rows):
        y = i * (bar_height + 8)
        bars.append({"label": label, "y": y, "text_y": y + bar_height * 0.7, "value": value,
                     "width": round((value or 0) * scale, 1), "text": "no data" if value is None else
                     f"{value:g}{unit}", "value_x": label_width + round((value or 0) * scale, 1) + 6})
    return {"width": width, "height": len(rows) * (bar_height + 8), "bar_height": bar_height,
            "label_width": label_width, "bars": bars}


def stacked_likert(rows: list[tuple[str, dict[int, float]]], *, width: int = 520, bar_height: int = 22) -> dict:
    """One 100% bar per item, split into its 1-5 shares."""
    usable = width
    bars = []
    for i, (label, distribution) in enumerate(rows):
        y = i * (bar_height + 26)
        x, parts = 0.0, []
        for level in range(1, 6):
            share = distribution.get(level, 0) or 0
            w = usable * share / 100
            parts.append({"level": level, "x": round(x, 1), "width": round(w, 1), "colour": LIKERT_COLOURS[level],
                          "share": share, "show": share >= 6, "text_x": round(x + w / 2, 1)})
            x += w
        bars.append({"label": label, "label_y": y + 12, "y": y + 16, "text_y": y + 16 + bar_height * 0.7,
                     "parts": parts})
    return {"width": width, "height": len(rows) * (bar_height + 26), "bar_height": bar_height, "bars": bars,
            "legend": [{"level": k, "colour": c} for k, c in LIKERT_COLOURS.items()]}
