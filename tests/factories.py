"""Builders that make test data through the platform's own services, so a
test's participant is in the state a real one would be in."""

from studies import steps
from studies.models import Participant


def move_to(participant: Participant, step: str) -> Participant:
    """Take the participant through the journey's steps up to `step` with the
    transition service: each step's entry work runs as it does for a real
    participant (a step with nothing to do may move them past `step`)."""
    order = steps.JOURNEY
    participant.refresh_from_db()
    while participant.current_step != step and order.index(participant.current_step) < order.index(step):
        steps.move(participant, steps.next_step(participant, participant.current_step))
    participant.refresh_from_db()
    return participant
