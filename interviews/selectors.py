"""Reads for the participant journey."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import Count, Q

from interviews.models import ConsentDocument, Participant, Scenario, Step, Study

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
    participants = Participant.objects.filter(study=study, simulated=False)
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
    }


# The steps a participant who finishes goes through, in order (progress bar).
JOURNEY = [Step.CONSENT, Step.SCENARIO, Step.INTERVIEW, Step.RELEVANCE, Step.STORIES, Step.SURVEY, Step.COMPLETE]


def progress(participant: Participant) -> dict:
    try:
        index = JOURNEY.index(Step(participant.current_step))
    except ValueError:
        index = len(JOURNEY) - 1
    total = len(JOURNEY) - 1
    return {"index": index, "total": total, "percent": round(100 * index / total), "label": Step(participant.current_step).label}


def active_interview(participant: Participant):
    from interviews.models import Interview

    return (Interview.objects.filter(participant=participant).select_related("scenario")
            .order_by("status", "-created_at").first())


def interview_snapshot(interview) -> dict:
    """Everything a (re)connecting browser needs to draw the interview."""
    from interviews.interview_services import _reply_alive, message_payload, needs_reply
    from interviews.models import ChatMessage
    from mgeplatform.llm import gateway

    card = interview.cards.order_by("-revision").first()
    visible = interview.messages.filter(role__in=[ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT]).exclude(content="")
    route = gateway.resolve(interview.participant.study)
    return {
        "type": "state",
        "interview": {
            "id": interview.pk,
            "status": interview.status,
            "scenario": {"title": interview.scenario.title, "prompt": interview.scenario.prompt},
            "offline": interview.offline,
            "offline_reason": route.fallback_reason if interview.offline else "",
        },
        "messages": [message_payload(m) for m in visible.order_by("seq")],
        "card": card.as_dict() if card else None,
        "replying": _reply_alive(interview),
        "awaiting_reply": needs_reply(interview),
        "last_error": bool(interview.last_error),
        "limits": {"max_chars": settings.INTERVIEW_MAX_MESSAGE_CHARS},
    }


def latest_ratings(ratings, field: str) -> dict:
    """{participant id: `field` of their newest rating} among `ratings` (a
    TranscriptRating queryset): a re-rating with a newer prompt replaces the
    older answer everywhere it is read (report and export alike)."""
    return dict(ratings.order_by("created_at", "pk").values_list("interview__participant_id", field))
