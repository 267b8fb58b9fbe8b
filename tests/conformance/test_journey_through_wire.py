"""A whole study through each provider's wire format: interviews with their
cards, deduplication, moral contexts and stories, votes, the graph, the
wise-response playground and the training export, every model call sent to
a fake server that speaks the Anthropic Messages API or OpenAI Chat
Completions (scripted_model.py: it refuses what the documented API refuses,
and answers with the offline scripts in the provider's streaming format).

Followed: the documents named in test_provider_wire.py, and for Anthropic's
turn rules the Messages API reference ("messages": the first message must
use the user role; each tool_use block must be answered by a tool_result in
the next user turn).
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from alignment import playground, training
from graph import aggregation
from graph.services import build_snapshot
from journey.simulation import simulate
from mgeplatform.models import LLMCall
from studies import services
from tests.conformance import scripted_model, wire

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MODELS = {"anthropic": ("claude-sonnet-4-6", ""), "openai": ("gpt-4o", "/v1")}


@pytest.mark.parametrize("provider", MODELS)
def test_a_whole_study_runs_through_the_providers_wire_format(provider, tmp_path):
    seen: list[str] = []
    model, suffix = MODELS[provider]
    with (
        wire.FakeServer(scripted_model.responder(provider, seen)) as server,
        override_settings(ANTHROPIC_API_KEY="sk-ant-fake", OPENAI_API_KEY="sk-fake"),
    ):
        study, _ = services.seed_case_study()
        study.llm_provider, study.llm_model, study.llm_base_url = provider, model, server.url + suffix
        study.save()
        result = simulate(study, 20)
        # Twenty people give few votes per pair: keep every edge with a "wiser" vote.
        snapshot = build_snapshot(
            study,
            include_simulated=True,
            parameters=aggregation.Parameters(min_wiser=1, min_likelihood=0.0, max_entropy=10.0),
        )
        # A question in the words of a context the graph ranks values in, so the offline
        # context chooser finds it and the playground and the export use the winners.
        ranked = next(cid for cid, scores in snapshot.scores["context"].items() if scores)
        question = f"{snapshot.contexts[ranked]['text']}: what should I do?"
        conversation = playground.start(study, snapshot=snapshot)
        turn = playground.add_turn(conversation, question)
        run, _progress = training.export(
            study, snapshot, training.prompt_set(study, [{"text": question, "source": "test"}]), tmp_path, limit=4
        )
    calls = LLMCall.objects.filter(study_id=study.pk).exclude(provider="offline")  # embeddings stay platform-wide
    assert calls.exists() and set(calls.values_list("provider", "model").distinct()) == {(provider, model)}
    failed = list(calls.filter(ok=False).values_list("purpose", "error"))
    assert not failed, failed
    assert not [r for r in server.received if r.path.endswith(("messages", "completions")) and "error" in r.body]
    # Every part of the study was played through the wire.
    assert {"interviewer", "articulator", "moral_contexts", "story_writer", "guided_reply", "guided_completion"} <= set(
        seen
    ), sorted(set(seen))
    assert result.completed >= 1 and snapshot.values
    assert turn.pk and run.counts.get("sft", 0) + run.counts.get("pairs", 0) >= 1
    assert all(row.input_tokens > 0 and row.output_tokens > 0 and row.estimated_cost_usd > 0 for row in calls)
