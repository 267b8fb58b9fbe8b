"""The interview's share of a participant's data: transcripts and ratings in
the study export; on withdrawal, the transcript and the interview (its cards
go with it), with their audit-trail copies."""

from interviews.models import ChatMessage, DialogueGrade, Interview, TranscriptRating
from studies.contributions import (
    Link,
    TrailSection,
    admin_link,
    export_table,
    iso,
    participant_content,
    participant_trail,
)


def _messages(study, pids):
    return (
        (
            m.interview.participant_id,
            m.interview_id,
            m.interview.scenario.key,
            m.seq,
            m.role,
            m.content,
            iso(m.created_at),
            m.interview.round,
        )
        for m in ChatMessage.objects.filter(
            interview__participant__in=pids, role__in=[ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT]
        )
        .exclude(content="")
        .select_related("interview__scenario")
        .order_by("interview", "seq")
    )


def _ratings(study, pids):
    return (
        (
            r.interview.participant_id,
            r.interview_id,
            r.kind,
            r.score,
            r.is_expert,
            r.question,
            r.prompt_version,
            iso(r.created_at),
            r.interview.round,
        )
        for r in TranscriptRating.objects.filter(interview__participant__in=pids)
        .select_related("interview")
        .order_by("created_at")
    )


def _count_and_delete(queryset) -> int:
    """The rows of `queryset` deleted (not the rows that went with them)."""
    count = queryset.count()
    queryset.delete()
    return count


def _delete(participant) -> dict[str, int]:
    return {
        "messages": ChatMessage.objects.filter(interview__participant=participant).delete()[0],
        # Cards (with their decisions and approvals) go with the interviews (the values app counts them).
        "interviews": _count_and_delete(Interview.objects.filter(participant=participant)),
    }


def _audit_copies(participant) -> dict[str, list]:
    return {
        "interviews.ChatMessageEvent": list(
            ChatMessage.objects.filter(interview__participant=participant).values_list("pk", flat=True)
        ),
        "interviews.InterviewEvent": list(
            Interview.objects.filter(participant=participant).values_list("pk", flat=True)
        ),
        "interviews.DialogueGradeEvent": list(
            DialogueGrade.objects.filter(interview__participant=participant).values_list("pk", flat=True)
        ),
        "interviews.TranscriptRatingEvent": list(
            TranscriptRating.objects.filter(interview__participant=participant).values_list("pk", flat=True)
        ),
    }


def _texts(participant):
    return ChatMessage.objects.filter(interview__participant=participant, role=ChatMessage.Role.USER).values_list(
        "content", flat=True
    )


def _trail(participant) -> list[TrailSection]:
    sections = []
    for interview in Interview.objects.filter(participant=participant).select_related("scenario").order_by("pk"):
        rows = [
            [m.seq, m.get_role_display(), m.content, iso(m.created_at)]
            for m in interview.messages.filter(role__in=[ChatMessage.Role.USER, ChatMessage.Role.ASSISTANT])
            .exclude(content="")
            .order_by("seq")
        ]
        sections.append(
            TrailSection(
                f"Interview transcript: {interview.scenario.title} ({interview.get_status_display().lower()}"
                f"{', scripted interviewer' if interview.offline else ''})",
                ["#", "who", "text", "sent"],
                rows,
                link=page if isinstance(page := admin_link(interview, "Interview page"), Link) else None,
                empty="No messages yet.",
            )
        )
    return sections


def register() -> None:
    export_table(
        "messages.csv",
        ["participant", "interview", "scenario", "seq", "role", "content", "created_at", "round"],
        _messages,
    )
    export_table(
        "ratings.csv",
        ["participant", "interview", "kind", "score", "is_expert", "question", "prompt_version", "created_at", "round"],
        _ratings,
    )
    participant_content(_delete, _audit_copies, _texts)
    participant_trail(_trail)
