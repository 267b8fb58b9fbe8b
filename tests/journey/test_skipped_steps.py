"""A step a participant moved past without doing it (no stories for their
question, no other values to mark) is shown as skipped, not as done: in the
live console, in the export and on the participant's page. Three people
reached the stories step before any story existed and one judged stories:
"stories: reached 4, did 1, skipped 3"."""

import csv

import pytest
from django.test import Client

from graph import stories
from graph.models import StoryAssignment
from journey.exports import export_study
from studies import steps
from studies.models import Step
from tests.factories import at_step, make_values, move_to, parent_with_card

pytestmark = pytest.mark.django_db


def _row(html: str, step: str) -> list[str]:
    from tests.journey.test_console import step_row

    return step_row(html, step)


@pytest.fixture
def three_skipped_one_did(study):
    skippers = [at_step(study, f"early-{i}", Step.SURVEY)[0] for i in range(3)]  # nothing to judge yet
    values = make_values(study)
    stories.generate_stories(study, reverse=True)
    doer, _ = parent_with_card(study, "judge", values[0])
    move_to(doer, Step.STORIES)
    assert doer.current_step == Step.STORIES and StoryAssignment.objects.filter(participant=doer).exists()
    assert steps.finish(doer, Step.STORIES)
    return skippers, doer


def test_console_shows_skipped_steps_apart_from_done_ones(study, coordinator, three_skipped_one_did):
    client = Client()
    client.force_login(coordinator)
    html = client.get(f"/admin/studies/study/{study.pk}/console/").content.decode()
    # step, here now, reached, did it, skipped, stopped
    assert _row(html, "stories")[:6] == ["Transition stories", "0", "4", "1", "3", "0"]
    assert _row(html, "survey")[:6] == ["Survey", "4", "4", "0", "0", "0"]
    assert "Skipped" in html and "Did it" in html


def test_export_says_which_steps_were_skipped(study, three_skipped_one_did, tmp_path):
    skippers, doer = three_skipped_one_did
    export_study(study, tmp_path)
    with (tmp_path / "participants_steps.csv").open() as fh:
        rows = {(r["participant"], r["step"]): r["skipped"] for r in csv.DictReader(fh)}
    for skipper in skippers:
        assert rows[(str(skipper.pk), "stories")] == "True"
        assert rows[(str(skipper.pk), "relevance")] == "True"
        assert rows[(str(skipper.pk), "interview")] == "False"
    assert rows[(str(doer.pk), "stories")] == "False"
    with (tmp_path / "participants.csv").open() as fh:
        wide = {r["participant"]: r["steps_skipped"] for r in csv.DictReader(fh)}
    assert wide[str(skippers[0].pk)] == "relevance;stories"
    assert wide[str(doer.pk)] == ""


def test_participant_page_marks_the_skipped_step(study, coordinator, three_skipped_one_did):
    skippers, _ = three_skipped_one_did
    client = Client()
    client.force_login(coordinator)
    page = client.get(f"/admin/studies/participant/{skippers[0].pk}/change/").content.decode()
    assert "Transition stories (skipped)" in page and "Interview (skipped)" not in page
