"""Audit trail plumbing shared by every app.

Row changes on research tables are captured by pghistory's Postgres triggers;
this module puts *who* into the trigger context (a staff user or a
participant's pseudonymous id) and writes domain events.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pghistory
from django.db import connection
from django.utils import timezone
from pghistory import runtime as pghistory_runtime

from mgeplatform import events
from mgeplatform.models import DomainEvent

PARTICIPANT_SESSION_KEY = "mge_participants"


def redaction_marker(policy: str = "delete_content") -> str:
    """What a text redacted on a withdrawal says instead: when and why."""
    return f"[redacted {timezone.now():%Y-%m-%d}: participant withdrew, policy {policy}]"


# Every row event names who made it, in its pghistory context's metadata:
# "participant" (a pseudonymous id), "user" (a staff user's pk), or "actor"
# (`job:<task>#<job id>` for background jobs, `system` for migrations and
# management commands). A context only ever gains keys: the database refuses
# to change a key once written (mgeplatform/migrations/0007), so a context
# can never be made to name someone else afterwards.
ACTOR_KEYS = ("participant", "user", "actor")


def actor_of(metadata: dict | None) -> str:
    """Who a row event's context names ('' when nobody)."""
    metadata = metadata or {}
    if metadata.get("participant"):
        return f"participant:{metadata['participant']}"
    if metadata.get("user"):
        return f"staff:{metadata['user']}"
    return str(metadata.get("actor") or "")


@contextlib.contextmanager
def _context(**metadata):
    """pghistory.context, but a key already set to another value (a second
    participant inside a job, say) opens a context of its own for the
    enclosed writes instead of rewriting the open one."""
    current = getattr(pghistory_runtime._tracker, "value", None)
    if current is None or all(current.metadata.get(k, v) == v for k, v in metadata.items()):
        with pghistory.context(**metadata):
            yield
        return
    pghistory_runtime._tracker.value = pghistory_runtime.Context(
        id=uuid.uuid4(), metadata={**current.metadata, **metadata}
    )
    try:
        yield
    finally:
        pghistory_runtime._tracker.value = current


def participant_context(participant_id: uuid.UUID | str):
    """Attach a participant to pghistory context for the enclosed writes."""
    return _context(participant=str(participant_id))


def staff_context(user):
    """Attach a staff user to the enclosed writes (outside a request)."""
    return _context(user=user.pk)


def system_context(command: str):
    """Migrations and management commands: their writes are the system's."""
    return _context(actor="system", command=command)


def job_context(task_name: str, job_id) -> contextlib.AbstractContextManager:
    return _context(actor=f"job:{task_name}#{job_id}")


class AuditContextMiddleware:
    """Every request runs inside a pghistory context naming its URL and, for
    staff, its user; participant pages add the participant (their services
    use participant_context). GET requests too: following a study link
    creates the participant."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context: dict[str, Any] = {"url": request.path}
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context["user"] = user.pk
        with pghistory.context(**context):
            return self.get_response(request)


def record_event(
    kind: str,
    *,
    user=None,
    participant_id: uuid.UUID | None = None,
    study_slug: str = "",
    subject: Any = None,
    payload: dict | events.BaseModel | None = None,
) -> DomainEvent:
    """Write a domain event; call inside the service's transaction. `kind`
    must be declared in an app's events.py (mgeplatform/events.py)."""
    events.check(kind)
    payload = events.checked_payload(kind, payload)
    subject_type = subject_id = ""
    if subject is not None:
        subject_type = subject._meta.label
        subject_id = str(subject.pk)
    return DomainEvent.objects.create(
        kind=kind,
        actor_user=user if user is not None and getattr(user, "is_authenticated", False) else None,
        actor_participant=participant_id,
        study_slug=study_slug,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
    )


def in_transaction() -> bool:
    return connection.in_atomic_block
