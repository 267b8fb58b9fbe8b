"""The interviewer and the card writer speak the participant's language
(issue 27): the prompts carry it, the offline script answers in Spanish, the
card is written in Spanish and, once submitted, rendered in the study's pivot
language by a background job recorded as a values.translate call."""

import pytest

from mgeplatform.models import LLMCall
from studies import services as journey
from studies.models import Participant, Step
from tests.factories import PROLIFIC, enter, run_interview, run_jobs_until_idle
from values.models import ValuesCard

SPANISH_ANSWERS = [
    "Creo que cada familia debe decidir con calma, sin que nadie le meta prisa.",
    "Me importa que la persona se sienta escuchada antes de tomar una decisión difícil.",
    "Cuando mi hija eligió su escuela, la dejamos pensar a su propio ritmo y hablamos mucho.",
    "Miraba si ella tenía la información clara y si sentía que la decisión era suya.",
]


def participant_in(study, language, pid):
    """A consented participant who entered the study link in `language`."""
    from django.test import Client

    client = Client()
    enter(client, study, PROLIFIC_PID=pid, STUDY_ID=PROLIFIC["STUDY_ID"], SESSION_ID=f"s-{pid}", lang=language)
    participant = Participant.objects.get(prolific_identity__prolific_pid=pid)
    journey.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    participant.refresh_from_db()
    return participant


@pytest.fixture
def bilingual_study(db):
    study, _ = journey.seed_case_study()
    study.languages = ["en", "es"]
    study.include_scripted_cards = True
    study.save()
    return study


def test_a_spanish_participant_hears_the_interviewer_in_spanish_and_gets_a_spanish_card(bilingual_study):
    participant = participant_in(bilingual_study, "es", "es-1")
    assert participant.language == "es"
    interview, events = run_interview(
        participant, bilingual_study.scenarios.get(key="parenting"), answers=SPANISH_ANSWERS
    )
    replies = [e["message"]["content"] for e in events if e["type"] == "message_complete"]
    assert replies and all(r for r in replies)
    assert any("Gracias" in r for r in replies)
    assert not any("Thank you" in r or "pay attention" in r for r in replies)
    # The prompts say which language, and their version moved with it (so the recorded hash differs).
    call = LLMCall.objects.filter(purpose="interview.reply", participant=participant.pk).first()
    assert call.prompt_name == "interviewer" and call.prompt_version == "2"
    assert "Spanish (BCP-47 code es)" in call.request_system
    articulated = LLMCall.objects.get(purpose="interview.articulate", participant=participant.pk)
    assert articulated.prompt_version == "2" and "Spanish (BCP-47 code es)" in articulated.request_system

    card = interview.cards.order_by("-revision").first()
    assert card.submitted and (card.language, card.pivot_language) == ("es", "en")
    assert card.policies[0].startswith("LO QUE la persona dijo que importa")
    assert "escuchada" in " ".join(card.policies)
    assert "The scripted interviewer" not in card.description
    # Not rendered yet: the job runs after the submission commits (this test's transaction never does).
    assert card.translation in ("", ValuesCard.Translation.PENDING)


def test_an_english_participant_is_interviewed_in_english_and_their_card_needs_no_rendering(bilingual_study):
    participant = participant_in(bilingual_study, "en", "en-1")
    interview, events = run_interview(participant, bilingual_study.scenarios.get(key="parenting"))
    replies = [e["message"]["content"] for e in events if e["type"] == "message_complete"]
    assert any("Thank you" in r for r in replies)
    assert "English (BCP-47 code en)" in LLMCall.objects.filter(purpose="interview.reply").first().request_system
    card = interview.cards.order_by("-revision").first()
    assert card.language == "en" and not card.needs_translation and card.translation == ""


def test_a_language_with_no_scripted_phrasings_falls_back_to_english_with_the_instruction_recorded(db):
    study, _ = journey.seed_case_study()
    study.languages = ["en", "ar"]
    study.save()
    participant = participant_in(study, "ar", "ar-1")
    _, events = run_interview(participant, study.scenarios.get(key="parenting"), submit=False)
    replies = [e["message"]["content"] for e in events if e["type"] == "message_complete"]
    assert any("Thank you" in r for r in replies)
    assert "Arabic (BCP-47 code ar)" in LLMCall.objects.filter(purpose="interview.reply").first().request_system


@pytest.mark.django_db(transaction=True)
def test_the_submitted_spanish_card_is_rendered_in_english_by_a_job_recorded_as_values_translate():
    study, _ = journey.seed_case_study()
    study.languages = ["en", "es"]
    study.include_scripted_cards = True
    study.save()
    participant = participant_in(study, "es", "es-job")
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"), answers=SPANISH_ANSWERS)
    card = interview.cards.get(submitted=True)
    assert card.translation == ValuesCard.Translation.PENDING

    run_jobs_until_idle()

    card.refresh_from_db()
    assert card.translation == ValuesCard.Translation.DONE
    assert card.pivot_policies[0].startswith("WHAT the person said matters")
    assert "heard" in " ".join(card.pivot_policies)  # "escuchada", by the offline glossary
    assert len(card.pivot_policies) == len(card.policies)
    call = card.pivot_llm_call
    assert call.purpose == "values.translate" and call.prompt_name == "translator" and call.prompt_version == "1"
    assert call.participant == participant.pk and len(call.prompt_hash) == 64
    assert call.model and call.input_tokens > 0 and call.latency_ms >= 0
    participant.refresh_from_db()
    assert participant.current_step != Step.INTERVIEW


def test_a_spanish_participant_renames_the_card_and_approves_it_in_spanish(bilingual_study):
    """ "llámala ..." and "sí" are understood; the interviewer submits, and the in-chat match renders the
    card in English first (no job needed)."""
    participant = participant_in(bilingual_study, "es", "es-approve")
    interview, events = run_interview(
        participant,
        bilingual_study.scenarios.get(key="parenting"),
        answers=[*SPANISH_ANSWERS, "Llámala Escuchar con calma", "Sí"],
        submit=False,
    )
    replies = [e["message"]["content"] for e in events if e["type"] == "message_complete"]
    assert "Gracias, voy a cambiar la tarjeta." in replies
    assert "Estupendo, env\u00edo tu tarjeta ahora." in replies
    interview.refresh_from_db()
    card = interview.cards.get(submitted=True)
    assert card.title == "Escuchar con calma" and card.revision == 2
    assert card.translation == ValuesCard.Translation.DONE and card.pivot_title
    assert card.pivot_llm_call.purpose == "values.translate"
    assert card.dedup_decisions.filter(kind="in_chat").exists()
