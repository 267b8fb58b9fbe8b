"""Every participant form refuses text it cannot store (a NUL character),
ids that are not ids and over-long text with a 400 page that says what is
wrong and keeps what the participant typed; nothing is recorded.

Lone surrogates cannot reach a form view: Django decodes form bodies with
replacement characters. mgeplatform.inputs refuses them where they can
arrive (websocket frames), see tests/interviews/test_websocket_input.py."""

from html import unescape

import pytest
from django.test import Client

from graph import stories
from graph.models import StoryAssignment, WisdomVote
from interviews.models import Interview
from studies.models import ConsentRecord, Participant, Step
from surveys import services as survey_services
from surveys.defaults import DEDUP_ITEM, FAIRNESS_ITEM
from surveys.models import FollowUpLink, SurveyResponse
from tests.factories import PROLIFIC, at_step, enter, finished_participant, full_answers, move_to, parent_with_card
from values.models import CanonicalApproval
from values.relevance import RelevanceDraw

pytestmark = pytest.mark.django_db

NUL = "I think\x00 so"
NOT_IDS = ["²", "١", "1\x00", "9" * 40, "-1", " 3"]


def _page(response):
    return unescape(response.content.decode())


def test_consent_with_junk_is_refused_and_nothing_is_recorded(study):
    client = Client()
    enter(client, study, **PROLIFIC)
    doc = study.consent_documents.get()
    for data in (
        {"choice": "accept\x00", "consent_hash": doc.content_hash},
        {"choice": "accept", "consent_hash": doc.content_hash + "\x00"},
    ):
        response = client.post(f"/s/{study.slug}/consent/", data)
        assert response.status_code == 400 and "choose again" in _page(response)
    assert not ConsentRecord.objects.exists()
    assert Participant.objects.get().current_step == Step.CONSENT


def test_scenario_choice_that_is_not_an_id_is_refused(study):
    participant, client = at_step(study, "chooser", step=Step.SCENARIO)
    for raw in NOT_IDS:
        response = client.post(f"/s/{study.slug}/scenario/", {"scenario": raw})
        assert response.status_code == 400 and "choose one of the questions" in _page(response), raw
    assert not Interview.objects.filter(participant=participant).exists()


def test_relevance_marks_that_are_not_ids_are_refused(graph_study):
    study, values = graph_study
    participant, client = parent_with_card(study, "marker", values[0])
    move_to(participant, Step.RELEVANCE)
    for raw in NOT_IDS:
        response = client.post(f"/s/{study.slug}/relevance/", {"relevant": [raw]})
        assert response.status_code == 400 and "mark them again" in _page(response), raw
    draw = RelevanceDraw.objects.get(participant=participant)
    assert not draw.items.filter(relevant__isnull=False).exists()


@pytest.fixture
def judge(graph_study):
    study, values = graph_study
    stories.generate_stories(study, reverse=True)
    participant, client = parent_with_card(study, "judge", values[1])
    move_to(participant, Step.STORIES)
    client.get(f"/s/{study.slug}/journey/")
    return study, participant, client, StoryAssignment.objects.filter(participant=participant).order_by("position")[0]


def test_vote_reason_with_a_nul_is_refused_and_the_words_come_back(judge):
    study, participant, client, assignment = judge
    url = f"/s/{study.slug}/stories/vote/"
    response = client.post(url, {"assignment": assignment.pk, "answer": "yes", "reason": NUL})
    page = _page(response)
    assert response.status_code == 400
    assert "cannot be saved" in page and ">I think so</textarea>" in page  # their words, minus the NUL
    long_reason = "because " * 130  # over 1,000 characters
    response = client.post(url, {"assignment": assignment.pk, "answer": "no", "reason": long_reason})
    assert response.status_code == 400 and "under 1000 characters" in _page(response)
    assert long_reason.strip() in _page(response)  # kept whole, to shorten
    for raw in NOT_IDS:
        response = client.post(url, {"assignment": raw, "answer": "yes", "reason": "fine"})
        assert response.status_code == 400 and "could not be found" in _page(response), raw
        assert ">fine</textarea>" in _page(response)
    response = client.post(url, {"assignment": assignment.pk, "answer": "yes\x00", "reason": "fine"})
    assert response.status_code == 400 and "yes, no or not sure" in _page(response)
    assert not WisdomVote.objects.exists()
    assert client.post(url, {"assignment": assignment.pk, "answer": "yes", "reason": "I think so"}).status_code == 302
    assert WisdomVote.objects.get().reason == "I think so"


def test_survey_answers_and_bank_that_are_junk_are_refused(study):
    participant, client = at_step(study, "surveyed", step=Step.SURVEY)
    url = f"/s/{study.slug}/survey/"
    response = client.post(url, full_answers(clarify="4\x00"))
    assert response.status_code == 400 and "not understood" in _page(response)
    for raw in NOT_IDS:  # a bank id that is not one: the current bank is answered
        response = client.post(url, {**full_answers(clarify="4\x00"), "bank": raw})
        assert response.status_code == 400, raw
    assert not SurveyResponse.objects.exists()
    assert Participant.objects.get(pk=participant.pk).current_step == Step.SURVEY


def test_withdrawal_reason_that_cannot_be_stored_or_is_too_long_is_refused_and_kept(study):
    participant, client = at_step(study, "leaver", step=Step.INTERVIEW)
    url = f"/s/{study.slug}/withdraw/"
    response = client.post(url, {"confirm": "yes", "reason": NUL})
    page = _page(response)
    assert response.status_code == 400 and "cannot be saved" in page and ">I think so</textarea>" in page
    long_reason = "x" * 501
    response = client.post(url, {"confirm": "yes", "reason": long_reason})
    assert response.status_code == 400 and "at most 500 characters" in _page(response)
    assert f">{long_reason}</textarea>" in _page(response)
    assert Participant.objects.get(pk=participant.pk).current_step == Step.INTERVIEW
    response = client.post(url, {"confirm": "yes", "reason": "I think so"})
    assert response.status_code == 200
    assert Participant.objects.get(pk=participant.pk).current_step == Step.WITHDRAWN


def test_approval_answer_with_a_nul_is_refused(study):
    from interviews import services as chat
    from tests.factories import canonical_value
    from values.models import ValuesCard

    participant, client = at_step(study, "approver", step=Step.INTERVIEW)
    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
    value = canonical_value(study, "Shared")
    card = ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Mine",
        description="d",
        policies=["P"],
        source="articulator",
        submitted=True,
        canonical=value,
    )
    assert card.canonical == value  # worded by someone else: the participant is asked about it
    for data in ({"canonical": f"{value.pk}\x00", "answer": "well"}, {"canonical": value.pk, "answer": "well\x00"}):
        response = client.post(f"/s/{study.slug}/approval/", data)
        assert response.status_code == 400 and "choose one of the answers" in _page(response)
    assert not CanonicalApproval.objects.exists()


def test_follow_up_answers_with_a_nul_are_refused(study):
    participant = finished_participant(study, "returning")[0]
    survey_services.issue_follow_up_links(study, days_valid=30)
    link = FollowUpLink.objects.get(participant=participant)
    response = Client().post(f"/f/{link.token}/", {DEDUP_ITEM[0]: "well\x00", FAIRNESS_ITEM[0]: "yes\x00"})
    assert response.status_code == 400
    assert not SurveyResponse.objects.filter(participant=participant).exists()
