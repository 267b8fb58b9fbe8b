"""The weights' share of a participant's data: on withdrawal their weight rows go."""

from studies.contributions import participant_content
from weights.models import ParticipantWeight


def _delete(participant) -> dict[str, int]:
    return {"survey_weights": ParticipantWeight.objects.filter(participant=participant).delete()[0]}


def register() -> None:
    participant_content(_delete)
