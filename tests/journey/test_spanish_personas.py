"""Spanish-speaking scripted participants (issue 27): a simulated study in English and Spanish
holds Spanish interviews end to end through the offline provider, and its Spanish cards, rendered
into the pivot, merge with the English cards that say the same thing into one graph."""

from collections import defaultdict

import pytest

from interviews.models import ChatMessage
from journey import personas, simulation
from studies import services as journey
from studies.models import Participant, Scenario
from values.models import CanonicalValue, ValueRendering, ValuesCard
from values.selectors import value_in


def test_ten_spanish_personas_each_mean_a_card_with_its_english_rendering():
    spanish = personas.all_personas("es")
    assert len(spanish) >= 10 and personas.languages() == ["en", "es"]
    english_titles = {p.card.title for p in personas.all_personas()}
    for persona in spanish:
        assert persona.language == "es" and persona.card.title not in english_titles
        assert personas.english_card(persona).title in english_titles
    # An English-only scenario lookup never hands out a Spanish persona.
    assert all(p.language == "en" for p in personas.for_scenario("parenting"))


@pytest.fixture
def bilingual(db):
    study, _ = journey.seed_case_study(slug="bilingue", study_languages=["es"])
    Scenario.objects.filter(study=study).exclude(key="parenting").update(active=False)
    return study


def test_a_simulated_study_in_english_and_spanish_merges_values_across_the_languages(bilingual):
    study = bilingual
    assert study.languages == ["en", "es"]
    simulation.simulate(study, 14, seed=3)
    spanish = {p.card.title: p for p in personas.all_personas("es")}

    cards = list(ValuesCard.objects.filter(interview__participant__study=study, submitted=True))
    in_spanish = [c for c in cards if c.language == "es"]
    assert in_spanish and len(in_spanish) < len(cards)
    for card in in_spanish:
        # The persona's own Spanish card, interviewed in Spanish, with the English rendering beside it.
        persona = spanish[card.title]
        assert card.interview.participant.language == "es" and card.pivot_language == "en"
        assert card.translation == "done" and card.pivot_title == personas.english_card(persona).title
        said = ChatMessage.objects.filter(interview=card.interview, role="assistant").values_list("content", flat=True)
        assert any("Gracias" in text for text in said)

    # One graph: some canonical value holds cards written in both languages, worded in the pivot,
    # and a Spanish participant is shown it in Spanish.
    languages_of = defaultdict(set)
    for card in cards:
        if card.canonical_id:
            languages_of[card.canonical_id].add(card.language)
    shared = [pk for pk, langs in languages_of.items() if langs == {"en", "es"}]
    assert shared
    value = CanonicalValue.objects.get(pk=shared[0])
    assert value.title in {p.card.title for p in personas.all_personas()}
    rendering = ValueRendering.objects.get(canonical=value, language="es")
    # In the words of the Spanish persona whose card means the same (the offline translator is told them).
    assert rendering.title in spanish and personas.english_card(spanish[rendering.title]).title == value.title
    assert value_in(value, "es").title == rendering.title
    assert value_in(value, "en").title == value.title
    assert Participant.objects.filter(study=study, language="es").count() == len(
        {c.interview.participant_id for c in in_spanish}
    )
