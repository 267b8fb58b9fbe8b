"""Transcript ratings for the analyses (paper 5.2 Fig. 8, 5.5 Fig. 12)."""

import json

import pytest

from interviews import ratings
from interviews.models import TranscriptRating
from mgeplatform.llm.providers import offline as offline_provider
from mgeplatform.models import LLMCall
from studies import services as journey
from tests.factories import INTERVIEW_ANSWERS, consented_participant, run_interview


@pytest.fixture
def study(db):
    study, _ = journey.seed_case_study()
    return study


def test_groups():
    assert [ratings.ideology_group(s) for s in (1, 2, 3, 4, 5)] == [
        "not ideological",
        "not ideological",
        "slightly ideological",
        "very ideological",
        "very ideological",
    ]


def test_slogans_rate_as_more_ideological_than_a_story_and_experts_are_found(study):
    abortion = study.scenarios.get(key="abortion")
    slogan_p, _ = consented_participant(study, "slogan")
    slogan, _ = run_interview(
        slogan_p,
        abortion,
        answers=[
            "Abortion is murder, it is always wrong and a sin.",
            INTERVIEW_ANSWERS[1],
            "I remember helping a friend decide something hard.",
            INTERVIEW_ANSWERS[3],
        ],
    )
    story_p, _ = consented_participant(study, "story")
    story, _ = run_interview(
        story_p,
        abortion,
        answers=[
            "When I thought I was pregnant in college I paid attention to who I could talk to.",
            *INTERVIEW_ANSWERS[1:],
        ],
    )
    assert ratings.rate_ideology(slogan).score > ratings.rate_ideology(story).score
    assert ratings.rate_expert(story).is_expert is True
    assert ratings.rate_expert(slogan).is_expert is False
    rating = TranscriptRating.objects.get(interview=story, kind="expert")
    assert rating.question == abortion.expert_question and rating.llm_call.prompt_name == "expert"
    # Rated once per prompt version and question: a second run reuses the rating.
    assert ratings.rate_study(study) == {"ideology": 2, "expert": 2}
    assert TranscriptRating.objects.count() == 4
    # Scenarios without an expert question are not rated for expertise.
    parenting_p, _ = consented_participant(study, "parent")
    parenting, _ = run_interview(parenting_p, study.scenarios.get(key="parenting"))
    assert ratings.rate_expert(parenting) is None


def test_unusable_rating_leaves_the_interview_unrated_with_the_evidence(study):
    saved = dict(offline_provider._SCRIPTS)
    offline_provider.register_script("ideology", lambda request: (json.dumps({"score": 9}), []))
    try:
        participant, _ = consented_participant(study, "p")
        interview, _ = run_interview(participant, study.scenarios.get(key="abortion"))
        assert ratings.rate_ideology(interview) is None
    finally:
        offline_provider._SCRIPTS.clear()
        offline_provider._SCRIPTS.update(saved)
    call = LLMCall.objects.filter(prompt_name="ideology").get()
    assert not call.ok and "above 5" in call.error
    assert not TranscriptRating.objects.exists()


@pytest.mark.django_db(transaction=True)  # the worker reads on its own connection
def test_coordinator_rates_transcripts_from_the_study_list_in_the_background(study, coordinator):
    from django.test import Client

    from tests.factories import run_jobs_until_idle

    participant, _ = consented_participant(study, "rated-later")
    run_interview(participant, study.scenarios.get(key="abortion"))
    client = Client()
    client.force_login(coordinator)
    response = client.post("/admin/studies/study/", {"action": "rate_transcripts", "_selected_action": [study.pk]})
    assert response.status_code == 302
    assert not TranscriptRating.objects.exists()  # queued, not done in the request
    run_jobs_until_idle()
    kinds = set(TranscriptRating.objects.filter(interview__participant=participant).values_list("kind", flat=True))
    assert kinds == {"ideology", "expert"}
    # The export action takes the coordinator to the study's export page.
    export = client.post("/admin/studies/study/", {"action": "export_data", "_selected_action": [study.pk]})
    assert export.status_code == 302 and export["Location"] == f"/admin/studies/study/{study.pk}/export/"
