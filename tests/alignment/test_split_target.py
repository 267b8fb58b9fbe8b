"""In a split context (graph/splits.py) the playground and the training-data
export use each group's winner ("contested here: wise values by group"), not
the one pooled winner; a snapshot without a split keeps the one winner
(the rest of tests/alignment checks that path in full)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from alignment import playground
from alignment.training import units_in_context
from graph.models import GraphSnapshot
from tests.alignment.conftest import PROMPT

pytestmark = pytest.mark.django_db


def _split(t, *, groups=True):
    """A newer snapshot of the conftest graph whose child context is split:
    Democrats' winner Informed autonomy, Republicans' Strict rules."""
    rows = [
        {"group": "Democrat", "winner": t.autonomy.pk, "score": 0.5, "rank_low": 1, "rank_high": 1, "votes": 12},
        {"group": "Republican", "winner": t.strict.pk, "score": 0.6, "rank_low": 1, "rank_high": 2, "votes": 6},
    ]
    splits = {
        "attribute": "U.s. political affiliation",
        "cyclic_share_threshold": 0.3,
        "min_group_votes": 5,
        "weighted": False,
        "context": {
            str(t.child.pk): {
                "reasons": ["group_difference"],
                "cyclic_share": 0.0,
                "pooled_winner": t.autonomy.pk,
                "groups": rows if groups else [],
            }
        },
    }
    t.snapshot = GraphSnapshot.objects.create(
        study=t.study,
        parameters=t.snapshot.parameters,
        values=t.snapshot.values,
        edges=t.snapshot.edges,
        contexts=t.snapshot.contexts,
        scores={**t.snapshot.scores, "splits": splits},
        bootstrap=t.snapshot.bootstrap,
    )
    return t


def test_the_playground_answers_a_split_context_with_each_groups_winner(target, coordinator):
    t = _split(target)
    conversation = playground.start(t.study)
    turn = playground.add_turn(conversation, PROMPT)
    assert [(v["id"], v["group"]) for v in turn.values] == [(t.autonomy.pk, "Democrat"), (t.strict.pk, "Republican")]
    system = turn.graph_call.request_system
    assert system.count("Contested here: wise values by group") == 2
    assert "(U.s. political affiliation: Republican)" in system
    for policy in (*t.autonomy.policies, *t.strict.policies):
        assert policy in system
    client = Client()
    client.force_login(coordinator)
    html = client.get(f"/graph/{t.study.slug}/playground/{conversation.pk}/").content.decode()
    assert "Wisest for U.s. political affiliation: Republican (95% interval of its rank within the group 1–2)" in html
    assert "Wisest for U.s. political affiliation: Democrat" in html
    exported = playground.export(conversation)["turns"][0]["values"]
    assert [(v["title"], v["group"]) for v in exported] == [
        ("Informed autonomy", "Democrat"),
        ("Strict rules", "Republican"),
    ]


def test_the_playground_keeps_the_one_winner_without_a_split_or_without_two_groups(target):
    turn = playground.add_turn(playground.start(target.study), PROMPT)
    [card] = turn.values
    assert card["id"] == target.autonomy.pk and "group" not in card
    assert "Contested here" not in turn.graph_call.request_system
    # split for its cyclic share but no group ranks a winner: the pooled winner stands
    t = _split(target, groups=False)
    [card] = playground.add_turn(playground.start(t.study), PROMPT).values
    assert card["id"] == t.autonomy.pk and "group" not in card


def _export(study, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"prompt": PROMPT}) + "\n")
    call_command(
        "export_training_data", study=study.slug, prompts=str(prompts), out=str(tmp_path / "out"), stdout=StringIO()
    )
    return [json.loads(line) for line in (tmp_path / "out" / "sft.jsonl").read_text().splitlines()]


def test_the_training_export_writes_an_sft_line_per_groups_winner_in_a_split_context(graph, tmp_path):
    t = _split(graph)
    assert units_in_context(t.snapshot, t.child.pk) == 2 + 3  # two group winners, three kept edges
    sft = _export(t.study, tmp_path)
    assert [(line["metadata"]["value"]["id"], line["metadata"]["contested"]["group"]) for line in sft] == [
        (t.autonomy.pk, "Democrat"),
        (t.strict.pk, "Republican"),
    ]
    contested = sft[1]["metadata"]["contested"]
    assert contested == {
        "text": "Contested here: wise values by group",
        "attribute": "U.s. political affiliation",
        "group": "Republican",
        "rank_interval": [1, 2],
    }


def test_the_training_export_writes_one_sft_line_without_a_split(graph, tmp_path):
    assert units_in_context(graph.snapshot, graph.child.pk) == 1 + 3
    [line] = _export(graph.study, tmp_path)
    assert line["metadata"]["value"]["id"] == graph.autonomy.pk and "contested" not in line["metadata"]
