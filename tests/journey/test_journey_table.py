"""The journey is one table (journey/table.py): each step's page, entry
work, submit service, simulation and label in one StepSpec. The table is
checked when it is declared; a new step takes one module
(tests/journey/pledge_step.py) and one line in the table."""

import dataclasses
import random

import pytest

from journey import simulation, table
from studies import steps
from studies.models import Step
from tests.journey import pledge_step


def test_the_platform_table_is_whole_and_is_the_journey():
    assert steps.check_table(table.TABLE) == []
    assert steps.JOURNEY == [
        Step.CONSENT,
        Step.SCENARIO,
        Step.INTERVIEW,
        Step.RELEVANCE,
        Step.STORIES,
        Step.SURVEY,
        Step.COMPLETE,
    ]
    assert all(steps.spec_for(s) is spec for s, spec in zip(steps.JOURNEY, table.TABLE, strict=True))


@pytest.mark.parametrize("part", ["page", "submit", "simulate"])
def test_a_step_missing_a_part_is_refused_and_named(part):
    broken = [*table.TABLE[:-2], dataclasses.replace(pledge_step.SPEC, **{part: None}), table.TABLE[-1]]
    assert steps.check_table(broken) == [f"pledge: no {part}"]
    with pytest.raises(ValueError, match=f"pledge: no {part}"):
        steps.declare(broken)
    assert pledge_step.PLEDGE not in steps.JOURNEY  # the journey in force is unchanged


def test_a_table_must_end_with_its_final_step_and_list_each_step_once():
    assert steps.check_table([*table.TABLE[:-1]]) == ["survey: the last step must be final"]
    assert "consent: listed twice" in steps.check_table([table.TABLE[0], *table.TABLE])


@pytest.fixture
def with_pledge():
    """The platform's table with the pledge step after the survey: one line."""
    extended = [*table.TABLE[:-1], pledge_step.SPEC, table.TABLE[-1]]
    steps.declare(extended)
    yield
    steps.declare(table.TABLE)


def test_a_new_step_from_one_module_and_one_line_is_walked_by_a_simulated_participant(db, with_pledge):
    from mgeplatform.models import DomainEvent
    from studies import services as journey

    study, _ = journey.seed_case_study()
    participant = simulation.simulate_one(study, random.Random(3))
    assert participant.current_step == Step.COMPLETE
    moves = [
        (e.payload.get("from"), e.payload.get("to"))
        for e in DomainEvent.objects.filter(
            kind__in=["journey.step", "journey.step_skipped"], actor_participant=participant.pk
        ).order_by("pk")
    ]
    assert (Step.SURVEY, "pledge") in moves and ("pledge", Step.COMPLETE) in moves
    assert steps.progress(participant)["total"] == 7


def test_a_participant_at_the_new_step_sees_its_page_and_its_label(db, with_pledge, client):
    from studies import services as journey
    from tests.factories import consented_participant

    study, _ = journey.seed_case_study()
    participant, client = consented_participant(study, "pledger")
    participant.current_step = Step.SURVEY  # as if they had answered everything so far
    participant.save(update_fields=["current_step"])
    assert steps.move(participant, "pledge")
    page = client.get(f"/s/{study.slug}/journey/")
    assert page.status_code == 200 and 'id="pledge"' in page.content.decode()
    assert steps.progress(participant)["label"] == "Pledge"
    assert not steps.allowed("pledge", Step.SURVEY) and steps.allowed(Step.SURVEY, "pledge")
    assert not steps.allowed(Step.SURVEY, Step.COMPLETE)  # the pledge cannot be skipped: it has no skip_if
