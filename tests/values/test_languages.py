"""Deduplication across languages (issue 27): a card written in another
language than the study's pivot is embedded and compared by its pivot
rendering; a canonical value keeps a rendering in each study language, and a
participant is shown values in their own; the rendering goes with the
participant on withdrawal; a translation that fails leaves the card usable."""

import pytest
from django.test import Client
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from mgeplatform.llm import gateway
from mgeplatform.llm.providers.offline import OfflineProvider
from mgeplatform.llm.types import Done, TextDelta, Usage
from mgeplatform.models import LLMCall
from studies import services as journey
from studies.models import Participant, Step
from tests.factories import PROLIFIC, enter, make_values, move_to, run_jobs_until_idle
from tests.journey.test_erasure_by_schema import columns_holding
from values import services, translation
from values.models import CanonicalValue, DeduplicationDecision, ValueRendering, ValuesCard

ENGLISH = [
    "MOMENTS when the child feels heard",
    "OPPORTUNITIES to follow the passions of the child",
    "QUESTIONS the child asks on their own",
]
SPANISH = [
    "MOMENTOS cuando el niño se siente escuchado",
    "OPORTUNIDADES para seguir las pasiones del niño",
    "PREGUNTAS que el niño plantea por su cuenta",
]


def participant_in(study, language, pid):
    client = Client()
    enter(client, study, PROLIFIC_PID=pid, STUDY_ID=PROLIFIC["STUDY_ID"], SESSION_ID=f"s-{pid}", lang=language)
    participant = Participant.objects.get(prolific_identity__prolific_pid=pid)
    journey.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    participant.refresh_from_db()
    return participant, client


def submitted_card(study, participant, title, description, policies):
    """A card submitted through the interview services, in the participant's language."""
    from interviews import services as chat

    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
    card = chat.cards._save_card(
        interview, title=title, description=description, policies=policies, source=ValuesCard.Source.ARTICULATOR
    )
    ValuesCard.objects.filter(pk=card.pk).update(submitted=True, submitted_at=timezone.now())
    card.refresh_from_db()
    return card


def bilingual(study):
    study.languages = ["en", "es"]
    study.save()
    return study


@pytest.fixture
def study(db):
    study, _ = journey.seed_case_study()
    return bilingual(study)


def test_two_cards_saying_the_same_thing_in_english_and_spanish_dedup_to_one_value(study):
    english, _ = participant_in(study, "en", "dedup-en")
    spanish, _ = participant_in(study, "es", "dedup-es")
    first = submitted_card(study, english, "Heard Curiosity", "The assistant follows the child's lead.", ENGLISH)
    services.run_batch_dedup(study)
    value = CanonicalValue.objects.get(representative_card=first)

    card = submitted_card(study, spanish, "Curiosidad escuchada", "El asistente debería seguir al niño.", SPANISH)
    assert card.language == "es" and card.needs_translation
    run = services.run_batch_dedup(study)

    card.refresh_from_db()
    assert run.counts["joined"] == 1 and card.canonical == value
    assert CanonicalValue.objects.filter(study=study).count() == 1
    assert card.translation == ValuesCard.Translation.DONE and card.pivot_policies[0] == ENGLISH[0]
    assert card.pivot_llm_call.purpose == "values.translate" and card.pivot_llm_call.participant == spanish.pk
    decision = DeduplicationDecision.objects.get(card=card)
    assert decision.outcome == DeduplicationDecision.Outcome.MATCHED
    assert "MOMENTS when the child feels heard" in decision.llm_call.request_messages[0]["content"]
    # Compared in its own words, the Spanish card would not have come close.
    from values import embeddings

    assert embeddings.embedded_text(card) == "\n".join(card.pivot_policies) != "\n".join(SPANISH)


def test_a_value_made_from_a_spanish_card_is_worded_in_the_pivot_and_keeps_the_spanish_words(study):
    spanish, _ = participant_in(study, "es", "maker-es")
    card = submitted_card(study, spanish, "Curiosidad escuchada", "El asistente debería seguir al niño.", SPANISH)
    services.run_batch_dedup(study)
    value = CanonicalValue.objects.get(representative_card=card)
    assert value.policies[0] == ENGLISH[0] and value.title != card.title
    rendering = ValueRendering.objects.get(canonical=value, language="es")
    assert rendering.source == ValueRendering.Source.CARD and rendering.policies == SPANISH
    from values.selectors import value_in

    assert value_in(value, "es").policies == SPANISH
    assert value_in(value, "en").policies == value.policies
    assert value_in(value, "ar").title == value.title  # no rendering: the pivot wording


def test_a_spanish_participant_sees_the_values_in_spanish_in_the_relevance_step(study):
    values = make_values(study)
    counts = translation.render_missing_values(study)
    assert counts == {"rendered": len(values), "failed": 0}
    assert translation.render_missing_values(study)["rendered"] == 0  # made once
    call = LLMCall.objects.filter(purpose="values.translate").first()
    assert call.prompt_name == "translator" and call.content_of  # the wording's author

    shown = {}
    for language in ("es", "en"):
        participant, client = participant_in(study, language, f"judge-{language}")
        submitted_card(study, participant, "Mine", "An assistant that listens.", ["MOMENTS when I am heard"])
        move_to(participant, Step.RELEVANCE)
        participant.refresh_from_db()
        assert participant.current_step == Step.RELEVANCE
        shown[language] = client.get(f"/s/{study.slug}/journey/").content.decode()
    drawn = values[0]
    spanish = ValueRendering.objects.get(canonical=drawn, language="es")
    assert spanish.title == "Valor 0" and spanish.title != drawn.title
    assert "Valor 0" in shown["es"] and "Value 0" not in shown["es"]
    assert "Value 0" in shown["en"] and "Valor 0" not in shown["en"]


def test_a_value_worded_again_is_rendered_again(study):
    values = make_values(study, policies=[ENGLISH])
    translation.render_missing_values(study)
    value = values[0]
    value.title = "Curiosity that is heard"
    value.save()
    from values.selectors import value_in

    assert value_in(value, "es").title == value.title  # the old rendering is stale, not shown
    assert translation.render_missing_values(study)["rendered"] == 1
    assert value_in(value, "es").title != value.title


MARKER = "Zephyrquill"


def test_the_rendering_is_withdrawn_with_the_participant(study):
    from journey import withdrawal
    from studies.models import Study

    study.withdrawal_policy = Study.WithdrawalPolicy.DELETE_CONTENT
    study.save()
    spanish, _ = participant_in(study, "es", "leaver-es")
    card = submitted_card(
        study,
        spanish,
        f"Curiosidad {MARKER}",
        "El asistente debería seguir al niño.",
        [*SPANISH, f"SEÑALES de {MARKER}"],
    )
    services.run_batch_dedup(study)
    translation.render_missing_values(study)
    card.refresh_from_db()
    assert MARKER in card.pivot_title and ValueRendering.objects.filter(card=card).exists()
    before = columns_holding(MARKER)
    assert {"values_valuescard.pivot_title", "values_valuerendering.title", "values_valuerenderingevent.title"} <= set(
        before
    )

    assert withdrawal.withdraw(spanish)

    assert columns_holding(MARKER) == {}
    assert not ValueRendering.objects.filter(canonical__study=study).exclude(canonical__archived_at=None).exists()
    call = LLMCall.objects.filter(purpose="values.translate", participant=None).first()
    assert call is not None and call.response_text.startswith("[redacted")


class GarbledTranslator(OfflineProvider):
    """The offline provider, except that the translator answers garbage."""

    async def stream_chat(self, request, *, timeout):
        if request.role_hint != "translator":
            async for event in super().stream_chat(request, timeout=timeout):
                yield event
            return
        yield TextDelta("Sure! Here is the card, more or less: <<title>>")
        yield Done(usage=Usage(input_tokens=10, output_tokens=10), stop_reason="end_turn")


@pytest.mark.django_db(transaction=True)
def test_a_translation_that_comes_back_garbled_leaves_the_card_usable_and_the_job_failed_not_lost():
    from interviews import services as chat

    study, _ = journey.seed_case_study()
    bilingual(study)
    spanish, _ = participant_in(study, "es", "garbled-es")
    interview = chat.choose_scenario(participant=spanish, scenario=study.scenarios.get(key="parenting"))
    chat.cards._save_card(
        interview,
        title="Curiosidad escuchada",
        description="El asistente debería seguir al niño.",
        policies=SPANISH,
        source=ValuesCard.Source.PARTICIPANT_EDIT,
    )
    with gateway.override_provider("offline", lambda route: GarbledTranslator(delay=0)):
        card = chat.submit_card(interview_id=interview.pk)
        run_jobs_until_idle()
        card.refresh_from_db()
        spanish.refresh_from_db()
        # The participant moved on with their card as they wrote it.
        assert card.submitted and card.policies == SPANISH and spanish.current_step != Step.INTERVIEW
        assert card.translation == ValuesCard.Translation.FAILED and card.translation_error
        job = ProcrastinateJob.objects.filter(task_name="values.translate_card", args={"card_id": card.pk}).get()
        assert job.status == "failed" and job.attempts == 3
        calls = LLMCall.objects.filter(purpose="values.translate", participant=spanish.pk)
        # At least three: the worker may also run the periodic deduplication, which tries the card again.
        assert calls.count() >= 3 and not any(c.ok for c in calls) and all(c.error for c in calls)
        # The batch run leaves it for later rather than compare it in Spanish.
        run = services.run_batch_dedup(study)
        assert run.counts["failed"] == 1 and card.dedup_decisions.filter(outcome="error").exists()
        assert not card.dedup_decisions.exclude(outcome="error").exists()
    # With the model answering again, the next run renders it and gives it a value.
    services.run_batch_dedup(study)
    card.refresh_from_db()
    assert card.translation == ValuesCard.Translation.DONE and card.canonical is not None


def test_coordinators_see_a_card_and_its_pivot_rendering_side_by_side(study, coordinator, auditor):
    spanish, _ = participant_in(study, "es", "admin-es")
    card = submitted_card(study, spanish, "Curiosidad escuchada", "El asistente debería seguir al niño.", SPANISH)
    services.run_batch_dedup(study)
    value = CanonicalValue.objects.get(representative_card=card)
    for user in (coordinator, auditor):
        client = Client()
        client.force_login(user)
        page = client.get(f"/admin/values/valuescard/{card.pk}/change/").content.decode()
        assert "as written (es)" in page and "rendered (en)" in page
        assert SPANISH[0] in page and ENGLISH[0] in page
        page = client.get(f"/admin/values/canonicalvalue/{value.pk}/change/").content.decode()
        assert SPANISH[0] in page and "The representative card" in page


def test_the_in_chat_match_question_shows_the_value_in_the_participants_language(study):
    english, _ = participant_in(study, "en", "ask-en")
    first = submitted_card(study, english, "Heard Curiosity", "The assistant follows the child's lead.", ENGLISH)
    services.run_batch_dedup(study)
    translation.render_missing_values(study)
    value = CanonicalValue.objects.get(representative_card=first)
    spanish_words = ValueRendering.objects.get(canonical=value, language="es")
    spanish, client = participant_in(study, "es", "ask-es")
    card = submitted_card(study, spanish, "Curiosidad escuchada", "El asistente debería seguir al niño.", SPANISH)
    ValuesCard.objects.filter(pk=card.pk).update(canonical=value)
    move_to(spanish, Step.RELEVANCE)
    page = client.get(f"/s/{study.slug}/journey/").content.decode()
    assert spanish_words.policies[0] in page and ENGLISH[0] not in page
    assert f'name="canonical" value="{value.pk}"' in page


def test_a_spanish_participant_judges_stories_between_values_shown_in_spanish(db):
    from graph import stories
    from graph.models import StoryAssignment
    from tests.factories import parent_with_card

    study, _ = journey.seed_case_study()
    bilingual(study)
    values = make_values(study)
    translation.render_missing_values(study)
    stories.generate_stories(study, reverse=True)
    participant, client = parent_with_card(study, "judge-es", values[1])
    Participant.objects.filter(pk=participant.pk).update(language="es")
    move_to(participant, Step.STORIES)
    page = client.get(f"/s/{study.slug}/journey/").content.decode()
    story = StoryAssignment.objects.filter(participant=participant).order_by("position").first().story
    spanish = ValueRendering.objects.get(canonical=story.from_value, language="es")
    assert spanish.title in page and f"<h2>{story.from_value.title}</h2>" not in page
