"""The prompt set of a training-data run: a coordinator's file of prompts,
checked and stored, plus the study's own scenarios."""

from __future__ import annotations

import csv
import io
import json

from mgeplatform import inputs
from studies import selectors as study_selectors


def read_prompts(text: str, name: str = "") -> tuple[list[dict], list[str]]:
    """Prompts from a JSONL file ({"prompt": ...} per line) or, for a name
    ending in .csv, a CSV with a "prompt" column. Returns ([{text, source}],
    [problems with line numbers])."""
    prompts, problems = [], []
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        if "prompt" not in (reader.fieldnames or []):
            return [], ["line 1: the CSV needs a 'prompt' column"]
        for number, row in enumerate(reader, start=2):
            value = (row.get("prompt") or "").strip()
            if value:
                prompts.append({"text": value, "source": f"{name or 'file'}:{number}", "line": number})
            else:
                problems.append(f"line {number}: empty prompt; skipped")
        return _storable(prompts, problems)
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as err:
            problems.append(f"line {number}: not JSON ({err.msg}); skipped")
            continue
        value = item.get("prompt") if isinstance(item, dict) else None
        if not isinstance(value, str) or not value.strip():
            problems.append(f"line {number}: needs 'prompt' as non-empty text; skipped")
            continue
        prompts.append({"text": value.strip(), "source": f"{name or 'file'}:{number}", "line": number})
    return _storable(prompts, problems)


def _storable(prompts: list[dict], problems: list[str]) -> tuple[list[dict], list[str]]:
    """Leave out prompts the database cannot store (a NUL, a broken character)."""
    kept = []
    for item in prompts:
        number = item.pop("line")
        try:
            inputs.check_text(item["text"], what="The prompt")
        except inputs.BadInput as err:
            problems.append(f"line {number}: {err.message.split('. Please')[0]}; skipped")
            continue
        kept.append(item)
    return kept, problems


def prompt_set(study, extra: list[dict] = ()) -> list[dict]:
    """The study's active scenarios' prompts, then the extra ones; a prompt
    given twice is used once."""
    items = [
        {"text": s.prompt.strip(), "source": f"scenario:{s.key}"}
        for s in study_selectors.active_scenarios(study)
        if s.prompt.strip()
    ]
    seen, out = set(), []
    for item in [*items, *extra]:
        if item["text"] not in seen:
            seen.add(item["text"])
            out.append(item)
    return out
