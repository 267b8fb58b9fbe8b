from django.test import Client

from interviews.models import Participant, Step
from tests.conftest import consented_participant


def at_step(study, pid, step=Step.SURVEY) -> tuple[Participant, Client]:
    """A participant (with a browser session) moved straight to `step`."""
    participant, client = consented_participant(study, pid)
    Participant.objects.filter(pk=participant.pk).update(current_step=step)
    participant.refresh_from_db()
    return participant, client


TABLE_3_KEYS = ["clarify", "expresses_care", "contributions_placed", "trust_process", "learned_values",
                "gained_respect"]


def full_answers(value="4", **overrides) -> dict:
    return {**{key: value for key in TABLE_3_KEYS}, **overrides}
