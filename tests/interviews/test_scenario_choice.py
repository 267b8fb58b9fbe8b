"""Choosing a scenario and opening the interview page."""

from interviews.models import ChatMessage, Interview
from studies.models import Participant, Step
from tests.factories import consented_participant
from values import contracts as card_limits


def test_choosing_a_scenario_starts_one_interview_with_the_greeting(study):
    participant, client = consented_participant(study)
    scenario = study.scenarios.get(key="weapons")
    for _ in range(2):  # a double-clicked "Start" starts one interview
        response = client.post(f"/s/{study.slug}/scenario/", {"scenario": scenario.pk})
        assert response.status_code == 302
    interview = Interview.objects.get()
    assert interview.scenario == scenario and interview.offline
    greeting = ChatMessage.objects.get(interview=interview)
    assert scenario.prompt in greeting.content
    assert Participant.objects.get().current_step == Step.INTERVIEW
    page = client.get(f"/s/{study.slug}/journey/")
    html = page.content.decode()
    assert f'data-ws="/ws/s/{study.slug}/interview/"' in html
    assert "Offline mode" in html and scenario.prompt in html
    # The card editor refuses what the server would refuse (limits defined once, in values/contracts.py).
    assert f'id="edit-title" maxlength="{card_limits.TITLE_MAX}"' in html
    assert f'id="edit-description" rows="2" maxlength="{card_limits.DESCRIPTION_MAX}"' in html


def test_bad_scenario_choice_is_a_clear_400(study):
    participant, client = consented_participant(study)
    other_study_like = "999999"
    for value in ("", "abc", other_study_like):
        response = client.post(f"/s/{study.slug}/scenario/", {"scenario": value})
        assert response.status_code == 400
        assert "Please choose one of the questions" in response.content.decode()
    assert not Interview.objects.exists()


def test_single_scenario_study_opens_the_interview_directly(study):
    study.scenarios.exclude(key="parenting").update(active=False)
    participant, client = consented_participant(study)
    assert participant.current_step == Step.INTERVIEW
    html = client.get(f"/s/{study.slug}/journey/").content.decode()
    assert "My 10-year-old son" in html and Interview.objects.get().scenario.key == "parenting"
