"""Cards written by the offline (scripted) interviewer are marked scripted and,
unless the study includes them, stay out of its canonical values and its
transition stories: a pilot's stand-in cards ("Dunno") never become values
that real participants judge."""

import pytest

from graph import stories
from graph.models import TransitionStory
from interviews import services as chat
from journey import simulation
from studies.models import Study
from tests.factories import POLICIES, consented_participant, run_interview
from values import embeddings, services
from values.models import CanonicalValue, DeduplicationDecision, ValuesCard

pytestmark = pytest.mark.django_db

ANSWERS = [
    "I think kids need some rules about screens.",
    "What I really care about is my son noticing when something makes him curious.",
    "When he was eight he took apart an old clock and asked me how every piece worked.",
    "I let him keep going instead of telling him to tidy up, and he learned so much from it.",
]


def _include(study, on=True):
    Study.objects.filter(pk=study.pk).update(include_scripted_cards=on)
    study.refresh_from_db()


def _pilot_card(study, pid):
    """A real participant's submitted card, written by the offline interviewer."""
    participant, _ = consented_participant(study, pid)
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"), answers=ANSWERS)
    return interview.cards.get(submitted=True)


def test_the_offline_interviewers_cards_are_marked_scripted_and_their_edits_too(study):
    card = _pilot_card(study, "pid-pilot-1")
    assert card.scripted and card.llm_call.provider == "offline"
    assert card.as_dict()["scripted"] is True


def test_a_participants_edit_of_a_scripted_card_stays_scripted(study):
    participant, _ = consented_participant(study, "pid-pilot-edit")
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"), answers=ANSWERS, submit=False)
    edited = chat.edit_card(
        interview_id=interview.pk,
        title="Curiosity First",
        description="Following curiosity.",
        policies=["MOMENTS when a child asks how something works"],
    )
    assert edited.revision > 1 and edited.scripted


def test_scripted_cards_are_left_out_of_batch_deduplication_by_default(study):
    card = _pilot_card(study, "pid-pilot-2")
    run = services.run_batch_dedup(study)
    card.refresh_from_db()
    assert card.canonical is None
    assert not CanonicalValue.objects.filter(study=study).exists()
    assert run.counts["cards"] == 0
    assert not DeduplicationDecision.objects.filter(card__interview__participant__study=study).exists()


def test_scripted_cards_become_values_when_the_study_includes_them(study):
    card = _pilot_card(study, "pid-pilot-3")
    _include(study)
    run = services.run_batch_dedup(study)
    card.refresh_from_db()
    assert run.counts["cards"] == 1 and card.canonical is not None
    assert card.canonical.title == card.title


def test_a_scripted_card_does_not_join_an_existing_value_in_chat_unless_included(study):
    first = _pilot_card(study, "pid-pilot-4")
    _include(study)
    services.run_batch_dedup(study)  # the first card is a value now
    first.refresh_from_db()
    value = first.canonical
    _include(study, False)
    # The same answers again: the in-chat match (run before a card is submitted) leaves it alone.
    second = _pilot_card(study, "pid-pilot-5")
    assert services.match_card_in_chat(second.pk) is None
    second.refresh_from_db()
    assert second.canonical is None and not second.dedup_decisions.exists()
    _include(study)
    decision = services.match_card_in_chat(second.pk)
    second.refresh_from_db()
    assert decision.outcome == "matched" and second.canonical == value


def test_seeding_leaves_scripted_cards_out_unless_included(study):
    _pilot_card(study, "pid-seed-1")
    _pilot_card(study, "pid-seed-2")
    assert services.seed_canonical_values(study)["clusters"] == 0
    _include(study)
    result = services.seed_canonical_values(study)
    assert result["clusters"] == 1 and result["clustered_cards"] == 2


def _scripted_values(study):
    """Canonical values known only from scripted cards (matched while the study included them)."""
    scenario = study.scenarios.get(key="parenting")
    values = []
    for i, policies in enumerate(POLICIES[:3]):
        author, _ = consented_participant(study, f"scripted-author-{i}")
        interview = chat.choose_scenario(participant=author, scenario=scenario)
        value = CanonicalValue.objects.create(
            study=study, title=f"Value {i}", description=f"Value {i}.", policies=policies, origin="batch"
        )
        ValuesCard.objects.create(
            interview=interview,
            revision=1,
            title=f"Value {i}",
            description=f"Value {i}.",
            policies=policies,
            source="articulator",
            submitted=True,
            scripted=True,
            canonical=value,
        )
        values.append(value)
    embeddings.embed_objects(values, study=study)
    return values


def test_stories_are_not_written_for_values_known_only_from_scripted_cards(study):
    _scripted_values(study)
    run = stories.generate_stories(study)
    assert run.status == "finished" and run.counts["stories"] == 0
    assert not TransitionStory.objects.filter(study=study).exists()
    _include(study)
    run = stories.generate_stories(study)
    assert run.counts["stories"] > 0
    assert TransitionStory.objects.filter(study=study).count() == run.counts["stories"]


def test_simulated_participants_cards_count_without_the_setting(study):
    """Simulations are scripted on purpose: their personas' cards make the values and the graph."""
    assert not study.include_scripted_cards
    simulation.simulate(study, 5, seed=1)
    cards = ValuesCard.objects.filter(interview__participant__study=study, submitted=True)
    assert cards.exists() and all(c.scripted for c in cards)
    assert CanonicalValue.objects.filter(study=study).exists()
    assert not cards.filter(canonical__isnull=True).exists()


def test_the_demo_study_includes_scripted_cards():
    assert simulation.demo_study().include_scripted_cards
