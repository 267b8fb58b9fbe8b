"""Dialogue grading (paper A.4) and the admin views of interviews and LLM calls."""

import pytest
from django.core.management import call_command
from django.test import Client

from interviews.models import DialogueGrade
from mgeplatform.llm.providers import offline
from mgeplatform.models import LLMCall
from tests.factories import consented_participant, run_interview

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_interviews():
    from studies import services

    study, _ = services.seed_case_study()
    scenario = study.scenarios.get(key="parenting")
    first, _ = run_interview(consented_participant(study, "p1")[0], scenario)
    second, _ = run_interview(consented_participant(study, "p2")[0], scenario)
    return study, first, second


def test_offline_interview_through_services_yields_a_submitted_card(two_interviews):
    study, first, _ = two_interviews
    card = first.cards.get(submitted=True)
    assert card.source == "articulator" and len(card.policies) >= 2
    assert first.status == "submitted"
    assert first.prompt_versions["interviewer"]["version"] == "2"


def test_grade_dialogues_grades_once_and_prints_the_table(two_interviews, capsys):
    study, first, _ = two_interviews
    call_command("grade_dialogues", study=study.slug)
    out = capsys.readouterr().out
    assert "Graded 2 interviews (0 failed)" in out
    assert "one_question_at_a_time" in out and "interviewer v2" in out
    grade = DialogueGrade.objects.get(interview=first)
    assert set(grade.scores) >= {"personal_story", "no_leading", "clear_specific_criteria"}
    assert 1 <= grade.mean_score <= 5
    assert grade.llm_call.prompt_name == "dialogue_grader"
    assert grade.scores["personal_story"]["score"] == 4  # the participant told a story from college
    call_command("grade_dialogues", study=study.slug)
    assert "Graded 0 interviews" in capsys.readouterr().out
    assert DialogueGrade.objects.count() == 2


def test_garbage_from_the_grader_is_recorded_not_stored(two_interviews, capsys):
    study, _, _ = two_interviews
    original = offline._SCRIPTS["dialogue_grader"]
    offline.register_script("dialogue_grader", lambda request: ("I think it went well!", []))
    try:
        call_command("grade_dialogues", study=study.slug)
    finally:
        offline.register_script("dialogue_grader", original)
    assert "Graded 0 interviews (2 failed)" in capsys.readouterr().out
    assert DialogueGrade.objects.count() == 0
    bad = LLMCall.objects.filter(purpose="interview.grade", ok=False)
    assert bad.count() == 2 and bad.first().response_text == "I think it went well!"
    assert "bad output" in bad.first().error


def test_llm_call_admin_shows_totals_per_study_and_participant(two_interviews, auditor):
    study, first, _ = two_interviews
    client = Client()
    client.post("/accounts/login/", {"login": auditor.email, "password": "x-audit-pass-1"})
    page = client.get("/admin/mgeplatform/llmcall/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Totals for these calls" in html and f"study {study.slug}" in html
    assert str(first.participant_id) in html
    filtered = client.get(f"/admin/mgeplatform/llmcall/?participant={first.participant_id}")
    assert (
        filtered.context_data["totals"]["overall"]["calls"]
        == LLMCall.objects.filter(participant=first.participant_id).count()
    )
    # The study is a plain id on the call (no foreign key up to studies): named, linked and filtered by it.
    other = LLMCall.objects.create(purpose="other.call", study_id=None, provider="offline", model="m")
    by_study = client.get(f"/admin/mgeplatform/llmcall/?study_id={study.pk}")
    assert by_study.context_data["totals"]["overall"]["calls"] == LLMCall.objects.filter(study_id=study.pk).count()
    assert other not in by_study.context_data["cl"].queryset
    studies = next(f for f in by_study.context_data["cl"].filter_specs if f.title == "study")
    assert (study.pk, study.slug) in studies.lookup_choices and f">{study.slug}</a>" in by_study.content.decode()
    call = LLMCall.objects.filter(study_id=study.pk).first()
    detail = client.get(f"/admin/mgeplatform/llmcall/{call.pk}/change/").content.decode()
    assert f'<a href="/admin/studies/study/{study.pk}/change/">{study.slug}</a>' in detail


def test_a_deleted_study_leaves_its_llm_calls_without_a_study(db):
    """As the foreign key's SET_NULL did, now that the call keeps a plain study id."""
    from studies.models import Study

    study = Study.objects.create(slug="short-lived", title="Short-lived")
    call = LLMCall.objects.create(purpose="p", study_id=study.pk, provider="offline", model="m")
    study.delete()
    call.refresh_from_db()
    assert call.study_id is None


def test_interview_admin_shows_transcript_cards_and_prompt_versions(two_interviews, auditor):
    _, first, _ = two_interviews
    client = Client()
    client.post("/accounts/login/", {"login": auditor.email, "password": "x-audit-pass-1"})
    html = client.get(f"/admin/interviews/interview/{first.pk}/change/").content.decode()
    assert "When I thought I was pregnant in college" in html
    assert first.cards.get(submitted=True).title in html
    assert "interviewer" in html and first.prompt_versions["interviewer"]["hash"] in html
