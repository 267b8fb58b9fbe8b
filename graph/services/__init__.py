"""Writes for the moral graph, one module per job: `assignment` (which
stories a participant judges), `votes` (their wisdom votes) and `build`
(snapshots of the graph). Callers use `graph.services.<name>`; the names are
listed here so the public surface is in one place."""

from graph.services.assignment import (
    assign_stories,
    choose_stories,
    current_assignment,
    next_assignment,
    on_enter_stories,
    request_stories,
    serve_waiting,
    stories_may_come,
    waiting_for_stories,
    write_stories_ahead,
)
from graph.services.build import (
    QUICK_SKIPS,
    build_snapshot,
    build_without_flagged,
    exclusion_reason,
    rebuild_without_withdrawn,
    redact_snapshot_values,
)
from graph.services.votes import (
    REASON_MAX_CHARS,
    VoteError,
    rebuild_pair_counts,
    record_vote,
    vote_and_continue,
)

__all__ = [
    "choose_stories",
    "assign_stories",
    "current_assignment",
    "next_assignment",
    "on_enter_stories",
    "stories_may_come",
    "request_stories",
    "write_stories_ahead",
    "waiting_for_stories",
    "serve_waiting",
    "vote_and_continue",
    "VoteError",
    "record_vote",
    "rebuild_pair_counts",
    "REASON_MAX_CHARS",
    "build_snapshot",
    "exclusion_reason",
    "build_without_flagged",
    "rebuild_without_withdrawn",
    "redact_snapshot_values",
    "QUICK_SKIPS",
]
