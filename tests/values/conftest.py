"""Fixtures only the values tests use."""

import pytest

from tests.factories import CURIOSITY, CURIOSITY_2, FAITH, FAITH_2, ODD, consented_participant
from values.models import ValuesCard


@pytest.fixture
def cards(db):
    from interviews import services as chat
    from studies import services as journey

    study, _ = journey.seed_case_study()
    made = {}
    for name, policies in {"c1": CURIOSITY, "c2": CURIOSITY_2, "f1": FAITH, "f2": FAITH_2, "odd": ODD}.items():
        participant, _ = consented_participant(study, f"seed-{name}")
        interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
        made[name] = ValuesCard.objects.create(
            interview=interview,
            revision=1,
            title=name.title(),
            description=f"{name} card.",
            policies=policies,
            source="articulator",
            submitted=True,
        )
    return study, made
