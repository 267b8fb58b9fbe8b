"""Training data from a hand-built moral graph (paper 6.2): winner-guided SFT
lines and preference pairs per kept edge, every line traceable to rows, a
pair whose wiser answer does not adhere better is dropped and counted, runs
resume without duplicates, and a malformed judge answer never crashes one."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from alignment import training
from alignment.models import TrainingExample, TrainingRun
from graph.models import GraphSnapshot
from mgeplatform.models import LLMCall
from tests.alignment.conftest import PROMPT
from values.models import CanonicalValue

pytestmark = pytest.mark.django_db


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _export(graph, tmp_path, **options):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "\n".join(
            [json.dumps({"prompt": "What is the capital of France?"}), "{oops", json.dumps({"text": "no prompt key"})]
        )
        + "\n"
    )
    out, err = StringIO(), StringIO()
    call_command(
        "export_training_data",
        study=graph.study.slug,
        prompts=str(prompts),
        out=str(tmp_path / "out"),
        stdout=out,
        stderr=err,
        **options,
    )
    return out.getvalue(), err.getvalue()


def test_export_writes_winner_sft_lines_and_a_pair_per_kept_edge(graph, tmp_path):
    report, problems = _export(graph, tmp_path)
    assert "line 2: not JSON" in problems and "line 3: needs 'prompt'" in problems
    assert "Cost estimate: At most" in report
    out = tmp_path / "out"
    sft, pairs = _lines(out / "sft.jsonl"), _lines(out / "preferences.jsonl")
    assert len(sft) == 1  # one prompt in one context with a winner; the France prompt is in none
    assert sft[0]["messages"][0] == {"role": "user", "content": PROMPT}
    assert sft[0]["messages"][1]["role"] == "assistant"
    assert sft[0]["metadata"]["value"]["id"] == graph.autonomy.pk
    assert len(pairs) == 2  # strict -> autonomy, shared -> autonomy; the Calm pair is dropped
    assert {(p["metadata"]["edge"]["source"], p["metadata"]["edge"]["target"]) for p in pairs} == {
        (graph.strict.pk, graph.autonomy.pk),
        (graph.shared.pk, graph.autonomy.pk),
    }
    for pair in pairs:
        assert pair["prompt"] == [{"role": "user", "content": PROMPT}]
        assert [m["role"] for m in pair["chosen"] + pair["rejected"]] == ["assistant", "assistant"]
        scores = pair["metadata"]["judge_scores"]
        assert scores["chosen"] > scores["rejected"]
        assert pair["metadata"]["edge"]["counts"]["wiser"] in (9, 6)
    card = (out / "dataset_card.md").read_text()
    assert "SFT examples (`sft.jsonl`): 1" in card and "Preference pairs (`preferences.jsonl`): 2" in card
    assert "1 pair: wiser_not_better" in card
    consent = graph.study.consent_documents.get(is_active=True)
    assert f"version {consent.version_label}" in card
    assert f"Graph snapshot: {graph.snapshot.pk}" in card
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.DONE
    assert run.counts["dropped"] == {"pair:wiser_not_better": 1}
    assert run.counts["prompts_without_context"] == 1


def test_every_line_points_at_existing_rows(graph, tmp_path):
    _export(graph, tmp_path)
    out = tmp_path / "out"
    lines = _lines(out / "sft.jsonl") + _lines(out / "preferences.jsonl")
    assert lines
    for line in lines:
        meta = line["metadata"]
        assert GraphSnapshot.objects.filter(pk=meta["snapshot"], study=graph.study).exists()
        value_ids = [meta[k]["id"] for k in ("value", "chosen_value", "rejected_value") if k in meta]
        assert value_ids and CanonicalValue.objects.filter(pk__in=value_ids).count() == len(set(value_ids))
        call_ids = [v for v in meta["llm_calls"].values() if v is not None]
        assert len(call_ids) == len(meta["llm_calls"])
        calls = LLMCall.objects.filter(pk__in=call_ids)
        assert calls.count() == len(set(call_ids))
        assert {c.purpose for c in calls} >= {"alignment.choose_context", "alignment.guided_completion"}
        assert meta["prompt_versions"]["guided_completion"]["version"] == "1"
        assert meta["context"]["id"] == graph.child.pk


def test_an_interrupted_run_resumes_without_duplicates(graph, tmp_path):
    report, _ = _export(graph, tmp_path, limit=2)
    assert "Stopped: stopped after 2 example(s)" in report
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.STOPPED
    assert run.examples.exclude(kind=TrainingExample.Kind.DETECT).count() == 2
    calls_before = LLMCall.objects.filter(purpose="alignment.guided_completion").count()
    assert calls_before == 3  # the SFT answer and one pair's two answers

    _export(graph, tmp_path)
    run = TrainingRun.objects.get()  # the same run, resumed
    assert run.status == TrainingRun.Status.DONE
    assert LLMCall.objects.filter(purpose="alignment.guided_completion").count() == 1 + 2 * 3
    assert LLMCall.objects.filter(purpose="alignment.choose_context").count() == 2  # once per prompt, ever
    out = tmp_path / "out"
    sft, pairs = _lines(out / "sft.jsonl"), _lines(out / "preferences.jsonl")
    assert len(sft) == 1 and len(pairs) == 2
    assert len({p["metadata"]["edge"]["source"] for p in pairs}) == 2

    _export(graph, tmp_path)  # a rerun of a finished run makes no calls and the same files
    assert LLMCall.objects.filter(purpose="alignment.guided_completion").count() == 7
    assert len(_lines(out / "preferences.jsonl")) == 2


def test_the_budget_stops_a_run(graph, tmp_path):
    graph.study.budget_usd = 0
    graph.study.save(update_fields=["budget_usd"])
    report, _ = _export(graph, tmp_path)
    assert "budget is spent" in report
    assert not LLMCall.objects.filter(purpose="alignment.guided_completion").exists()


def test_a_malformed_judge_answer_is_recorded_and_the_run_goes_on(graph, replies, tmp_path):
    old = graph.snapshot
    snapshot = GraphSnapshot.objects.create(
        study=graph.study,
        parameters={},
        values=old.values,
        edges=old.edges[:1],  # strict -> autonomy only
        contexts=old.contexts,
        scores=old.scores,
    )
    rejected, chosen = "Set firm consequences.", "Explain the reasons behind each rule."
    provider = replies(
        json.dumps({"contexts": [graph.child.pk], "reason": "It is about a child and rules."}),
        "An answer guided by the winner.",
        rejected,
        chosen,
        "this is not json",
        json.dumps({"policies": [{"policy": p, "quote": None} for p in graph.autonomy.policies], "score": 3}),
    )
    run, progress = training.export(graph.study, snapshot, training.prompt_set(graph.study), tmp_path / "out")
    assert not provider.texts  # every reply was used
    assert run.status == TrainingRun.Status.DONE and not progress.stopped
    pair = run.examples.get(kind=TrainingExample.Kind.PAIR)
    assert pair.status == TrainingExample.Status.DROPPED and pair.reason == "judge_failed"
    bad = LLMCall.objects.get(pk=pair.detail["llm_calls"]["judge_rejected"])
    assert not bad.ok and "bad output" in bad.error and bad.response_text == "this is not json"
    assert run.counts["dropped"] == {"pair:judge_failed": 1}
    assert (tmp_path / "out" / "preferences.jsonl").read_text() == ""
    assert len(_lines(tmp_path / "out" / "sft.jsonl")) == 1
    assert "1 pair: judge_failed" in (tmp_path / "out" / "dataset_card.md").read_text()


def test_prompt_files_report_bad_lines_by_number():
    prompts, problems = training.read_prompts('{"prompt": "a"}\n\n[1]\n{"prompt": ""}\n', "p.jsonl")
    assert prompts == [{"text": "a", "source": "p.jsonl:1"}]
    assert problems == [
        "line 3: needs 'prompt' as non-empty text; skipped",
        "line 4: needs 'prompt' as non-empty text; skipped",
    ]
    prompts, problems = training.read_prompts("id,prompt\n1,Hello there\n2,\n", "p.csv")
    assert prompts == [{"text": "Hello there", "source": "p.csv:2"}] and problems == ["line 3: empty prompt; skipped"]


@pytest.mark.django_db(transaction=True)  # the worker reads on its own connection
def test_the_export_runs_as_a_background_job_and_resumes(graph, tmp_path):
    from alignment import tasks
    from tests.factories import run_jobs_until_idle

    run = training.start_run(graph.study, graph.snapshot, training.prompt_set(graph.study))
    tasks.export_training_data.defer(run_id=run.pk, out_dir=str(tmp_path / "job"), limit=1)
    run_jobs_until_idle()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STOPPED and run.counts["sft"] == 1
    tasks.export_training_data.defer(run_id=run.pk, out_dir=str(tmp_path / "job"))
    run_jobs_until_idle()
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.DONE
    assert run.counts["pairs"] == 2 and run.counts["dropped"] == {"pair:wiser_not_better": 1}
    assert len(_lines(tmp_path / "job" / "preferences.jsonl")) == 2
