"""A training-data export killed halfway (kill -9, as when a machine goes
down) and started again: the rerun resumes the same run, and the files have
exactly the examples a run without the kill makes, each once, with no unit
of work stored twice. Real processes on a throwaway PostgreSQL; the offline
model is paced so the kill lands mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.faults.cluster import Cluster, wait_until
from tests.faults.conftest import ROOT, platform_env

pytestmark = [pytest.mark.fault, pytest.mark.slow]

PROMPTS = [
    "My child refuses to follow our rules at home. What should I do?",
    "How do I get my child to accept the rules about screen time?",
    "Our child ignores every rule we set. Any advice?",
]
# One context, a winner (Informed autonomy) and three kept edges into it from
# values whose policies share no word with the winner's: per prompt one SFT
# example and three pairs, all kept (the judge finds the wiser answer adheres).
SETUP = """
import json, sys
from graph.models import GraphSnapshot, MoralContext
from studies import services
from values.models import CanonicalValue
study, _ = services.seed_case_study("faults-training")
study.scenarios.update(active=False)
MoralContext.objects.filter(study=study).update(active=False)
child = MoralContext.objects.create(study=study, scenario=study.scenarios.first(),
                                    text="When a child resists their parents' rules")
def value(title, policies):
    return CanonicalValue.objects.create(study=study, title=title, description=title, policies=policies,
                                         origin="manual")
wiser = value("Informed autonomy", ["CHOICES the child can make alone", "REASONS behind each family rule"])
others = [value("Strict rules", ["CONSEQUENCES that follow broken rules"]),
          value("Shared wisdom", ["STORIES from elders about growing up"]),
          value("Quiet example", ["HABITS the parent shows without words"])]
values = {str(v.pk): {"title": v.title, "description": v.description, "policies": v.policies}
          for v in [wiser, *others]}
counts = {"wiser": 5, "not_wiser": 1, "unsure": 0, "less_wise": 0, "impressions": 6}
edges = [{"source": v.pk, "target": wiser.pk, "kept": True, "reason": "", "counts": counts, "likelihood": 0.8,
          "contexts": [child.pk]} for v in others]
scores = {"global": {k: 0.25 for k in values}, "context": {str(child.pk): {str(wiser.pk): 0.7,
                                                                           **{str(v.pk): 0.1 for v in others}}}}
GraphSnapshot.objects.create(study=study, parameters={}, values=values, edges=edges, scores=scores,
                             contexts={str(child.pk): {"text": child.text, "scenario": None}})
print(study.pk)
"""
SFT, PAIRS = len(PROMPTS), 3 * len(PROMPTS)
CALLS_PER_PROMPT = 1 + 1 + 3 * 4  # contexts, the winner's answer, two answers and two judgements per edge


def _manage(env, *args, timeout=120):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_an_export_killed_halfway_resumes_without_duplicates(tmp_path):
    cluster = Cluster("training")
    try:
        env = platform_env(cluster.url())
        env.update(LLM_OFFLINE_FIRST_TOKEN_SECONDS="0.25", LLM_OFFLINE_STREAM_DELAY="0.005")  # a slow model
        _manage(env, "migrate", "--noinput", "-v", "0", timeout=300)
        _manage(env, "shell", "-c", SETUP)
        prompts = tmp_path / "prompts.jsonl"
        prompts.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS))
        out = tmp_path / "out"
        command = [
            sys.executable,
            "manage.py",
            "export_training_data",
            "--study",
            "faults-training",
            "--prompts",
            str(prompts),
            "--out",
            str(out),
        ]
        made = "SELECT count(*) FROM alignment_trainingexample WHERE kind IN ('sft', 'pair')"

        with open(tmp_path / "first.log", "w") as log:
            first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_until(
                    lambda: cluster.query(made)[0][0] >= 3 or first.poll() is not None,
                    timeout=120,
                    interval=0.05,
                    message="the export wrote no examples",
                )
                assert first.poll() is None, "the export finished before it could be killed"
                os.kill(first.pid, signal.SIGKILL)
                first.wait(timeout=10)
            finally:
                if first.poll() is None:
                    first.kill()
        at_kill = cluster.query(made)[0][0]
        assert 3 <= at_kill < SFT + PAIRS
        assert not out.exists() or not (out / "preferences.jsonl").exists()  # it died before writing its files
        assert cluster.query("SELECT status FROM alignment_trainingrun") == [("running",)]

        started = time.monotonic()
        report = _manage(env, *command[2:], timeout=300)
        resumed_in = time.monotonic() - started
        assert f"{SFT} SFT example(s), {PAIRS} preference pair(s), 0 dropped" in report

        sft = (out / "sft.jsonl").read_text().splitlines()
        pairs = (out / "preferences.jsonl").read_text().splitlines()
        assert len(sft) == SFT and len(pairs) == PAIRS
        assert len(set(sft)) == SFT and len(set(pairs)) == PAIRS  # no line twice
        keys = {(p["metadata"]["prompt_index"], p["metadata"]["edge"]["source"]) for p in map(json.loads, pairs)}
        assert len(keys) == PAIRS  # each prompt with each edge once
        assert sorted(json.loads(line)["messages"][0]["content"] for line in sft) == sorted(PROMPTS)

        # One run, each unit of work stored once.
        assert cluster.query("SELECT count(*), min(status) FROM alignment_trainingrun") == [(1, "done")]
        assert (
            cluster.query(
                "SELECT kind, prompt_index, context_id, edge FROM alignment_trainingexample "
                "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
            )
            == []
        )
        assert cluster.query("SELECT count(*) FROM alignment_trainingexample") == [(SFT + PAIRS + len(PROMPTS),)]
        # Work done before the kill was not done again: at most the example in progress was lost.
        calls = cluster.query("SELECT count(*) FROM mgeplatform_llmcall WHERE purpose LIKE 'alignment.%%'")[0][0]
        assert len(PROMPTS) * CALLS_PER_PROMPT <= calls <= len(PROMPTS) * CALLS_PER_PROMPT + 4
        print(
            f"\nkilled after {at_kill} of {SFT + PAIRS} examples; the rerun finished the rest in "
            f"{resumed_in:.1f}s with {calls - len(PROMPTS) * CALLS_PER_PROMPT} model call(s) repeated"
        )
    finally:
        cluster.destroy()
