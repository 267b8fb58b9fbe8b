"""The moral graph's share of a participant's data: story impressions and
votes in the export; on withdrawal, both (so edge counts stay consistent),
with the audit-trail copies of the votes."""

from graph.models import StoryAssignment, WisdomVote
from studies.contributions import export_table, iso, participant_content


def _impressions(study, pids):
    return ((a.participant_id, a.story_id, a.story.from_value_id, a.story.to_value_id, a.story.context_id,
             a.position, iso(a.shown_at))
            for a in StoryAssignment.objects.filter(participant__in=pids).select_related("story")
            .order_by("participant", "position"))


def _votes(study, pids):
    return ((v.participant_id, v.from_value_id, v.to_value_id, v.context_id, v.story_id, v.answer, v.reason,
             v.time_taken_ms, iso(v.created_at), iso(v.updated_at))
            for v in WisdomVote.objects.filter(participant__in=pids).order_by("created_at"))


def _delete(participant) -> dict[str, int]:
    return {"votes": WisdomVote.objects.filter(participant=participant).delete()[0],
            "impressions": StoryAssignment.objects.filter(participant=participant).delete()[0]}


def _audit_copies(participant) -> dict[str, list]:
    return {"graph.WisdomVoteEvent": list(WisdomVote.objects.filter(participant=participant)
                                          .values_list("pk", flat=True))}


def register() -> None:
    export_table("story_impressions.csv", ["participant", "story", "from_value", "to_value", "context", "position",
                                           "shown_at"], _impressions)
    export_table("votes.csv", ["participant", "from_value", "to_value", "context", "story", "answer", "reason",
                               "time_taken_ms", "created_at", "updated_at"], _votes)
    participant_content(_delete, _audit_copies)
