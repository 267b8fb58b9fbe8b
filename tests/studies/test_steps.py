"""The step table and its one transition service, as a participant meets
them: moves the journey does not allow are refused, every move is pushed to
the participant's open pages once it is committed, and drawing a page never
writes anything."""

import pytest
from django.db import connection, transaction

from graph import stories
from mgeplatform.models import DomainEvent
from studies import services, steps
from studies.models import Participant, Step, StepTiming
from tests.factories import consented_participant, make_values, move_to, pushes_to, run_interview


def test_a_move_the_journey_does_not_allow_is_refused_and_changes_nothing(study):
    participant, _ = consented_participant(study, "jumper")
    before = participant.current_step
    with pytest.raises(steps.TransitionError):
        steps.move(participant, Step.COMPLETE)
    participant.refresh_from_db()
    assert participant.current_step == before
    assert not StepTiming.objects.filter(participant=participant, step=Step.COMPLETE).exists()


def test_withdrawing_is_allowed_from_any_step_once_and_screening_out_only_while_taking_part(study, coordinator):
    participant, _ = consented_participant(study, "leaver")
    move_to(participant, Step.COMPLETE)
    assert services.screen_out(participant=participant, reason="Not eligible", user=coordinator) is False
    assert steps.move(participant, Step.WITHDRAWN)
    with pytest.raises(steps.TransitionError):
        steps.move(participant, Step.WITHDRAWN)
    kinds = list(DomainEvent.objects.filter(subject_id=str(participant.pk)).values_list("kind", flat=True))
    assert "participant.screened_out" not in kinds


def test_a_move_reaches_the_participants_open_pages_only_once_committed(study):
    participant, _ = consented_participant(study, "watcher")
    # A move rolled back (the request failed later) tells the pages nothing.
    with pushes_to(participant) as pushed, pytest.raises(RuntimeError), transaction.atomic():
        steps.move(participant, Step.WITHDRAWN)
        raise RuntimeError("the rest of the request failed")
    assert pushed == []
    participant.refresh_from_db()
    assert participant.current_step != Step.WITHDRAWN
    with pushes_to(participant) as pushed:
        steps.move(participant, Step.WITHDRAWN)
    assert pushed == [{"type": "participant.state", "step": "withdrawn"}]


def test_work_done_for_a_waiting_step_tells_the_participants_pages_to_load_again(study):
    participant, _ = consented_participant(study, "waiter")
    with pushes_to(participant) as pushed:
        steps.refresh(participant.pk)
    assert pushed == [{"type": "participant.state", "refresh": True}]


class _Writes:
    """The INSERT, UPDATE and DELETE statements a block sends to the database."""

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.statements.append(sql)
        return execute(sql, params, many, context)


def _page_writes(client, study) -> tuple[int, list[str]]:
    writes = _Writes()
    with connection.execute_wrapper(writes):
        response = client.get(f"/s/{study.slug}/journey/")
    return response.status_code, writes.statements


def test_drawing_any_step_page_writes_nothing(study):
    """GET pages only read: the scenario's interview, the relevance draw, the
    participant's stories and the survey's questions are settled when the
    participant enters the step, so a reload (or a bot following links)
    changes nothing."""
    make_values(study)
    stories.generate_stories(study)
    participant, client = consented_participant(study, "reader")
    seen = {}
    for step in (Step.SCENARIO, Step.INTERVIEW):
        move_to(participant, step)
        seen[participant.current_step] = _page_writes(client, study)
    run_interview(participant, study.scenarios.get(key="parenting"))
    participant.refresh_from_db()
    assert participant.current_step == Step.RELEVANCE
    seen[Step.RELEVANCE] = _page_writes(client, study)
    for step in (Step.STORIES, Step.SURVEY, Step.COMPLETE):
        move_to(participant, step)
        seen[participant.current_step] = _page_writes(client, study)
    assert set(seen) == {Step.SCENARIO, Step.INTERVIEW, Step.RELEVANCE, Step.STORIES, Step.SURVEY, Step.COMPLETE}
    assert {step: status for step, (status, _) in seen.items()} == dict.fromkeys(seen, 200)
    assert {step: writes for step, (_, writes) in seen.items()} == {step: [] for step in seen}
    assert Participant.objects.get(pk=participant.pk).story_assignments.exists()


@pytest.mark.django_db(transaction=True)
def test_a_move_locks_only_its_participant_not_the_study(study):
    """Many participants of one study move at once: one participant's open
    move must not hold up another's (the row lock is the participant's)."""
    import threading

    from django.db import connections

    first, _ = consented_participant(study, "first")
    second, _ = consented_participant(study, "second")
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def hold_a_move_open():
        try:
            with transaction.atomic():
                steps.move(first, Step.INTERVIEW)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold_a_move_open)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            outcome["moved"] = steps.move(second, Step.INTERVIEW)
    finally:
        release.set()
        thread.join(10)
    assert outcome == {"moved": True}
    assert set(Participant.objects.values_list("current_step", flat=True)) == {Step.INTERVIEW}
