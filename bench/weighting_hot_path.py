#!/usr/bin/env python3
"""Does survey weighting slow down the unweighted quick build? One run, one
study: `bench/graph_build.py`'s synthetic study (V values, N votes, loaded
with COPY, pair counts rebuilt), then the quick build (`build_snapshot(quick=True)`)
timed alternately with this tree's graph maths and build and with those of a
git revision (`--against`, default main: `graph/aggregation.py` and
`graph/services/build.py` read with `git show` and loaded beside the current
ones), so both meet the same database, cache and machine load. Prints every
build, the medians and the ratio this tree / the revision, and whether both
give the same edges and scores.

    .venv/bin/python bench/weighting_hot_path.py --values 10000 --votes 1000000 --repeat 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("MGE_DEV", "1")
os.environ.setdefault("MGE_PGDATA", str(ROOT / "var" / "bench-pgdata"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DB_POOL", "0")


def _module(name: str, source: str, preset: dict | None = None) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(preset or {})
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def reference_build(revision: str):
    """The revision's build_snapshot, running on the revision's graph maths."""

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    aggregation = _module("bench_ref_aggregation", show("graph/aggregation.py"))
    source = show("graph/services/build.py")
    line = "from graph import aggregation, aggregators, bridging, coordination, events, selectors"
    if line not in source:
        raise SystemExit(f"{revision}:graph/services/build.py imports differently; adapt the bench")
    source = source.replace(line, "from graph import aggregators, bridging, coordination, events, selectors")
    return _module("bench_ref_build", source, {"aggregation": aggregation}).build_snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=10_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="quick builds of each kind, alternating")
    parser.add_argument("--against", default="main", help="git revision to compare with")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from mgeplatform import embedded_db

    pgdata = Path(os.environ["MGE_PGDATA"])
    started_here = not os.environ.get("DATABASE_URL") and not embedded_db.is_running(pgdata)
    import django

    django.setup()
    try:
        run(args)
    finally:
        if started_here:
            embedded_db.stop(pgdata)


def run(args) -> None:
    import graph_build

    from graph import services

    before = reference_build(args.against)
    rng = np.random.default_rng(args.seed)
    study, value_ids, contexts = graph_build.setup_study(args.values, rng)
    loaded = graph_build.load_votes(study, value_ids, contexts, args.votes, rng)
    services.rebuild_pair_counts(study)
    print(f"values={args.values} votes={args.votes} pairs={loaded['pairs']} load_s={loaded['load_s']:.1f}", flush=True)
    times: dict[str, list[float]] = {"this tree": [], args.against: []}
    built = {}
    for i in range(2 * args.repeat + 2):
        name, build = (("this tree", services.build_snapshot), (args.against, before))[i % 2 == (i // 2) % 2]
        started = time.perf_counter()
        snapshot = build(study, quick=True)
        seconds = time.perf_counter() - started
        if i >= 2:  # the first of each warms imports and caches
            times[name].append(seconds)
        built[name] = snapshot
        print(f"  {name}: {seconds:.3f} s ({', '.join(f'{k} {v:.3f}' for k, v in snapshot.stage_seconds.items())})")
    medians = {k: statistics.median(v) for k, v in times.items()}
    a, b = built.values()
    same = a.edges == b.edges and a.scores == b.scores
    print(
        "medians: "
        + ", ".join(f"{k} {v:.3f} s (range {min(times[k]):.3f}-{max(times[k]):.3f})" for k, v in medians.items())
        + f"; ratio this tree / {args.against} {medians['this tree'] / medians[args.against]:.3f}; same graph: {same}"
    )


if __name__ == "__main__":
    main()
