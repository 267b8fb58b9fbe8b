"""The moral graph's share of a participant's data: story impressions and
votes in the export; on withdrawal, both (so edge counts stay consistent),
with the audit-trail copies of the votes."""

from graph import services, stories
from graph.models import StoryAssignment, WisdomVote
from mgeplatform.audit import redaction_marker
from studies.contributions import TrailSection, admin_link, export_table, iso, participant_content, participant_trail
from values import selectors as value_selectors


def _impressions(study, pids):
    return (
        (
            a.participant_id,
            a.story_id,
            a.story.from_value_id,
            a.story.to_value_id,
            a.story.context_id,
            a.position,
            iso(a.shown_at),
            a.round,
        )
        for a in StoryAssignment.objects.filter(participant__in=pids)
        .select_related("story")
        .order_by("participant", "position")
    )


def _votes(study, pids):
    return (
        (
            v.participant_id,
            v.from_value_id,
            v.to_value_id,
            v.context_id,
            v.story_id,
            v.answer,
            v.reason,
            v.time_taken_ms,
            iso(v.created_at),
            iso(v.updated_at),
            v.round,
        )
        for v in WisdomVote.objects.filter(participant__in=pids).order_by("created_at")
    )


def _delete(participant) -> dict[str, int]:
    # Before the values app words their values again (or archives them): what the graph copied of that wording.
    worded = list(value_selectors.worded_from(participant).values_list("pk", flat=True))
    marker = redaction_marker(participant.study.withdrawal_policy)
    return {
        "votes": WisdomVote.objects.filter(participant=participant).delete()[0],
        "impressions": StoryAssignment.objects.filter(participant=participant).delete()[0],
        "stories_redacted": stories.redact_stories(worded, marker=marker),
        "snapshots_redacted": services.redact_snapshot_values(participant.study, worded, marker=marker),
    }


def _audit_copies(participant) -> dict[str, list]:
    return {
        "graph.WisdomVoteEvent": list(WisdomVote.objects.filter(participant=participant).values_list("pk", flat=True)),
        "graph.StoryAssignmentEvent": list(
            StoryAssignment.objects.filter(participant=participant).values_list("pk", flat=True)
        ),
        # The stories' history holds the text they are about to lose.
        "graph.TransitionStoryEvent": list(
            stories.stories_of_values(value_selectors.worded_from(participant)).values_list("pk", flat=True)
        ),
    }


def _texts(participant):
    return WisdomVote.objects.filter(participant=participant).exclude(reason="").values_list("reason", flat=True)


def _trail(participant) -> list[TrailSection]:
    shown = (
        StoryAssignment.objects.filter(participant=participant)
        .select_related("story__from_value", "story__to_value", "story__context")
        .order_by("position")
    )
    votes = (
        WisdomVote.objects.filter(participant=participant)
        .select_related("from_value", "to_value", "context")
        .order_by("created_at")
    )
    return [
        TrailSection(
            "Stories shown",
            ["#", "story", "from", "to", "context", "first shown"],
            [
                [
                    a.position + 1,
                    admin_link(a.story, f"story {a.story_id}"),
                    admin_link(a.story.from_value),
                    admin_link(a.story.to_value),
                    a.story.context.text,
                    iso(a.shown_at) or "not yet",
                ]
                for a in shown
            ],
            empty="No stories assigned.",
        ),
        TrailSection(
            "Votes",
            ["when", "from", "to", "context", "wiser?", "reason", "seconds taken"],
            [
                [
                    admin_link(v, iso(v.created_at)),
                    admin_link(v.from_value),
                    admin_link(v.to_value),
                    v.context.text,
                    v.get_answer_display(),
                    v.reason,
                    f"{v.time_taken_ms / 1000:.0f}" if v.time_taken_ms is not None else "",
                ]
                for v in votes
            ],
            empty="No votes yet.",
        ),
    ]


def register() -> None:
    export_table(
        "story_impressions.csv",
        ["participant", "story", "from_value", "to_value", "context", "position", "shown_at", "round"],
        _impressions,
    )
    export_table(
        "votes.csv",
        [
            "participant",
            "from_value",
            "to_value",
            "context",
            "story",
            "answer",
            "reason",
            "time_taken_ms",
            "created_at",
            "updated_at",
            "round",
        ],
        _votes,
    )
    participant_content(_delete, _audit_copies, _texts)
    participant_trail(_trail)
