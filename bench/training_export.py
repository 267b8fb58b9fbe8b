#!/usr/bin/env python3
"""Exporting training data from a moral graph with a paced stand-in model.

On its own embedded PostgreSQL (var/bench-pgdata), migrates, makes a study
with a hand-built graph snapshot: one moral context, E kept edges (a chain
of E+1 values, each wiser than the one before; every value's policies share
no word with another's, so the offline judge finds each wiser-guided answer
better and every pair is kept) and P prompts that are all in that context.
Then runs the platform's own export (`alignment.training.export`, as the
command and the background job do) with the offline provider paced like a
real model: a first-token latency and a delay per streamed word. Prints
examples/s, wall time, model calls and tokens by purpose, and the share of
the wall time spent waiting on the judge and on the guided answers.

    .venv/bin/python bench/training_export.py --edges 50 --prompts 10 --first-token 0.5 --per-word 0.02
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MGE_DEV", "1")
os.environ.setdefault("MGE_PGDATA", str(ROOT / "var" / "bench-pgdata"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DB_POOL", "0")

PROMPT_TOPICS = [
    "screen time",
    "bedtime",
    "homework",
    "chores",
    "pocket money",
    "friends",
    "phones",
    "curfew",
    "sports practice",
    "music lessons",
    "holidays",
    "meals",
    "gaming",
    "pets",
    "visits",
]


def _word(i: int) -> str:
    """A made-up word whose first five letters are its own (the offline
    judge compares five-letter stems), so no two values share a policy word."""
    return "kq" + chr(97 + i // 676 % 26) + chr(97 + i // 26 % 26) + chr(97 + i % 26)


def setup(n_edges: int, n_prompts: int):
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from graph.models import GraphSnapshot, MoralContext
    from studies import services as journey
    from studies.models import Study
    from values.models import CanonicalValue

    study, _ = journey.seed_case_study(f"bench-training-{int(time.time())}")
    study.scenarios.update(active=False)  # only the bench's prompts
    MoralContext.objects.filter(study=study).update(active=False)
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.first(), text="When a parent asks for advice about family rules"
    )
    values = CanonicalValue.objects.bulk_create(
        [
            CanonicalValue(
                study=study,
                title=f"Value {i}",
                description=f"Bench value {i}.",
                origin="manual",
                policies=[f"{_word(2 * i).upper()} as it is", f"{_word(2 * i + 1).upper()} as it is"],
            )
            for i in range(n_edges + 1)
        ]
    )
    counts = {"wiser": 8, "not_wiser": 1, "unsure": 1, "less_wise": 0, "impressions": 12}
    edges = [
        {
            "source": values[i].pk,
            "target": values[i + 1].pk,
            "kept": True,
            "reason": "",
            "counts": counts,
            "likelihood": 0.8,
            "entropy": 1.0,
            "contexts": [context.pk],
        }
        for i in range(n_edges)
    ]
    total = sum(range(1, n_edges + 2))
    snapshot = GraphSnapshot.objects.create(
        study=study,
        parameters={},
        edges=edges,
        values={str(v.pk): {"title": v.title, "description": v.description, "policies": v.policies} for v in values},
        contexts={str(context.pk): {"text": context.text, "scenario": context.scenario_id}},
        scores={
            "global": {str(v.pk): (i + 1) / total for i, v in enumerate(values)},
            "context": {str(context.pk): {str(v.pk): (i + 1) / total for i, v in enumerate(values)}},
        },
    )
    topics = (PROMPT_TOPICS * (n_prompts // len(PROMPT_TOPICS) + 1))[:n_prompts]
    prompts = [
        {
            "text": f"I need advice about family rules on {topic} ({i + 1}). What should I do?",
            "source": f"bench:{i + 1}",
        }
        for i, topic in enumerate(topics)
    ]
    return Study.objects.get(pk=study.pk), snapshot, prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", type=int, default=50, help="kept edges in the graph")
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--first-token", type=float, default=0.5, help="seconds before a reply's first word")
    parser.add_argument("--per-word", type=float, default=0.02, help="seconds per further streamed word")
    args = parser.parse_args()
    # The offline provider reads its pacing from the settings.
    os.environ["LLM_OFFLINE_FIRST_TOKEN_SECONDS"] = str(args.first_token)
    os.environ["LLM_OFFLINE_STREAM_DELAY"] = str(args.per_word)

    from mgeplatform import embedded_db

    pgdata = Path(os.environ["MGE_PGDATA"])
    started_here = not os.environ.get("DATABASE_URL") and not embedded_db.is_running(pgdata)
    import django

    django.setup()
    from django.db.models import Count, Sum

    from alignment import training
    from mgeplatform.models import LLMCall

    try:
        study, snapshot, prompts = setup(args.edges, args.prompts)
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            run, progress = training.export(study, snapshot, prompts, out)
            wall = time.perf_counter() - started
            lines = {name: len(Path(out, name).read_text().splitlines()) for name in ("sft.jsonl", "preferences.jsonl")}
        calls = {
            row["purpose"]: row
            for row in LLMCall.objects.filter(study_id=study.pk)
            .values("purpose")
            .annotate(
                n=Count("id"), ms=Sum("latency_ms"), tokens_in=Sum("input_tokens"), tokens_out=Sum("output_tokens")
            )
        }
        examples = run.counts["sft"] + run.counts["pairs"] + sum(run.counts["dropped"].values())
        print(
            f"cpus={os.cpu_count()} edges={args.edges} prompts={args.prompts} first_token={args.first_token}s "
            f"per_word={args.per_word}s concurrency=1 (one model call at a time)"
        )
        print(
            f"examples={examples} (sft {lines['sft.jsonl']}, pairs {lines['preferences.jsonl']}, dropped "
            f"{sum(run.counts['dropped'].values())}) wall={wall:.1f}s examples_per_s={examples / wall:.2f} "
            f"status={run.status}"
        )
        print(f"{'purpose':<32} {'calls':>6} {'model_s':>8} {'share':>6} {'tokens_in':>10} {'tokens_out':>10}")
        for purpose, row in sorted(calls.items()):
            seconds = (row["ms"] or 0) / 1000
            print(
                f"{purpose:<32} {row['n']:>6} {seconds:>8.1f} {seconds / wall:>6.1%} {row['tokens_in'] or 0:>10} "
                f"{row['tokens_out'] or 0:>10}"
            )
        waited = sum((row["ms"] or 0) for row in calls.values()) / 1000
        print(
            f"{'all model calls':<32} {sum(r['n'] for r in calls.values()):>6} {waited:>8.1f} {waited / wall:>6.1%}"
            f"   (the rest, {wall - waited:.1f}s, is the platform: prompts, checks, database)"
        )
    finally:
        if started_here:
            from django.db import connections

            connections.close_all()
            embedded_db.stop(pgdata)


if __name__ == "__main__":
    main()
