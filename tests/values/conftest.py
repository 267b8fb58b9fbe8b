"""Shared fixtures for the values tests."""

import pytest

from tests.conftest import consented_participant
from values.models import ValuesCard

CURIOSITY = ["MOMENTS when the child's eyes light up with interest", "QUESTIONS the child asks on their own",
             "OPPORTUNITIES to follow the child's passions"]
CURIOSITY_2 = CURIOSITY[:2] + ["OPPORTUNITIES to follow the child's own passions and interests"]
FAITH = ["SCRIPTURE passages that guide the decision", "PRAYER before choosing", "TEACHINGS of the church"]
FAITH_2 = FAITH[:2]
ODD = ["RITUALS of the royal court", "ETIQUETTE at state banquets"]


@pytest.fixture
def cards(transactional_db):
    from interviews import services as chat
    from studies import services as journey

    study, _ = journey.seed_case_study()
    made = {}
    for name, policies in {"c1": CURIOSITY, "c2": CURIOSITY_2, "f1": FAITH, "f2": FAITH_2, "odd": ODD}.items():
        participant, _ = consented_participant(study, f"seed-{name}")
        interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
        made[name] = ValuesCard.objects.create(interview=interview, revision=1, title=name.title(),
                                               description=f"{name} card.", policies=policies,
                                               source="articulator", submitted=True)
    return study, made
