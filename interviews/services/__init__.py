"""The values interview (paper 4.3), one module per job: `transcript` (the
scenario and the participant's turns), `cards` (drafts, edits, the in-chat
match, submission) and `replies` (the interviewer's streamed answer and its
tools). Callers use `interviews.services.<name>`; the names are listed here so
the public surface is in one place."""

from interviews.services.cards import (
    edit_card,
    match_before_submit,
    submit_card,
    submitted_event,
)
from interviews.services.replies import (
    DELTA_FLUSH_SECONDS,
    HEARTBEAT_SECONDS,
    MAX_TOOL_ROUNDS,
    TOOLS,
    Emit,
    claim_reply,
    heartbeat_seconds,
    run_reply,
    takeover_due_in,
)
from interviews.services.transcript import (
    ClaimedTurn,
    InterviewError,
    add_user_message,
    add_user_message_and_claim_reply,
    articulator_prompt,
    choose_scenario,
    greeting,
    interviewer_prompt,
    start_only_scenario,
    transcript_messages,
    transcript_text,
)

__all__ = [
    "InterviewError",
    "interviewer_prompt",
    "articulator_prompt",
    "greeting",
    "choose_scenario",
    "start_only_scenario",
    "add_user_message",
    "ClaimedTurn",
    "add_user_message_and_claim_reply",
    "transcript_messages",
    "transcript_text",
    "edit_card",
    "submit_card",
    "match_before_submit",
    "submitted_event",
    "heartbeat_seconds",
    "takeover_due_in",
    "claim_reply",
    "run_reply",
    "Emit",
    "HEARTBEAT_SECONDS",
    "MAX_TOOL_ROUNDS",
    "DELTA_FLUSH_SECONDS",
    "TOOLS",
]
