"""No participant is ever left at a step with nothing to do: a step with
nothing to show is skipped (and the skip recorded), a step that waits on
background work moves on by itself when the work is done or fails, and any
wait has a time limit. The first participant of an empty study reaches the
completion code."""

import pytest
from django.test import Client
from django.utils import timezone

from graph import stories
from graph.models import StoryAssignment, TransitionStory
from mgeplatform.models import DomainEvent
from studies import services as journey
from studies.models import Participant, Step, StepTiming
from tests.factories import (
    PROLIFIC,
    enter,
    full_answers,
    make_values,
    parent_with_card,
    run_interview,
    run_jobs_until_idle,
)
from values import relevance


def _skips(participant) -> dict[str, str]:
    return {
        e.payload["from"]: e.payload["reason"]
        for e in DomainEvent.objects.filter(kind="journey.step_skipped", actor_participant=participant.pk)
    }


def test_first_participant_of_an_empty_study_reaches_the_completion_code(db, settings):
    settings.PROLIFIC_COMPLETION_URL = "https://prolific.example/done?cc={code}"
    study, _ = journey.seed_case_study()
    client = Client()
    enter(client, study, **PROLIFIC)
    consent = client.get(f"/s/{study.slug}/consent/").content.decode()
    assert "Withdraw from the study" not in consent  # nothing to withdraw from before joining
    document = study.consent_documents.get()
    client.post(f"/s/{study.slug}/consent/", {"choice": "accept", "consent_hash": document.content_hash})
    participant = Participant.objects.get()
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"))

    page = client.get(f"/s/{study.slug}/journey/")
    html = page.content.decode()
    # Nobody else has written a value yet: no relevance marks, no stories, no
    # question about a "shared" value (it would be their own card).
    assert page.status_code == 200 and "A few questions about taking part" in html
    assert "Is this your value?" not in html and "not open yet" not in html
    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY
    assert set(_skips(participant)) == {"relevance", "stories"}
    assert DomainEvent.objects.filter(kind="relevance.skipped", actor_participant=participant.pk).exists()

    from surveys import services as survey_services

    bank = survey_services.ensure_default_bank(study)
    client.post(f"/s/{study.slug}/survey/", {"bank": bank.pk, **full_answers()})
    done = client.get(f"/s/{study.slug}/journey/").content.decode()
    assert "Thank you, you are done" in done and study.completion_code_completed in done
    assert f'href="https://prolific.example/done?cc={study.completion_code_completed}"' in done


@pytest.fixture
def waiting_parent(transactional_db):
    """Six parenting values, no stories yet; a parent whose card matched one
    of them marks relevance and reaches the stories step."""
    study, _ = journey.seed_case_study()
    values = make_values(study)
    participant, client = parent_with_card(study, "waiting-parent", values[1])
    from tests.factories import move_to

    move_to(participant, Step.RELEVANCE)
    relevance.submit(participant=participant, draw=relevance.current_draw(participant), relevant_ids=set())
    participant.refresh_from_db()
    return study, values, participant, client


def test_participant_waits_for_stories_and_gets_them_when_the_job_has_written_them(waiting_parent):
    study, values, participant, client = waiting_parent
    assert participant.current_step == Step.STORIES and not TransitionStory.objects.exists()
    waiting = client.get(f"/s/{study.slug}/journey/").content.decode()
    assert "Getting the next part ready" in waiting and "moves on by itself" in waiting
    assert 'data-reload-after="' in waiting  # the page loads again by itself when the wait is up

    run_jobs_until_idle()  # the worker writes the stories and serves who is waiting

    participant.refresh_from_db()
    assert participant.current_step == Step.STORIES
    assigned = list(StoryAssignment.objects.filter(participant=participant).select_related("story__context"))
    assert len(assigned) == study.stories_per_participant
    assert {a.story.context.scenario.key for a in assigned} == {"parenting"}
    assert "Did this person become wiser?" in client.get(f"/s/{study.slug}/journey/").content.decode()


def test_when_the_story_job_fails_waiting_participants_move_on_and_finish(waiting_parent, settings):
    study, _, participant, client = waiting_parent
    settings.LLM_MAX_ATTEMPTS = 1
    # The model server goes away before the job runs: every call fails.
    study.llm_provider, study.llm_base_url = "openai-compatible", "http://127.0.0.1:9/v1"
    study.save()

    run_jobs_until_idle()

    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY
    assert _skips(participant)["stories"] == "story writing failed"
    assert "A few questions about taking part" in client.get(f"/s/{study.slug}/journey/").content.decode()


def test_a_wait_has_a_time_limit_even_without_a_worker(waiting_parent, settings):
    study, _, participant, client = waiting_parent
    settings.STEP_WAIT_SECONDS = 60
    StepTiming.objects.filter(participant=participant, step=Step.STORIES).update(
        started_at=timezone.now() - timezone.timedelta(seconds=61)
    )
    response = client.get(f"/s/{study.slug}/journey/")
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY
    assert _skips(participant)["stories"].startswith("waited 61 s")


def test_stories_come_from_the_participants_own_question_and_fill_the_count(db):
    study, _ = journey.seed_case_study()
    parenting = make_values(study)
    make_values(study, scenario_key="weapons", prefix="gun")
    stories.generate_stories(study, reverse=True)
    assert TransitionStory.objects.filter(context__scenario__key="weapons").exists()
    participant, _ = parent_with_card(study, "parent", parenting[0])
    from graph import services

    assigned = services.assign_stories(participant)
    assert len(assigned) == study.stories_per_participant == 3
    assert {a.story.context.scenario.key for a in assigned} == {"parenting"}
