"""Reads for studies and participants."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db.models import Count, Q, Sum

from mgeplatform.models import DomainEvent, LLMCall
from studies import events
from studies.models import Cohort, ConsentDocument, Participant, Scenario, Step, Study

SESSION_KEY = "mge_participants"  # {study_slug: participant uuid}


def get_study(slug: str) -> Study | None:
    return Study.objects.filter(slug=slug).first()


def current_consent(study: Study) -> ConsentDocument | None:
    return study.consent_documents.filter(is_active=True).order_by("-created_at", "-id").first()


def active_scenarios(study: Study):
    return Scenario.objects.filter(study=study, active=True).order_by("order", "id")


def participant_for_session(session, study: Study) -> Participant | None:
    """The participant this browser belongs to in this study, if any.

    The session cookie is the only key to a participant's data: no page takes
    a participant id from the URL.
    """
    raw = (session.get(SESSION_KEY) or {}).get(study.slug)
    if not raw:
        return None
    try:
        pid = uuid.UUID(str(raw))
    except ValueError:
        return None
    return Participant.objects.filter(pk=pid, study=study).first()


def study_counts(study: Study) -> dict:
    """Counts of the study's real participants, with the simulated ones and
    staff previews beside them: a study filled by the simulator (the demo)
    has 0 real participants, and the snapshot should say why."""
    everyone = Participant.objects.filter(study=study)
    participants = everyone.real()
    by_step = dict(participants.values_list("current_step").annotate(n=Count("id")).order_by())
    consent = participants.aggregate(
        consented=Count("id", filter=Q(consent_records__accepted=True), distinct=True),
        declined=Count("id", filter=Q(consent_records__accepted=False), distinct=True),
    )
    return {
        "participants": participants.count(),
        "consented": consent["consented"],
        "declined": consent["declined"],
        "by_step": {step: by_step.get(step, 0) for step in Step.values if by_step.get(step)},
        **everyone.aggregate(
            simulated=Count("id", filter=Q(simulated=True) & ~Q(cohort=Cohort.PREVIEW)),
            previews=Count("id", filter=Q(cohort=Cohort.PREVIEW)),
        ),
    }


def skipped_steps(participants) -> dict[uuid.UUID, set[str]]:
    """{participant id: the steps they moved past without doing them}: a
    step whose entry found nothing to do (no other values to mark, no stories
    for their question, no survey questions) or that they waited at too long.
    Read from the journey.step_skipped events steps.move writes; `participants`
    is a queryset of participants or a list of their ids."""
    ids = participants.values("pk") if hasattr(participants, "values") else list(participants)
    out: dict[uuid.UUID, set[str]] = {}
    for pid, step in DomainEvent.objects.filter(kind=events.STEP_SKIPPED, actor_participant__in=ids).values_list(
        "actor_participant", "payload__from"
    ):
        if step and pid is not None:  # never None: the filter names participants
            out.setdefault(pid, set()).add(step)
    return out


def may_preview(user) -> bool:
    """A signed-in coordinator (staff who may change studies) may preview any study."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("studies.change_study")
    )


def study_cost_usd(study: Study) -> Decimal:
    """What the study's model calls have cost so far (estimated from token
    counts): every call made for the study, staff previews' included."""
    total = LLMCall.objects.filter(study_id=study.pk).aggregate(total=Sum("estimated_cost_usd"))["total"]
    return total or Decimal("0")


def budget_spent(study: Study) -> bool:
    return study.budget_usd is not None and study_cost_usd(study) >= study.budget_usd


# The demo study (journey.simulation.populate_demo) holds this advisory lock,
# keyed by the study's id, while scripted participants fill it, so its pages
# can say it is still being built. Held by a session: a build that dies lets go.
DEMO_BUILD_LOCK_NAMESPACE = 4_502


def demo_build(study: Study) -> dict | None:
    """{"participants": simulated so far} while the study is being filled, else None."""
    from mgeplatform import locks  # imported when used: a read of pg_locks, nothing else here needs it

    if not locks.advisory_lock_held(DEMO_BUILD_LOCK_NAMESPACE, study.pk):
        return None
    return {"participants": Participant.objects.filter(study=study, simulated=True).count()}
