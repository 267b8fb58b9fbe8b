"""A participant's admin page shows everything they did, in the journey's
order, each feature contributing its part: steps and times, the interview
transcript, card revisions, relevance marks, stories and votes with reasons,
survey answers. Auditors read it; nobody edits it."""

import re

import pytest
from django.test import Client

from graph import services as graph_services
from graph import stories
from studies.models import Step
from surveys import services as survey_services
from tests.factories import INTERVIEW_ANSWERS, consented_participant, full_answers, move_to, run_interview


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def voter(graph_study):
    """A participant who was interviewed, judged stories (with a reason) and answered the survey."""
    study, values = graph_study
    stories.generate_stories(study, reverse=True)
    participant, _ = consented_participant(study, "trail")
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"))
    participant.refresh_from_db()
    move_to(participant, Step.STORIES)
    assignment = graph_services.next_assignment(participant)
    assert assignment is not None
    graph_services.record_vote(
        participant=participant,
        assignment=assignment,
        answer="yes",
        reason="She saw the child as a person with her own reasons.",
    )
    return study, participant, interview, assignment


def _login(user, password):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")  # see tests/journey/test_console.py
    return client


def test_participant_page_shows_the_whole_trail_with_links(voter, coordinator):
    study, participant, interview, assignment = voter
    html = _login(coordinator, "x-coord-pass-1").get(f"/admin/studies/participant/{participant.pk}/change/")
    assert html.status_code == 200
    page = html.content.decode()
    text = _text(page)
    headings = [_text(h).strip() for h in re.findall(r'<h2 id="trail-\d+">(.*?)</h2>', page, re.S)]
    assert headings[:2] == ["Language", "Steps"]  # who they are, then where they went
    assert headings[2].startswith("Interview transcript: ")
    assert {
        "Values card revisions",
        "Deduplication decisions",
        "Relevance marks",
        "Stories shown",
        "Votes",
        "Survey answers",
    } <= set(headings)
    # Steps in order, with times.
    steps = _text(re.search(r'<h2 id="trail-2">.*?</table>', page, re.S).group(0))
    labels = ["Consent", "Choose a scenario", "Interview", "Relevance", "Transition stories"]
    assert [steps.index(label) for label in labels] == sorted(steps.index(label) for label in labels)
    assert steps.rstrip().endswith("still here")  # where they are now
    # The transcript: the participant's own words and the interviewer's.
    assert INTERVIEW_ANSWERS[1] in text
    assert "Interviewer" in text and "Participant" in text
    assert f'href="/admin/interviews/interview/{interview.pk}/change/"' in page
    # Their card and the vote with its reason, linked to their admin pages.
    card = interview.cards.order_by("-revision").first()
    assert f'href="/admin/values/valuescard/{card.pk}/change/"' in page
    assert "She saw the child as a person with her own reasons." in text
    assert f'href="/admin/graph/transitionstory/{assignment.story_id}/change/"' in page
    participant.refresh_from_db()
    assert participant.get_cohort_display() in text  # pilot or study


def test_survey_answers_appear_and_the_auditor_reads_without_editing(study, auditor):
    participant, _ = consented_participant(study, "surveyed")
    move_to(participant, Step.SURVEY)
    bank = survey_services.ensure_default_bank(study)
    assert survey_services.submit_survey(participant=participant, bank=bank, answers=full_answers("5"))
    response = _login(auditor, "x-audit-pass-1").get(f"/admin/studies/participant/{participant.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Survey answers" in page
    clarify = bank.items.get(key="clarify")
    assert clarify.text in _text(page)
    assert 'name="_save"' not in page  # read-only
    assert "No card yet." in page  # sections with nothing say so
