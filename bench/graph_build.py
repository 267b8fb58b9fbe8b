#!/usr/bin/env python3
"""Building a moral graph snapshot at scale: V values, N votes.

On its own embedded PostgreSQL (var/bench-pgdata), migrates, makes a study
with V canonical values in 3 scenarios (10 contexts each), and loads N
synthetic votes with COPY (triggers off, as a bulk load would be): values
have a hidden "quality"; each candidate pair links a value to one of its
neighbours and gets votes whose answers lean towards the better value, with
impressions a little above the votes. Then runs the platform's own
`build_snapshot` and prints the time of each stage (SQL aggregation,
filtering, PageRank, bootstrap, per-context bootstrap) from the snapshot's
`stage_seconds`.

    .venv/bin/python bench/graph_build.py --values 10000 --votes 1000000 --bootstrap 100
    .venv/bin/python bench/graph_build.py --values 10000 --votes 100000,1000000
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MGE_DEV", "1")
os.environ.setdefault("MGE_PGDATA", str(ROOT / "var" / "bench-pgdata"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DB_POOL", "0")

CONTEXTS_PER_SCENARIO = 10
VOTES_PER_PAIR = 20


def setup_study(n_values: int, rng):
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from graph.models import MoralContext
    from studies import services as journey
    from studies.models import Study
    from values.models import CanonicalValue

    slug = f"bench-graph-{int(time.time())}"
    study, _ = journey.seed_case_study(slug)
    scenarios = list(study.scenarios.order_by("pk"))
    contexts = [MoralContext.objects.create(study=study, scenario=s, text=f"When bench context {s.key} {i}")
                for s in scenarios for i in range(CONTEXTS_PER_SCENARIO)]
    values = CanonicalValue.objects.bulk_create([
        CanonicalValue(study=study, title=f"Value {i}", description="A synthetic value.",
                       policies=[f"MOMENTS of kind {i}"], origin="manual") for i in range(n_values)], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Study.objects.get(pk=study.pk), [v.pk for v in values], contexts


def load_votes(study, value_ids, contexts, n_votes: int, rng) -> dict:
    """COPY n_votes votes and their impressions into the real tables."""
    from django.db import connection
    from django.utils import timezone

    from graph.models import GraphImport

    n = len(value_ids)
    quality = rng.standard_normal(n)
    n_pairs = max(1, n_votes // VOTES_PER_PAIR)
    a = rng.integers(0, n, n_pairs)
    b = (a + rng.integers(1, 12, n_pairs)) % n  # neighbours: candidate pairs come from clusters
    context_of_pair = rng.integers(0, len(contexts), n_pairs)
    pair_of_vote = rng.integers(0, n_pairs, n_votes)
    p_yes = 1 / (1 + np.exp(-2.5 * (quality[b] - quality[a])))
    u = rng.random(n_votes)
    answers = np.where(u < p_yes[pair_of_vote] * 0.85, "yes",
                       np.where(u < p_yes[pair_of_vote] * 0.85 + 0.1, "unsure", "no"))
    graph_import = GraphImport.objects.create(study=study, source_name="bench", sha256=f"bench-{time.time()}")
    now = timezone.now().isoformat()
    ids = np.asarray(value_ids)
    context_ids = np.asarray([c.pk for c in contexts])
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # bulk load: skip the audit triggers
        buffer = io.StringIO()
        for i in range(n_votes):
            p = pair_of_vote[i]
            buffer.write(f"{study.pk}\t{ids[a[p]]}\t{ids[b[p]]}\t{context_ids[context_of_pair[p]]}\t{answers[i]}\t\t"
                         f"{graph_import.pk}\t{now}\t{now}\n")
        buffer.seek(0)
        with cursor.copy("COPY graph_wisdomvote (study_id, from_value_id, to_value_id, context_id, answer, reason, "
                         "graph_import_id, created_at, updated_at) FROM STDIN") as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        votes_per_pair = np.bincount(pair_of_vote, minlength=n_pairs)
        buffer = io.StringIO()
        for p in range(n_pairs):
            buffer.write(f"{graph_import.pk}\t{ids[a[p]]}\t{ids[b[p]]}\t{context_ids[context_of_pair[p]]}\t"
                         f"{int(votes_per_pair[p] * 1.2) + 1}\n")
        buffer.seek(0)
        with cursor.copy("COPY graph_importedimpressions (graph_import_id, from_value_id, to_value_id, context_id, "
                         "count) FROM STDIN") as copy:
            copy.write(buffer.read())
        cursor.execute("SET session_replication_role = origin")
        cursor.execute("ANALYZE graph_wisdomvote")
        cursor.execute("ANALYZE graph_importedimpressions")
    return {"pairs": n_pairs, "load_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=10_000)
    parser.add_argument("--votes", default="1000000", help="comma-separated vote counts, each a fresh study")
    parser.add_argument("--bootstrap", type=int, default=100, help="bootstrap samples")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from mgeplatform import embedded_db

    pgdata = Path(os.environ["MGE_PGDATA"])
    started_here = not os.environ.get("DATABASE_URL") and not embedded_db.is_running(pgdata)
    import django

    django.setup()
    from graph import aggregation, services

    rng = np.random.default_rng(args.seed)
    print(f"cpus={os.cpu_count()} values={args.values} bootstrap_samples={args.bootstrap}")
    print(f"{'votes':>9} {'pairs':>7} {'load_s':>7} {'sql_s':>7} {'filter_s':>8} {'pagerank_s':>10} "
          f"{'bootstrap_s':>11} {'ctx_boot_s':>10} {'total_s':>7} {'kept':>6} {'cycles':>6}")
    try:
        for n_votes in [int(v) for v in args.votes.split(",")]:
            study, value_ids, contexts = setup_study(args.values, rng)
            loaded = load_votes(study, value_ids, contexts, n_votes, rng)
            started = time.perf_counter()
            snapshot = services.build_snapshot(
                study, parameters=aggregation.Parameters(bootstrap_samples=args.bootstrap))
            total = time.perf_counter() - started
            s = snapshot.stage_seconds
            print(f"{n_votes:>9} {loaded['pairs']:>7} {loaded['load_s']:>7.1f} {s['sql_aggregation']:>7.2f} "
                  f"{s['filtering']:>8.2f} {s['pagerank']:>10.2f} {s['bootstrap']:>11.2f} "
                  f"{s.get('context_bootstrap', 0):>10.2f} {total:>7.1f} "
                  f"{snapshot.summary['edges_kept']:>6} {snapshot.summary['cycles']:>6}", flush=True)
    finally:
        if started_here:
            from django.db import connections

            connections.close_all()
            embedded_db.stop(pgdata)

if __name__ == "__main__":
    main()
