"""Moral contexts and transition stories written by the (offline) model,
and how bad model answers are rejected and recorded (paper 4.4, A.5)."""

import json

import pytest
from django.db import DatabaseError, transaction

from graph import stories
from graph.models import MoralContext, StoryRun, TransitionStory
from mgeplatform.models import LLMCall


def test_contexts_are_generated_once_per_scenario_and_recorded(graph_study):
    study, _ = graph_study
    scenario = study.scenarios.get(key="parenting")
    made = stories.generate_contexts(scenario)
    assert 2 <= len(made) <= 5
    assert all(c.text.startswith("When") and c.origin == MoralContext.Origin.LLM for c in made)
    call = made[0].llm_call
    assert call.prompt_name == "moral_contexts" and call.prompt_version == "1" and len(call.prompt_hash) == 64
    # The same answer again adds nothing: contexts are unique per study.
    assert stories.generate_contexts(scenario) == []
    assert MoralContext.objects.filter(scenario=scenario).count() == len(made)


def test_run_writes_stories_with_their_chain_and_never_duplicates(graph_study):
    study, values = graph_study
    run = stories.generate_stories(study)
    assert run.status == StoryRun.Status.FINISHED, run.error
    made = list(TransitionStory.objects.filter(study=study))
    assert made and run.counts["stories"] == len(made)
    for story in made:
        assert story.story.startswith("I used to")
        assert story.shared_meaning and story.clarification
        # Each policy change quotes a policy of the value the person moved away from.
        assert {c["policy"] for c in story.policy_changes} <= set(story.from_value.policies)
        calls = LLMCall.objects.filter(pk__in=story.chain_calls).order_by("pk")
        assert [c.prompt_name for c in calls] == ["story_reasoning", "story_writer"]
        assert story.llm_call_id == story.chain_calls[-1] and story.context.scenario.key == "parenting"
    again = stories.generate_stories(study)
    assert again.counts["stories"] == 0 and again.counts["skipped"] == len(made)
    assert TransitionStory.objects.filter(study=study).count() == len(made)


def test_reverse_direction_is_written_when_asked(graph_study):
    study, _ = graph_study
    stories.generate_stories(study, reverse=True)
    directions = set(TransitionStory.objects.values_list("from_value_id", "to_value_id", "context_id"))
    assert directions and all((b, a, c) in directions for a, b, c in directions)


def test_pairs_naming_values_not_offered_are_rejected_and_recorded(graph_study, replace_script):
    study, values = graph_study
    replace_script(
        "pair_values",
        lambda request: (
            json.dumps(
                {
                    "pairs": [
                        {"from": 999999, "to": values[0].pk, "context": 1},
                        {"from": values[1].pk, "to": values[1].pk, "context": 1},
                    ]
                }
            ),
            [],
        ),
    )
    run = stories.generate_stories(study)
    assert TransitionStory.objects.count() == 0
    assert run.counts["rejected"] == 2 and run.status == StoryRun.Status.FINISHED
    assert {p["step"] for p in run.problems} == {"pair_values"}
    assert LLMCall.objects.get(pk=run.problems[0]["llm_call"]).prompt_name == "pair_values"


@pytest.mark.parametrize(
    "answer,expected",
    [
        ({"shared_meaning": "Both were about growth and care."}, "is missing"),
        ("not json at all", "did not answer with a JSON object"),
        (
            {
                "shared_meaning": "Both were about growth and care.",
                "clarification": "Discipline was a means to growth.",
                "policy_changes": [{"policy": "SOMETHING the value never said", "change": "It changed a lot."}],
            },
            "quote policies the first value does not have",
        ),
    ],
)
def test_unusable_reasoning_is_rejected_with_the_call_as_evidence(graph_study, replace_script, answer, expected):
    study, _ = graph_study
    replace_script("story_reasoning", lambda request: (answer if isinstance(answer, str) else json.dumps(answer), []))
    run = stories.generate_stories(study)
    assert TransitionStory.objects.count() == 0
    assert run.problems and all(p["step"] == "story_reasoning" for p in run.problems)
    assert expected in run.problems[0]["reason"]
    call = LLMCall.objects.get(pk=run.problems[0]["llm_call"])
    assert call.ok is False and "bad output" in call.error


def test_stories_are_archived_never_deleted(graph_study):
    study, _ = graph_study
    stories.generate_stories(study)
    story = TransitionStory.objects.first()
    assert stories.archive_stories([story], reason="Clumsy wording") == 1
    story.refresh_from_db()
    assert story.status == TransitionStory.Status.ARCHIVED and story.archived_reason == "Clumsy wording"
    with pytest.raises(DatabaseError), transaction.atomic():
        TransitionStory.objects.filter(pk=story.pk).delete()
    # An archived direction may get a fresh story on the next run.
    stories.generate_stories(study)
    assert TransitionStory.objects.filter(
        from_value=story.from_value, to_value=story.to_value, context=story.context, status="active"
    ).exists()
