"""Reads for the values interview."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from interviews.models import ChatMessage, Interview
from mgeplatform.llm import gateway
from studies import arms
from studies.models import Participant


def active_interview(participant: Participant):
    return (
        Interview.objects.filter(participant=participant)
        .select_related("scenario")
        .order_by("status", "-created_at")
        .first()
    )


def interview_busy(interview_id: int) -> bool:
    """Is a reply to this interview being written by someone alive?"""
    return reply_alive(Interview.objects.get(pk=interview_id))


def interview_state(interview_id: int) -> dict:
    """interview_snapshot, read by id (what a tab asks for when it reconnects)."""
    return interview_snapshot(Interview.objects.select_related("scenario", "participant__study").get(pk=interview_id))


def interview_snapshot(interview) -> dict:
    """Everything a (re)connecting browser needs to draw the interview."""
    card = interview.cards.order_by("-revision").first()
    visible = interview.messages.filter(role__in=[ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT]).exclude(
        content=""
    )
    route = gateway.resolve(arms.interviewer_settings(interview.participant))
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
        "replying": reply_alive(interview),
        "awaiting_reply": needs_reply(interview),
        "last_error": bool(interview.last_error),
        "limits": {"max_chars": settings.INTERVIEW_MAX_MESSAGE_CHARS},
    }


def latest_ratings(ratings, field: str) -> dict:
    """{participant id: `field` of their newest rating} among `ratings` (a
    TranscriptRating queryset): a re-rating with a newer prompt replaces the
    older answer everywhere it is read (report and export alike)."""
    return dict(ratings.order_by("created_at", "pk").values_list("interview__participant_id", field))


def reply_alive(interview: Interview) -> bool:
    if interview.reply_token is None or interview.reply_heartbeat_at is None:
        return False
    stale = timezone.now() - timedelta(seconds=settings.INTERVIEW_REPLY_STALE_SECONDS)
    return interview.reply_heartbeat_at > stale


def needs_reply(interview: Interview) -> bool:
    last = interview.messages.exclude(role=ChatMessage.Role.NOTE).order_by("-seq").first()
    # An interviewer's turn that asked for a tool whose result never came
    # (the process died in the card writer) needs the rest of its reply too;
    # claiming it records a result saying the step failed.
    return (
        interview.status == Interview.Status.ACTIVE
        and last is not None
        and (
            last.role in (ChatMessage.Role.USER, ChatMessage.Role.TOOL)
            or (last.role == ChatMessage.Role.ASSISTANT and bool(last.tool_calls))
        )
    )


def message_payload(message: ChatMessage) -> dict:
    return {
        "seq": message.seq,
        "role": message.role,
        "content": message.content,
        "client_message_id": message.client_message_id,
        "created_at": message.created_at.isoformat(),
    }
