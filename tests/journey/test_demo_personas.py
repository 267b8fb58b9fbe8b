"""The demo's scripted participants (journey/personas/*.toml) and the
offline story writer that turns their cards into transition stories."""

import itertools
import json
import re

import pytest

from graph import offline as graph_offline
from interviews import offline as interview_offline
from journey import personas
from journey.personas import ScenarioPersonas
from mgeplatform.llm.types import ChatRequest, Message
from studies import case_study


def _words(policies):
    return {w for w in re.findall(r"[a-z']+", " ".join(policies).lower()) if len(w) > 3}


def test_personas_cover_every_scenario_with_distinct_voices_and_values():
    data = personas.load()
    assert set(data) == {key for key, _, _ in case_study.SCENARIOS}
    everyone = personas.all_personas()
    assert len(everyone) >= 40
    assert len({p.card.title.lower() for p in everyone}) == len(everyone)
    # Different ways of answering in every scenario, and someone who changes their mind.
    for scenario in data.values():
        styles = {p.style for p in scenario.personas}
        assert styles == {"slogan", "story", "short", "long", "changes-mind"}
        assert len({p.family for p in scenario.personas}) >= 6
    assert sum(p.style == "changes-mind" for p in everyone) >= 3
    assert any(p.after_card for p in everyone)  # some ask for changes once they see the card
    # No two personas of a scenario are so alike that deduplication would merge them
    # (values/offline.py merges at 60% of policy words shared).
    for scenario in data.values():
        for a, b in itertools.combinations(scenario.personas, 2):
            wa, wb = _words(a.card.policies), _words(b.card.policies)
            assert len(wa & wb) / len(wa | wb) < 0.3, (a.key, b.key)
    # The abortion question has people with first-hand experience, for the expert rater (Fig. 12).
    assert (
        sum(
            any(m in " ".join(p.answers).lower() for m in ("i was pregnant", "i considered", "i had an abortion"))
            for p in data["abortion"].personas
        )
        >= 2
    )


def test_a_persona_file_is_checked_when_loaded():
    good = {
        "scenario": "x",
        "families": ["a", "b"],
        "contexts": [{"match": "when", "favours": {"a": 0.2}}],
        "personas": [
            {
                "key": k,
                "who": "w",
                "style": "story",
                "family": "a",
                "depth": 0.5,
                "answers": ["1", "2", "3", f"four {k}"],
                "card": {"title": k, "description": "d", "policies": ["ONE x", "TWO y", "THREE z"]},
            }
            for k in ("p1", "p2")
        ],
    }
    ScenarioPersonas.model_validate(good)
    for broken in (
        {"family": "c"},
        {"style": "rant"},
        {"depth": 2},
        {"answers": ["only one"]},
        {"card": {"title": "t", "description": "d", "policies": ["lower case x", "TWO y", "THREE z"]}},
    ):
        bad = json.loads(json.dumps(good))
        bad["personas"][0].update(broken)
        with pytest.raises(ValueError):
            ScenarioPersonas.model_validate(bad)


def test_the_offline_articulator_gives_a_persona_its_card_and_other_transcripts_their_own():
    persona = personas.for_scenario("abortion")[0]
    personas.register_cards()
    transcript = "\n".join(f"Participant: {a}\nInterviewer: Thank you." for a in persona.answers)
    answer, _ = interview_offline.articulator(
        ChatRequest(model="", system="", messages=[Message(role="user", content=transcript)])
    )
    assert json.loads(answer)["card"] == persona.card.model_dump()
    other = (
        "Participant: I care about honest conversations with her family.\n"
        "Participant: When my sister was ill we needed honest conversations and time to think."
    )
    answer, _ = interview_offline.articulator(
        ChatRequest(model="", system="", messages=[Message(role="user", content=other)])
    )
    assert json.loads(answer).get("card", {}).get("title") != persona.card.title


def _pair_request(first, second, context):
    def block(card):
        return f"Title: {card.title}\nDescription: {card.description}\nAttentional policies:\n" + "\n".join(
            f"- {p}" for p in card.policies
        )

    return ChatRequest(
        model="",
        system="",
        messages=[
            Message(
                role="user",
                content=(f"Moral context: {context}\n\nFirst value:\n{block(first)}\n\nSecond value:\n{block(second)}"),
            )
        ],
    )


def test_offline_stories_are_built_from_the_two_cards_and_vary():
    cards = [p.card for p in personas.for_scenario("parenting")]
    contexts = [c for _, cs in graph_offline.QUESTION_CONTEXTS for c in cs][3:6]
    stories = []
    for (a, b), context in zip(itertools.permutations(cards[:4], 2), itertools.cycle(contexts)):
        request = _pair_request(a, b, context)
        reasoning = json.loads(graph_offline.story_reasoning(request)[0])
        # Each of the first card's policies is quoted as it is, with how it changed.
        assert [c["policy"] for c in reasoning["policy_changes"]] == a.policies
        story = json.loads(graph_offline.story_writer(request)[0])["story"]
        assert story.startswith("I used to") and 60 <= len(story.split()) <= 160
        # What they attended to (the first card), what they attend to now (the second card), in the context.
        assert a.policies[0].split(" ", 1)[1].lower() in story.lower()
        assert any(p.split(" ", 1)[1].lower() in story.lower() for p in b.policies)
        assert context in story and "wiser" not in story.lower()
        stories.append(story)
    assert len(set(stories)) == len(stories)
    openings = {" ".join(s.split(" ")[:5]) for s in stories}
    scenes = {next(x for x in s.split(". ") if x.startswith("Then")) for s in stories}
    assert len(openings) >= 3 and len(scenes) >= 3  # not one template


def test_offline_contexts_for_the_case_study_questions_differ_per_question():
    seen = []
    for _, _, prompt in case_study.SCENARIOS:
        answer, _ = graph_offline.moral_contexts(
            ChatRequest(model="", system="", messages=[Message(role="user", content=f"Question: {prompt}")])
        )
        contexts = json.loads(answer)["contexts"]
        assert len(contexts) == 3 and all(c.startswith("When ") for c in contexts)
        seen += contexts
    assert len(set(seen)) == 9
    # Each persona file's context themes match one of its question's contexts.
    for scenario, data in personas.load().items():
        prompt = next(p for k, _, p in case_study.SCENARIOS if k == scenario)
        contexts = json.loads(
            graph_offline.moral_contexts(
                ChatRequest(model="", system="", messages=[Message(role="user", content=f"Question: {prompt}")])
            )[0]
        )["contexts"]
        for theme in data.contexts:
            assert any(theme.match in c.lower() for c in contexts), theme.match


def test_votes_follow_a_hidden_sense_of_wisdom_per_context_with_disagreement():
    import random
    from types import SimpleNamespace

    from journey import simulation

    by_key = {p.key: p for p in personas.for_scenario("parenting")}

    def value(key):
        card = by_key[key].card
        return SimpleNamespace(pk=1, title=card.title, policies=card.policies)

    def context(text):
        return SimpleNamespace(scenario_id=1, scenario=SimpleNamespace(key="parenting"), text=text)

    def yes_share(voter, a, b, text, n=400):
        rng = random.Random(0)
        story = SimpleNamespace(from_value=value(a), to_value=value(b), context=context(text))
        return sum(simulation.judge(by_key[voter], story, rng) == "yes" for _ in range(n)) / n

    unhappy = "When a child seems withdrawn or unhappy"
    authority = "When a parent feels they are losing authority at home"
    # Which value is wiser depends on the context: routines lose to looking beneath the behaviour when
    # a child is unhappy, much less so when the parent is losing authority.
    assert yes_share("family-mediator", "youth-football-coach", "child-psychologist", unhappy) > 0.85
    assert yes_share("family-mediator", "youth-football-coach", "child-psychologist", authority) < 0.7
    assert yes_share("family-mediator", "child-psychologist", "youth-football-coach", unhappy) < 0.1
    # Personas disagree: the strict father, leaning to his own family, is far less sure of the move.
    assert (
        yes_share("strict-father-slogan", "youth-football-coach", "child-psychologist", authority)
        < yes_share("family-mediator", "youth-football-coach", "child-psychologist", authority) - 0.1
    )
