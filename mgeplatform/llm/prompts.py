"""Prompts as versioned files.

A prompt file is Markdown with a small header:

    ---
    name: interviewer
    version: 3
    ---
    You are ...  {{scenario}} ...

`{{name}}` placeholders are filled by `render`. The hash covers the header
and body, so any edit, even without a version bump, shows in the records.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_HEADER = re.compile(r"\A---\n(?P<header>.*?)\n---\n(?P<body>.*)\Z", re.S)
_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    body: str
    sha256: str
    path: Path

    def render(self, **values) -> str:
        def fill(match):
            key = match.group(1)
            if key not in values:
                raise KeyError(f"prompt {self.name} v{self.version} needs {{{{{key}}}}}")
            return str(values[key])

        return _PLACEHOLDER.sub(fill, self.body)

    @property
    def ref(self) -> dict:
        return {"prompt_name": self.name, "prompt_version": self.version, "prompt_hash": self.sha256}


@cache
def load(path: str | Path) -> Prompt:
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    match = _HEADER.match(raw)
    if not match:
        raise ValueError(f"{path}: a prompt file starts with a --- header --- naming it and its version")
    header = {}
    for line in match.group("header").splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
    if "name" not in header or "version" not in header:
        raise ValueError(f"{path}: the header needs name and version")
    return Prompt(
        name=header["name"],
        version=header["version"],
        body=match.group("body").strip() + "\n",
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        path=path,
    )


def app_prompt(app_module_file: str, name: str) -> Prompt:
    """Load `<app>/prompts/<name>.md` for the app the calling module is in
    (the nearest folder above it with an `apps.py`, so a module inside an
    app's package, such as `interviews/services/cards.py`, finds the app's
    prompts too)."""
    here = Path(app_module_file).resolve()
    app = next((p for p in here.parents if (p / "apps.py").exists()), here.parent)
    return load(app / "prompts" / f"{name}.md")
