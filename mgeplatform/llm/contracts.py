"""What every structured model answer is checked against: pydantic models.

Each app keeps the contracts of its own prompts in its `contracts.py`; this
module has what they share: the base class (strict types, extra keys
tolerated), a text type whose minimum length counts non-blank characters,
the readable description of a failed check, and the plain JSON schema sent to
providers as a tool's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from mgeplatform.llm.types import ToolSpec


class Contract(BaseModel):
    """Strict: no "3" for 3, no true for 1, no 3.0 for an integer. Keys the
    contract does not name are tolerated (models add chatter) and dropped."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def text_limits(min_length: int = 0, max_length: int | None = None) -> StringConstraints:
    """Strip surrounding whitespace before the length is checked: whitespace
    alone never satisfies a minimum."""
    return StringConstraints(strip_whitespace=True, min_length=min_length or None, max_length=max_length)


def Text(min_length: int = 0, max_length: int | None = None) -> Any:
    """A string within `text_limits`. Type checkers cannot read a call in an
    annotation: in a type-checked app, write `Annotated[str, text_limits(...)]`."""
    return Annotated[str, text_limits(min_length, max_length)]


# --- readable failures --------------------------------------------------------------


def _path(loc: tuple) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


_TYPE_NAMES = {
    "int_type": "an integer",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "bool_type": "true or false",
    "float_type": "a number",
    "model_attributes_type": "an object",
}


# pydantic's error type -> our sentence; {path} and the error's context fill it in.
_MESSAGES = {
    "missing": "{path} is missing",
    "string_too_long": "{path} is too long (at most {max_length} characters)",
    "string_too_short": "{path} is too short (at least {min_length} characters, not counting spaces around it)",
    "too_long": "{path} allows at most {max_length} items",
    "too_short": "{path} needs at least {min_length} items",
    "less_than_equal": "{path} is above {le}",
    "greater_than_equal": "{path} is below {ge}",
    "less_than": "{path} should be less than {lt}",
    "greater_than": "{path} should be more than {gt}",
    "literal_error": "{path} should be {expected}",
}


def _problem(error: Mapping[str, Any]) -> str:
    kind, ctx, path = error["type"], error.get("ctx") or {}, _path(error["loc"])
    if kind in _TYPE_NAMES or kind.endswith("_type"):
        return f"{path} should be {_TYPE_NAMES.get(kind, kind.removesuffix('_type'))}, not {error['input']!r}"[:300]
    if kind in _MESSAGES:
        return _MESSAGES[kind].format(path=path, **ctx)
    return f"{path}: {error['msg']}"


def describe(err: ValidationError, limit: int = 3) -> str:
    """The first few failed checks, each naming its field ("$.card.title is too long ...")."""
    errors = err.errors(include_url=False)
    text = "; ".join(_problem(e) for e in errors[:limit])
    return text + (f" (and {len(errors) - limit} more)" if len(errors) > limit else "")


# --- JSON schema for providers --------------------------------------------------------


def json_schema(model: type[BaseModel]) -> dict:
    """The model's JSON schema as providers take it: object at the top,
    `$defs` inlined, no titles, optional fields as their plain type."""
    schema = model.model_json_schema()
    return _plain(schema, schema.pop("$defs", {}))


def _plain(node: Any, defs: dict) -> Any:
    if isinstance(node, list):
        return [_plain(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        return _plain({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
    out = {}
    for key, value in node.items():
        if key == "title" or (key == "default" and value is None):
            continue
        if key == "properties":
            out[key] = {name: _plain(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _plain(value, defs)
    required = set(out.get("required", []))
    for name, sub in out.get("properties", {}).items():
        # An optional field may be left out, which says the same as null.
        options = sub.get("anyOf")
        if name not in required and options and len(options) == 2 and {"type": "null"} in options:
            rest = {k: v for k, v in sub.items() if k != "anyOf"}
            out["properties"][name] = {**next(o for o in options if o != {"type": "null"}), **rest}
    return out


def tool(name: str, description: str, arguments: type[BaseModel]) -> ToolSpec:
    """A tool whose parameters schema is generated from its arguments' contract."""
    return ToolSpec(name=name, description=description, parameters=json_schema(arguments))
