"""Staff accounts and roles."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from procrastinate import utils as procrastinate_utils
from procrastinate.contrib.django.models import ProcrastinateJob

from mgeplatform import events, roles
from mgeplatform.audit import record_event

ROLE_GROUPS = {"coordinator": roles.COORDINATORS, "auditor": roles.AUDITORS}


@transaction.atomic
def upsert_staff_user(*, email: str, role: str, password: str | None = None, created_by=None):
    """Create or update a staff account with exactly one role."""
    if role not in ROLE_GROUPS:
        raise ValueError(f"role must be one of {sorted(ROLE_GROUPS)}")
    email = email.strip().lower()
    User = get_user_model()
    found = User.objects.filter(email__iexact=email).first()
    created = found is None
    user = User(username=email[:150], email=email) if found is None else found
    user.is_staff = True
    user.is_active = True
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=ROLE_GROUPS[role])])
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"primary": True, "verified": True})
    record_event(
        events.STAFF_ROLE_SET, user=created_by, subject=user, payload={"email": email, "role": role, "created": created}
    )
    return user


# What each job-queue action may touch, by job status (as in procrastinate's admin).
JOB_ACTIONS = {
    "retry": (events.JOBS_RETRIED, ("failed", "doing")),
    "cancel": (events.JOBS_CANCELLED, ("todo",)),
    "abort": (events.JOBS_ABORTED, ("todo", "doing")),
}


@transaction.atomic
def act_on_jobs(*, action: str, job_ids, user) -> list[int]:
    """Retry, cancel or abort background jobs and record who did it; returns
    the ids of the jobs acted on (jobs in another status are left alone)."""
    kind, statuses = JOB_ACTIONS[action]
    # The procrastinate app (and its job manager) lives on its AppConfig.
    manager = django_apps.get_app_config("procrastinate").app.job_manager  # type: ignore[attr-defined]
    jobs = list(ProcrastinateJob.objects.filter(pk__in=list(job_ids), status__in=statuses).order_by("pk"))
    done = []
    for job in jobs:
        if action == "retry":
            manager.retry_job_by_id(job.id, procrastinate_utils.utcnow(), job.priority, job.queue_name, job.lock)
        elif not manager.cancel_job_by_id(job.id, abort=action == "abort"):
            continue  # it moved on meanwhile (started or finished)
        done.append(job.id)
    if done:
        record_event(
            kind,
            user=user,
            payload={
                "jobs": [
                    {"id": job.id, "task": job.task_name, "status_before": job.status} for job in jobs if job.id in done
                ]
            },
        )
    return done
