"""Domain event kinds written by the interviews app (see mgeplatform/events.py)."""

from mgeplatform.events import kind

INTERVIEW_STARTED = kind("interview.started", "A participant's values interview began, with its provider and model")
VALUES_CARD_SUBMITTED = kind(
    "values_card.submitted", "A participant (or the interviewer on their say-so) submitted a values card"
)
VALUES_CARD_EDITED = kind("values_card.edited", "A participant edited their values card directly (a new revision)")
