"""Audit trail plumbing shared by every app.

Row changes on research tables are captured by pghistory's Postgres triggers;
this module puts *who* into the trigger context (a staff user or a
participant's pseudonymous id) and writes domain events.
"""

from __future__ import annotations

import uuid
from typing import Any

import pghistory
from django.db import connection

from mgeplatform import events
from mgeplatform.models import DomainEvent

PARTICIPANT_SESSION_KEY = "mge_participants"


def participant_context(participant_id: uuid.UUID | str):
    """Attach a participant to pghistory context for the enclosed writes."""
    return pghistory.context(participant=str(participant_id))


class AuditContextMiddleware:
    """Every write request runs inside a pghistory context naming its actor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
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
    payload: dict | None = None,
) -> DomainEvent:
    """Write a domain event; call inside the service's transaction. `kind`
    must be declared in an app's events.py (mgeplatform/events.py)."""
    events.check(kind)
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
        payload=payload or {},
    )


def in_transaction() -> bool:
    return connection.in_atomic_block
