"""What an arm of a study may override, as one pydantic model.

An arm (studies.models.Arm) keeps its overrides as JSON; every key is one of
the fields below, checked when the arm is saved (the admin's form, `add_arm`)
and read through `studies.arms.effective`. A field the arm leaves out falls
back to the study's own setting. No Django models here, so the model module
can validate with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PROVIDERS = ("anthropic", "openai", "openai-compatible", "offline")


class ArmSettings(BaseModel):
    """The overrides of one arm; None (or absent) means "as the study"."""

    model_config = ConfigDict(extra="forbid", strict=False)

    interviewer_prompt_version: str | None = Field(
        None, min_length=1, max_length=32, description="version of interviews/prompts/interviewer.md to use"
    )
    llm_provider: str | None = Field(None, description="provider of the interviewer: " + ", ".join(PROVIDERS))
    llm_model: str | None = Field(None, min_length=1, max_length=100, description="model of the interviewer")
    stories_per_participant: int | None = Field(None, ge=0, le=50, description="transition stories each judges")
    story_prompt_version: str | None = Field(
        None, min_length=1, max_length=32, description="version of graph/prompts/story_writer.md of the stories shown"
    )
    scenarios: list[int] | None = Field(None, min_length=1, description="ids of the questions offered")
    relevance_step: bool | None = Field(None, description="whether the relevance step is shown")

    @field_validator("llm_provider")
    @classmethod
    def _known_provider(cls, value: str | None) -> str | None:
        if value is not None and value not in PROVIDERS:
            raise ValueError(f"unknown provider {value!r}; one of {', '.join(PROVIDERS)}")
        return value


FIELDS: tuple[str, ...] = tuple(ArmSettings.model_fields)

# Checks a feature registers for a field it reads (in its AppConfig.ready()):
# check(value) raises ValueError with the reason when the value cannot work.
_feature_checks: dict[str, list[Callable[[Any], None]]] = {}


def register_check(field: str, check: Callable[[Any], None]) -> None:
    """A feature's check of an arm field (the interviewer's prompt version has a file)."""
    if field not in FIELDS:
        raise KeyError(f"{field!r} is not an arm setting")
    if check not in _feature_checks.setdefault(field, []):
        _feature_checks[field].append(check)


class ArmSettingsError(ValueError):
    """Arm settings that do not validate; the message names the field."""


def check(data: Any) -> dict:
    """The overrides as they are stored: validated, with unset fields left out.
    Raises ArmSettingsError with a readable message."""
    if data in (None, ""):
        return {}
    if not isinstance(data, dict):
        raise ArmSettingsError("arm settings are an object of field: value")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ArmSettingsError(f"unknown field {', '.join(unknown)}; the fields are {', '.join(FIELDS)}")
    try:
        parsed = ArmSettings.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ArmSettingsError(f"{where}: {first['msg']}") from None
    checked = parsed.model_dump(exclude_none=True)
    for field, value in checked.items():
        for feature_check in _feature_checks.get(field, ()):
            try:
                feature_check(value)
            except ValueError as err:
                raise ArmSettingsError(f"{field}: {err}") from None
    return checked


def parse_assignment(text: str) -> tuple[str, Any]:
    """`FIELD=VALUE` from the command line, the value read as its field's type
    (numbers, true/false, comma-separated scenario ids); checked by `check`."""
    if "=" not in text:
        raise ArmSettingsError(f"{text!r} is not FIELD=VALUE")
    name, raw = (part.strip() for part in text.split("=", 1))
    if name not in FIELDS:
        raise ArmSettingsError(f"unknown field {name!r}; the fields are {', '.join(FIELDS)}")
    value: Any = raw
    if name == "scenarios":
        value = [part.strip() for part in raw.split(",") if part.strip()]
    elif name == "relevance_step":
        lowered = raw.lower()
        if lowered in ("true", "on", "yes", "1"):
            value = True
        elif lowered in ("false", "off", "no", "0"):
            value = False
        else:
            raise ArmSettingsError(f"relevance_step: {raw!r} is not on or off (true/false)")
    return name, value
