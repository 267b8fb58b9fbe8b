"""Reading a file of cards to seed a study's canonical values before launch.

One card per CSV row or JSON object: title, description, policies (a list,
or one text with the policies on separate lines or separated by ";") and,
optionally, the scenario(s) it belongs to (their keys, separated by ";", ","
or spaces; none = every active scenario of the study). Each row is checked
on its own, so the coordinator sees every problem at once, each with its
row number (row 1 is the first card: a CSV file's header is not counted).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from mgeplatform.inputs import MESSAGES as UNSTORABLE_MESSAGES
from values.contracts import DESCRIPTION_MAX, POLICIES_MAX, POLICIES_MIN, POLICY_MAX, TITLE_MAX

MAX_FILE_BYTES = 2_000_000
MAX_ROWS = 2_000
COLUMNS = ("title", "description", "policies", "scenarios")
_ALIASES = {
    "scenario": "scenarios",
    "policy": "policies",
    "attentional_policies": "policies",
    "attentional policies": "policies",
}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class SeedFileError(ValueError):
    """The file cannot be used; `problems` lists every reason, row by row."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _split(value, separators: str) -> list:
    if isinstance(value, str):
        return [part for part in re.split(separators, value) if part.strip()]
    return value


class SeedCard(BaseModel):
    """One card of the file, as checked (text stripped of surrounding spaces)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str
    description: str
    policies: list[str]
    scenarios: list[str] = []

    @field_validator("policies", mode="before")
    @classmethod
    def _policies(cls, value):
        return _split(value, r"\r?\n|;")

    @field_validator("scenarios", mode="before")
    @classmethod
    def _scenarios(cls, value):
        return [] if value is None else _split(value, r"[;,\s]+")

    @field_validator("title", "description", "policies", "scenarios", mode="before")
    @classmethod
    def _storable(cls, value):
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and (found := _UNSTORABLE.search(text)):
                raise ValueError(
                    UNSTORABLE_MESSAGES["\x00"] if found.group() == "\x00" else UNSTORABLE_MESSAGES["surrogate"]
                )
        return value

    @field_validator("title", "description")
    @classmethod
    def _not_empty(cls, value):
        if not value:
            raise ValueError("is empty")
        return value

    @field_validator("title")
    @classmethod
    def _title_length(cls, value):
        if len(value) > TITLE_MAX:
            raise ValueError(f"is too long ({len(value)} characters; at most {TITLE_MAX})")
        return value

    @field_validator("description")
    @classmethod
    def _description_length(cls, value):
        if len(value) > DESCRIPTION_MAX:
            raise ValueError(f"is too long ({len(value)} characters; at most {DESCRIPTION_MAX})")
        return value

    @field_validator("policies")
    @classmethod
    def _policy_list(cls, value):
        value = [p for p in value if p]
        if not POLICIES_MIN <= len(value) <= POLICIES_MAX:
            raise ValueError(f"a card needs {POLICIES_MIN} to {POLICIES_MAX} policies; this one has {len(value)}")
        for i, policy in enumerate(value, 1):
            if len(policy) > POLICY_MAX:
                raise ValueError(f"policy {i} is too long ({len(policy)} characters; at most {POLICY_MAX})")
        return value


@dataclass
class Row:
    number: int
    card: SeedCard | None = None
    problems: list[str] = field(default_factory=list)
    note: str = ""  # e.g. "skipped: already a value of this study"


def _problem_text(error: Mapping[str, Any]) -> str:
    loc = [part for part in error["loc"] if part != "__root__"]
    name = str(loc[0]) if loc else "card"
    if name == "policies" and len(loc) > 1 and isinstance(loc[1], int):
        name = f"policy {loc[1] + 1}"
    kind = error["type"]
    if kind == "missing":
        return f"{name} is missing"
    if kind == "extra_forbidden":
        return f"unknown column “{name}” (the columns are {', '.join(COLUMNS)})"
    if kind in ("string_type", "list_type"):
        return f"{name} should be {'text' if kind == 'string_type' else 'a list of texts or one text'}"
    message = error["msg"].removeprefix("Value error, ")
    if message.startswith(("is ", "contains ")):
        return f"{name} {message}"
    return f"{name}: {message}"


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise SeedFileError([f"The file is {len(raw):,} bytes; at most {MAX_FILE_BYTES:,} can be read."])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SeedFileError(
            [f"The file is not UTF-8 text (byte {err.start + 1}); save it as UTF-8 CSV or JSON."]
        ) from err


def _records(text: str, name: str) -> list[dict]:
    looks_json = name.lower().endswith(".json") or (
        not name.lower().endswith(".csv") and text.lstrip()[:1] in ("[", "{")
    )
    if looks_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SeedFileError(
                [f"The file is not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})."]
            ) from err
        if isinstance(data, dict):
            data = data.get("cards", data.get("values"))
        if not isinstance(data, list):
            raise SeedFileError(
                ["The JSON file should be a list of cards (objects), or an object with a “cards” list."]
            )
        return data
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(_ALIASES.get(h.strip().lower(), h.strip().lower()) if h else "") for h in (reader.fieldnames or [])]
    missing = [c for c in ("title", "description", "policies") if c not in header]
    if missing:
        raise SeedFileError(
            [
                f"The CSV file's first row should name its columns: {', '.join(COLUMNS[:3])} "
                f"(and optionally scenarios); missing: {', '.join(missing)}."
            ]
        )
    reader.fieldnames = header
    try:
        return [
            {k: v for k, v in row.items() if k} | ({"__extra__": row[None]} if row.get(None) else {}) for row in reader
        ]
    except csv.Error as err:
        raise SeedFileError([f"The CSV file cannot be read: {err}."]) from err


def _key(title: str) -> str:
    return " ".join(title.split()).casefold()


def parse(raw: bytes, name: str, *, scenario_keys: set[str], existing_titles: Iterable[str] = ()) -> list[Row]:
    """Every row of the file, checked; a row's `problems` say what is wrong
    with it. A title already in the file is a problem; one the study
    already has is a note (the row will be skipped)."""
    records = _records(_decode(raw), name)
    if not records:
        raise SeedFileError(["The file has no cards."])
    if len(records) > MAX_ROWS:
        raise SeedFileError([f"The file has {len(records):,} cards; at most {MAX_ROWS:,} can be seeded at once."])
    existing = {_key(t) for t in existing_titles}
    first_row: dict[str, int] = {}
    rows = []
    for number, record in enumerate(records, 1):
        row = Row(number)
        rows.append(row)
        if not isinstance(record, dict):
            row.problems.append("should be an object with title, description and policies")
            continue
        if record.pop("__extra__", None):
            row.problems.append("has more cells than the header has columns")
        record = {_ALIASES.get(str(k).strip().lower(), str(k).strip().lower()): v for k, v in record.items()}
        try:
            row.card = SeedCard.model_validate(record)
        except ValidationError as err:
            row.problems += [_problem_text(e) for e in err.errors(include_url=False)]
            continue
        unknown = [s for s in row.card.scenarios if s not in scenario_keys]
        if unknown:
            row.problems.append(
                f"no scenario {', '.join(map(repr, unknown))} in this study (its scenarios: "
                f"{', '.join(sorted(scenario_keys)) or 'none'})"
            )
        key = _key(row.card.title)
        if key in first_row:
            row.problems.append(f"the title “{row.card.title}” is also in row {first_row[key]}")
        else:
            first_row[key] = number
        if key in existing:
            row.note = "skipped: the study already has a value with this title"
    return rows


def problems(rows: list[Row]) -> list[str]:
    return [f"row {row.number}: {problem}" for row in rows for problem in row.problems]
