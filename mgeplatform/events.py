"""The registry of domain event kinds.

Each app declares the kinds it writes in its own `events.py`, with a line
saying what happened; `record_event` refuses a kind nobody declared, so a
typo cannot start a new kind that no report or auditor looks for. The admin
lists the declared kinds and their meaning."""

from __future__ import annotations

KINDS: dict[str, str] = {}


def kind(name: str, description: str) -> str:
    """Declare a kind (at import time of the app's events module)."""
    if KINDS.get(name, description) != description:
        raise ValueError(f"event kind {name!r} declared twice with different meanings")
    KINDS[name] = description
    return name


def check(name: str) -> None:
    if name not in KINDS:
        raise ValueError(f"unknown event kind {name!r}: declare it in the app's events.py")


STAFF_ROLE_SET = kind("staff.role_set", "A staff account was created or given a role")
JOB_ACTION = kind("jobs.action", "A staff member acted on a background job: queued, retried, cancelled or deleted it "
                                "(payload: action, task, job)")
