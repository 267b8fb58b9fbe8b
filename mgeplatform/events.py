"""The registry of domain event kinds.

Each app declares the kinds it writes in its own `events.py`, with a line
saying what happened; `record_event` refuses a kind nobody declared, so a
typo cannot start a new kind that no report or auditor looks for. The admin
lists the declared kinds and their meaning."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

KINDS: dict[str, str] = {}
# Kinds whose payload has a declared shape (a pydantic model); the others are
# free-form for now, and are typed one by one.
PAYLOADS: dict[str, type[BaseModel]] = {}


class Payload(BaseModel):
    """Base of a typed payload: unknown keys are refused, so two writers of
    one kind cannot drift into two shapes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def kind(name: str, description: str, payload: type[BaseModel] | None = None) -> str:
    """Declare a kind (at import time of the app's events module), with the
    shape of its payload if it has one."""
    if KINDS.get(name, description) != description:
        raise ValueError(f"event kind {name!r} declared twice with different meanings")
    KINDS[name] = description
    if payload is not None:
        PAYLOADS[name] = payload
    return name


def check(name: str) -> None:
    if name not in KINDS:
        raise ValueError(f"unknown event kind {name!r}: declare it in the app's events.py")


def checked_payload(name: str, payload: dict | BaseModel | None) -> dict:
    """The payload as stored: validated against the kind's model when it has
    one (pydantic.ValidationError otherwise), as JSON-ready data."""
    model = PAYLOADS.get(name)
    if isinstance(payload, BaseModel):
        if model is not None and not isinstance(payload, model):
            raise TypeError(f"event kind {name!r} takes a {model.__name__} payload, not {type(payload).__name__}")
        return payload.model_dump(mode="json", exclude_none=True)
    if model is None:
        return payload or {}
    return model.model_validate(payload or {}).model_dump(mode="json", exclude_none=True)


STAFF_ROLE_SET = kind("staff.role_set", "A staff account was created or given a role")
JOBS_RETRIED = kind("jobs.retried", "A staff member retried failed or running background jobs (ids in the payload)")
JOBS_CANCELLED = kind("jobs.cancelled", "A staff member cancelled background jobs that had not started")
JOBS_ABORTED = kind("jobs.aborted", "A staff member aborted waiting or running background jobs")
