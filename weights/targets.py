"""Target populations: the shares a study's participants are weighted to.

A target is a shipped file (`weights/targets/<name>.json`, with its sources
cited) or a coordinator's CSV, either of margins (columns attribute,
category, share) or of joint cells (one column per attribute, then share).
Both are checked by pydantic: no negative share, categories unique, shares
summing to 1 per attribute (or over the joint cells) within TOLERANCE.
Attribute names and categories are Prolific's demographic export's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from studies import demographics

SHIPPED = Path(__file__).resolve().parent / "targets"
TOLERANCE = 0.005
CELL_SEPARATOR = " | "
# Prolific's placeholders for an answer it no longer has or never had: missing, never a category.
PLACEHOLDERS = demographics.PLACEHOLDERS


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    sources: list[str] = []
    year: int | None = None
    margins: dict[str, dict[str, float]]
    # {cell key "Sex=Male | Age=18-29": share}, when the target has joint cells
    cells: dict[str, float] | None = None
    # {attribute: {band: [low, high or null]}}: numeric answers banded
    bands: dict[str, dict[str, list[int | None]]] = {}
    # {attribute: {answer: category}}: answers counted as a target category
    aliases: dict[str, dict[str, str]] = {}

    @field_validator("margins")
    @classmethod
    def _margins(cls, margins):
        if not margins:
            raise ValueError("a target needs at least one attribute")
        for attribute, shares in margins.items():
            _check_shares(shares, f"attribute {attribute!r}")
        return margins

    @field_validator("cells")
    @classmethod
    def _cells(cls, cells):
        if cells is not None:
            _check_shares(cells, "the joint cells")
        return cells

    @model_validator(mode="after")
    def _cells_match_margins(self):
        if self.cells:
            derived = margins_of_cells(self.cells)
            if set(derived) != set(self.margins):
                raise ValueError("the joint cells name other attributes than the margins")
        return self

    @property
    def attributes(self) -> list[str]:
        return list(self.margins)


def _check_shares(shares: dict[str, float], what: str) -> None:
    if not shares:
        raise ValueError(f"{what} has no categories")
    negative = [k for k, v in shares.items() if v < 0]
    if negative:
        raise ValueError(f"{what}: negative share for {', '.join(negative)}")
    total = sum(shares.values())
    if abs(total - 1) > TOLERANCE:
        raise ValueError(f"{what}: shares sum to {total:.4f}, not 1 (tolerance {TOLERANCE})")


def cell_key(values: Mapping[str, str | None], attributes: list[str]) -> str:
    return CELL_SEPARATOR.join(f"{a}={values[a]}" for a in attributes)


def parse_cell(key: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in key.split(CELL_SEPARATOR))


def margins_of_cells(cells: dict[str, float]) -> dict[str, dict[str, float]]:
    margins: dict[str, dict[str, float]] = {}
    for key, share in cells.items():
        for attribute, category in parse_cell(key).items():
            margins.setdefault(attribute, {}).setdefault(category, 0.0)
            margins[attribute][category] += share
    return margins


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.json"))


def load(name_or_path: str) -> Target:
    """A shipped target by name, else a JSON or CSV file at that path."""
    shipped = SHIPPED / f"{name_or_path}.json"
    if shipped.is_file():
        return Target.model_validate(json.loads(shipped.read_text(encoding="utf-8")))
    path = Path(name_or_path)
    if not path.is_file():
        raise ValueError(
            f"No shipped target {name_or_path!r} (shipped: {', '.join(shipped_names())}) and no file at that path."
        )
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        return Target.model_validate(json.loads(text))
    return from_csv(text, name=path.name)


def from_csv(text: str, *, name: str) -> Target:
    """Margins (attribute, category, share) or joint cells (attribute columns, share)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "share" not in header:
        raise ValueError("The CSV needs a share column.")
    rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    try:
        if header == ["attribute", "category", "share"]:
            margins: dict[str, dict[str, float]] = {}
            for row in rows:
                shares = margins.setdefault(row["attribute"], {})
                if row["category"] in shares:
                    raise ValueError(f"category {row['category']!r} of {row['attribute']!r} appears twice")
                shares[row["category"]] = float(row["share"])
            return Target(name=name, margins=margins)
        attributes = [h for h in header if h != "share"]
        cells: dict[str, float] = {}
        for row in rows:
            key = cell_key(row, attributes)
            if key in cells:
                raise ValueError(f"cell {key!r} appears twice")
            cells[key] = float(row["share"])
        return Target(name=name, margins=margins_of_cells(cells), cells=cells)
    except (KeyError, TypeError) as err:
        raise ValueError(f"A row is incomplete: {err}") from err


def category(target: Target, attribute: str, answer) -> str | None:
    """The target category of a participant's answer, or None when missing
    (no answer, a placeholder, a number out of every band, or an answer the
    target has no category for)."""
    text = demographics.clean(answer)
    if text is None:
        return None
    bands = target.bands.get(attribute)
    if bands:
        try:
            number = float(text)
        except ValueError:
            return text if text in target.margins[attribute] else None
        for band, (low, high) in bands.items():
            if (low is None or number >= low) and (high is None or number <= high):
                return band
        return None
    text = target.aliases.get(attribute, {}).get(text, text)
    if text in target.margins[attribute]:
        return text
    lowered = {c.lower(): c for c in target.margins[attribute]}
    return lowered.get(text.lower())
