"""Reads for the values interview."""

from __future__ import annotations

from django.conf import settings

from interviews.models import ChatMessage, Interview
from interviews.services import _reply_alive, message_payload, needs_reply
from mgeplatform.llm import gateway
from studies.models import Participant


def active_interview(participant: Participant):
    return (Interview.objects.filter(participant=participant).select_related("scenario")
            .order_by("status", "-created_at").first())


def interview_snapshot(interview) -> dict:
    """Everything a (re)connecting browser needs to draw the interview."""
    card = interview.cards.order_by("-revision").first()
    visible = (interview.messages.filter(role__in=[ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT])
               .exclude(content=""))
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
