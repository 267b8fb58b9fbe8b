#!/usr/bin/env python3
"""Building a moral graph snapshot at scale: V values, N votes.

On its own embedded PostgreSQL (var/bench-pgdata), migrates, makes a study
with V canonical values in 3 scenarios (10 contexts each), and loads N
synthetic votes with COPY (triggers off, as a bulk load would be): values
have a hidden "quality"; each candidate pair links a value to one of its
neighbours and gets votes whose answers lean towards the better value, with
impressions a little above the votes. Then runs the platform's own
`build_snapshot` and prints the time of each stage (SQL aggregation,
filtering, PageRank, bootstrap, per-context bootstrap, the other aggregators, bridging) from the
snapshot's `stage_seconds`.

Votes belong to synthetic participants (VOTES_PER_PARTICIPANT each), with
Prolific demographics in three political groups (and a tenth without any),
each group judging with its own slight twist on the hidden quality, so the
bridging stage has real groups to split.

The COPY bypasses the triggers that keep the pair counts (graph.models.PairCount),
so they are rebuilt once from the votes (timed); then the quick build
(`build_snapshot(quick=True)`: edges and PageRank from the pair counts, no
bootstrap, aggregators, bridging or coordination) is timed `--repeat` times,
the same cells are counted by scanning every vote for comparison, and the
vote service records `--upkeep-votes` votes with the counts' trigger on and
off (`--quick-only` stops there).

Before the build, each other aggregator (direct votes, Bradley–Terry, Rank
Centrality, HodgeRank) is timed alone on the whole graph's votes, in a
child process with a time limit (`--method-timeout`), so a method that
does not scale is reported as such instead of stalling the run;
`--methods-only` skips the build.

    .venv/bin/python bench/graph_build.py --values 10000 --votes 1000000 --bootstrap 100
    .venv/bin/python bench/graph_build.py --values 10000 --votes 100000,1000000
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import sys
import time
import uuid
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
VOTES_PER_PARTICIPANT = 20
GROUPS = ("Democrat", "Republican", "Independent")


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
    contexts = [
        MoralContext.objects.create(study=study, scenario=s, text=f"When bench context {s.key} {i}")
        for s in scenarios
        for i in range(CONTEXTS_PER_SCENARIO)
    ]
    values = CanonicalValue.objects.bulk_create(
        [
            CanonicalValue(
                study=study,
                title=f"Value {i}",
                description="A synthetic value.",
                policies=[f"MOMENTS of kind {i}"],
                origin="manual",
            )
            for i in range(n_values)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Study.objects.get(pk=study.pk), [v.pk for v in values], contexts


def load_votes(study, value_ids, contexts, n_votes: int, rng) -> dict:
    """COPY n_votes votes and their impressions into the real tables."""
    from django.db import connection
    from django.utils import timezone

    from graph.models import GraphImport
    from mgeplatform import dbroles

    n = len(value_ids)
    quality = rng.standard_normal(n)
    n_pairs = max(1, n_votes // VOTES_PER_PAIR)
    a = rng.integers(0, n, n_pairs)
    b = (a + rng.integers(1, 12, n_pairs)) % n  # neighbours: candidate pairs come from clusters
    context_of_pair = rng.integers(0, len(contexts), n_pairs)
    # One candidate per (from, to, context): a participant votes on it at most once.
    _, first = np.unique((a * n + b) * len(contexts) + context_of_pair, return_index=True)
    first.sort()
    a, b, context_of_pair = a[first], b[first], context_of_pair[first]
    n_pairs = len(first)
    # Sorted, so a pair's votes are consecutive and go to distinct participants (one vote per
    # participant, pair and context, as the table's unique constraint says).
    pair_of_vote = np.sort(rng.integers(0, n_pairs, n_votes))
    n_participants = max(1, n_votes // VOTES_PER_PARTICIPANT)
    participant_of_vote = np.arange(n_votes) % n_participants
    # group 0-2 by political affiliation, 3 = no demographics; each group sees quality with its own twist
    group_of_participant = rng.choice(4, n_participants, p=[0.3, 0.3, 0.3, 0.1])
    twist = rng.standard_normal((4, n)) * 0.7
    group = group_of_participant[participant_of_vote]
    seen = quality[None, :] + twist
    p_yes = 1 / (1 + np.exp(-2.5 * (seen[group, b[pair_of_vote]] - seen[group, a[pair_of_vote]])))
    u = rng.random(n_votes)
    answers = np.where(u < p_yes * 0.85, "yes", np.where(u < p_yes * 0.85 + 0.1, "unsure", "no"))
    graph_import = GraphImport.objects.create(study=study, source_name="bench", sha256=f"bench-{time.time()}")
    now = timezone.now().isoformat()
    ids = np.asarray(value_ids)
    context_ids = np.asarray([c.pk for c in contexts])
    started = time.perf_counter()
    participant_ids = [str(uuid.uuid4()) for _ in range(n_participants)]
    tables = [
        "interviews_participant",
        "interviews_prolificdemographics",
        "graph_wisdomvote",
        "graph_importedimpressions",
    ]
    # Bulk load, as the tables' owner: the audit (row history) triggers are off during the COPY.
    with dbroles.as_owner(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        buffer = io.StringIO()
        for pid in participant_ids:
            buffer.write(f"{pid}\t{study.pk}\tcomplete\tf\tstudy\tt\t{now}\t{now}\ten\n")
        buffer.seek(0)
        with cursor.copy(
            "COPY interviews_participant (id, study_id, current_step, simulated, cohort, via_prolific, "
            "created_at, updated_at, language) FROM STDIN"
        ) as copy:
            copy.write(buffer.read())
        buffer = io.StringIO()
        for pid, g in zip(participant_ids, group_of_participant):
            if g < len(GROUPS):
                data = json.dumps({"Age": "40", "U.s. political affiliation": GROUPS[g]})
                buffer.write(f"{pid}\t{data}\tbench\t{now}\n")
        buffer.seek(0)
        with cursor.copy(
            "COPY interviews_prolificdemographics (participant_id, data, source_name, imported_at) FROM STDIN"
        ) as copy:
            copy.write(buffer.read())
        buffer = io.StringIO()
        for i in range(n_votes):
            p = pair_of_vote[i]
            buffer.write(
                f"{study.pk}\t{participant_ids[participant_of_vote[i]]}\t{ids[a[p]]}\t{ids[b[p]]}\t"
                f"{context_ids[context_of_pair[p]]}\t{answers[i]}\t\t{now}\t{now}\n"
            )
        buffer.seek(0)
        with cursor.copy(
            "COPY graph_wisdomvote (study_id, participant_id, from_value_id, to_value_id, context_id, "
            "answer, reason, created_at, updated_at) FROM STDIN"
        ) as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        votes_per_pair = np.bincount(pair_of_vote, minlength=n_pairs)
        buffer = io.StringIO()
        for p in range(n_pairs):
            buffer.write(
                f"{graph_import.pk}\t{ids[a[p]]}\t{ids[b[p]]}\t{context_ids[context_of_pair[p]]}\t"
                f"{int(votes_per_pair[p] * 1.2) + 1}\n"
            )
        buffer.seek(0)
        with cursor.copy(
            "COPY graph_importedimpressions (graph_import_id, from_value_id, to_value_id, context_id, count) FROM STDIN"
        ) as copy:
            copy.write(buffer.read())
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute("ANALYZE graph_wisdomvote")
        cursor.execute("ANALYZE graph_importedimpressions")
        cursor.execute("ANALYZE interviews_participant")
        cursor.execute("ANALYZE interviews_prolificdemographics")
    return {"pairs": n_pairs, "participants": n_participants, "load_s": time.perf_counter() - started}


def time_vote_upkeep(study, n_votes: int, rng) -> dict[str, float]:
    """Milliseconds per vote for the vote service (graph.services.record_vote:
    the vote, its audit copy, the domain event) with the pair counts kept by
    their trigger and with that trigger off, on cells of the loaded study
    (their count rows exist and are indexed among all the others). Blocks of
    votes alternate between the two, so drift in the machine's load falls
    on both."""
    from django.db import connection
    from django.utils import timezone

    from graph import services
    from graph.models import PairCount, StoryAssignment, TransitionStory
    from mgeplatform import dbroles
    from studies.models import Participant

    n_stories = 20
    cells = list(PairCount.objects.filter(study=study).values_list("from_value_id", "to_value_id", "context_id"))
    picked = [cells[i] for i in rng.choice(len(cells), n_stories, replace=False)]
    stories = [
        TransitionStory.objects.create(
            study=study, from_value_id=a, to_value_id=b, context_id=c, story="A bench story."
        )
        for a, b, c in picked
    ]
    people = [Participant.objects.create(study=study) for _ in range(max(2, n_votes // n_stories))]
    now = timezone.now()
    assignments = [
        StoryAssignment.objects.bulk_create(
            [StoryAssignment(participant=p, story=s, position=i, shown_at=now) for i, s in enumerate(stories)]
        )
        for p in people
    ]
    spent = {"with": [0.0, 0], "without": [0.0, 0]}
    with dbroles.as_owner(), connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'pgtrigger_pair_count_votes_insert%%'")
        trigger = cursor.fetchone()[0]
        people_per_block = max(1, 100 // n_stories)
        for block in range(0, len(people), people_per_block):
            mode = "with" if (block // people_per_block) % 2 == 0 else "without"
            if mode == "without":
                cursor.execute(f"ALTER TABLE graph_wisdomvote DISABLE TRIGGER {trigger}")
            started = time.perf_counter()
            for person, theirs in zip(
                people[block : block + people_per_block], assignments[block : block + people_per_block]
            ):
                for assignment in theirs:
                    services.record_vote(
                        participant=person, assignment=assignment, answer=("yes", "no", "unsure")[int(rng.integers(3))]
                    )
                    spent[mode][1] += 1
            spent[mode][0] += time.perf_counter() - started
            if mode == "without":
                cursor.execute(f"ALTER TABLE graph_wisdomvote ENABLE TRIGGER {trigger}")
    return {mode: 1000 * seconds / max(1, n) for mode, (seconds, n) in spent.items()}


def _run_method(name, wins, queue):
    from graph import aggregators

    started = time.perf_counter()
    aggregators.AGGREGATORS[name].rank(wins, None)
    queue.put(time.perf_counter() - started)


def time_methods(cells, timeout: float, methods) -> dict[str, float | None]:
    """Each aggregator alone on the whole graph's comparisons, in a forked
    child (None: not done within `timeout` seconds)."""
    from graph import aggregators

    started = time.perf_counter()
    wins = aggregators.comparisons(cells)
    out = {"comparisons": time.perf_counter() - started}
    ctx = multiprocessing.get_context("fork")
    for name in methods:
        queue = ctx.Queue()
        child = ctx.Process(target=_run_method, args=(name, wins, queue))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.terminate()
            child.join()
            out[name] = None
        else:
            out[name] = queue.get() if child.exitcode == 0 else float("nan")
    return out


def time_bridging(study, snapshot) -> dict[str, float]:
    """The bridging stage's parts: the SQL split by group, the edge table,
    the groups' own graphs."""
    from graph import aggregation, bridging, selectors

    params = aggregation.Parameters.from_dict(snapshot.parameters)
    out = {}
    started = time.perf_counter()
    _, group_cells, _ = selectors.graph_cells_by_group(study, bridging.DEFAULT_ATTRIBUTE)
    out["sql_by_group"] = time.perf_counter() - started
    kept = [e for e in snapshot.edges if e["kept"]]
    started = time.perf_counter()
    bridging.edge_table(group_cells, kept, params)
    out["edge_table"] = time.perf_counter() - started
    scenario_contexts: dict[str, set[int]] = {}
    for cid, c in snapshot.contexts.items():
        scenario_contexts.setdefault(str(c["scenario"]), set()).add(int(cid))
    started = time.perf_counter()
    bridging.group_graphs(group_cells, params, scenario_contexts)
    out["group_graphs"] = time.perf_counter() - started
    return out


def robustness_report(snapshot):
    from graph import reports

    return reports.robustness_report(snapshot)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=10_000)
    parser.add_argument("--votes", default="1000000", help="comma-separated vote counts, each a fresh study")
    parser.add_argument("--bootstrap", type=int, default=100, help="bootstrap samples")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--method-timeout", type=float, default=600, help="seconds per aggregator timed alone")
    parser.add_argument("--methods-only", action="store_true", help="time the aggregators alone, no build")
    parser.add_argument(
        "--methods",
        default=None,
        help="aggregators to time alone (comma-separated; default: every one graph/aggregators.py "
        "computes, PageRank aside)",
    )
    parser.add_argument(
        "--quick-only",
        action="store_true",
        help="only the quick build (no bootstrap, aggregators, bridging or coordination), "
        "the pair counts' rebuild and their upkeep per vote",
    )
    parser.add_argument(
        "--upkeep-votes",
        type=int,
        default=2000,
        help="votes recorded through the vote service to time the pair counts' upkeep",
    )
    parser.add_argument("--repeat", type=int, default=3, help="quick builds (each line printed)")
    args = parser.parse_args()

    from mgeplatform import embedded_db

    pgdata = Path(os.environ["MGE_PGDATA"])
    started_here = not os.environ.get("DATABASE_URL") and not embedded_db.is_running(pgdata)
    import django

    django.setup()
    from graph import aggregation, selectors, services

    rng = np.random.default_rng(args.seed)
    print(f"cpus={os.cpu_count()} values={args.values} bootstrap_samples={args.bootstrap}")
    try:
        for n_votes in [int(v) for v in args.votes.split(",")]:
            study, value_ids, contexts = setup_study(args.values, rng)
            loaded = load_votes(study, value_ids, contexts, n_votes, rng)
            print(
                f"votes={n_votes} pairs={loaded['pairs']} participants={loaded['participants']} "
                f"load_s={loaded['load_s']:.1f}",
                flush=True,
            )
            # COPY ran with the triggers off: count the loaded votes once.
            started = time.perf_counter()
            services.rebuild_pair_counts(study)
            print(f"  pair counts rebuilt from the votes: {time.perf_counter() - started:.1f} s", flush=True)
            for _ in range(args.repeat):
                started = time.perf_counter()
                snapshot = services.build_snapshot(study, quick=True)
                total = time.perf_counter() - started
                print(
                    "  quick build stages (s): "
                    + ", ".join(f"{k} {v:.2f}" for k, v in snapshot.stage_seconds.items())
                    + f"; values, contexts and storing the snapshot {total - sum(snapshot.stage_seconds.values()):.2f}"
                    + f"; total {total:.2f}; kept {snapshot.summary['edges_kept']}, "
                    f"votes {snapshot.summary['votes']}",
                    flush=True,
                )
            started = time.perf_counter()
            scanned, _ = selectors.graph_cells(study, from_votes=True)
            seconds = time.perf_counter() - started
            counted, _ = selectors.graph_cells(study)
            print(
                f"  cells by scanning every vote: {seconds:.2f} s; same cells as the counts: {scanned == counted}",
                flush=True,
            )
            upkeep = time_vote_upkeep(study, args.upkeep_votes, rng)
            print(
                f"  vote service per vote (ms): with the pair counts' upkeep {upkeep['with']:.2f}, "
                f"without {upkeep['without']:.2f}",
                flush=True,
            )
            if args.quick_only:
                continue
            cells, _ = selectors.graph_cells(study)
            from graph import aggregators  # after django.setup(), like the build

            names = (
                args.methods.split(",")
                if args.methods
                else [a.name for a in aggregators.AGGREGATORS.values() if a.rank is not None]
            )
            methods = time_methods(cells, args.method_timeout, names)
            print(
                "  alone on the whole graph (s): "
                + ", ".join(
                    f"{k} {'>' + str(int(args.method_timeout)) if v is None else f'{v:.2f}'}"
                    for k, v in methods.items()
                ),
                flush=True,
            )
            if args.methods_only:
                continue
            started = time.perf_counter()
            snapshot = services.build_snapshot(
                study, parameters=aggregation.Parameters(bootstrap_samples=args.bootstrap)
            )
            total = time.perf_counter() - started
            s = snapshot.stage_seconds
            kinds = snapshot.scores["bridging"]["kinds"]
            print(
                "  build stages (s): "
                + ", ".join(f"{k} {v:.2f}" for k, v in s.items())
                + f"; total {total:.1f}; kept {snapshot.summary['edges_kept']}, cycles {snapshot.summary['cycles']}; "
                + "bridging "
                + ", ".join(f"{k} {n}" for k, n in kinds.items()),
                flush=True,
            )
            parts = time_bridging(study, snapshot)
            print("  bridging parts (s): " + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()), flush=True)
            started = time.perf_counter()
            robustness_report(snapshot)
            seconds = time.perf_counter() - started
            print(f"  report's robustness section (three cycle policies rebuilt): {seconds:.2f} s", flush=True)
    finally:
        if started_here:
            from django.db import connections

            connections.close_all()
            embedded_db.stop(pgdata)


if __name__ == "__main__":
    main()
