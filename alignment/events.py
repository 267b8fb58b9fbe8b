"""Domain event kinds written by the alignment app (see mgeplatform/events.py)."""

from mgeplatform.events import kind

ALIGNMENT_ANSWER_AUDITED = kind(
    "alignment.answer_audited", "An answer was audited against the moral graph's values for its contexts"
)
ALIGNMENT_TRAINING_EXPORT_QUEUED = kind(
    "alignment.training_export_queued", "A staff member queued a training-data export (run and job in the payload)"
)
ALIGNMENT_PLAYGROUND_TURN = kind(
    "alignment.playground_turn",
    "A playground message was answered three ways (contexts, values and calls in the payload)",
)
