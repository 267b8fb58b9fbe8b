#!/usr/bin/env python3
"""The graph build's two bootstrap stages on a synthetic graph shaped like
bench/graph_build.py's (no database): V values, P candidate pairs of a value
and one of its neighbours with 20 answers each leaning towards the value of
higher hidden quality, spread over C contexts. Times `aggregation.bootstrap`
(the global rank's intervals) and `aggregation.bootstrap_by_context` (the
rank within each context, on the same draws), best of R repetitions.

    .venv/bin/python bench/bootstrap_stages.py --values 10000 --pairs 5000 --contexts 30 --samples 100

To compare with an older aggregation.py, pass --module PATH (a copy of the
file, e.g. from `git show <commit>:graph/aggregation.py`); its `bootstrap`
is timed beside this one.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cells_like_the_bench(module, n_values: int, n_pairs: int, n_contexts: int, seed: int):
    rng = np.random.default_rng(seed)
    quality = rng.random(n_values)
    cells = []
    for _ in range(n_pairs):
        a = int(rng.integers(n_values))
        b = (a + int(rng.integers(1, 20))) % n_values
        yes = int(rng.binomial(20, 0.8 if quality[b] > quality[a] else 0.3))
        no = int(rng.binomial(20 - yes, 0.6))
        cells.append(module.Cell(a, b, int(rng.integers(n_contexts)), yes, no, 20 - yes - no, 24))
    return cells


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=5_000)
    parser.add_argument("--contexts", type=int, default=30)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--module", help="an older aggregation.py to time beside this one")
    args = parser.parse_args()
    from graph import aggregation

    cells = cells_like_the_bench(aggregation, args.values, args.pairs, args.contexts, args.seed)
    params = aggregation.Parameters(bootstrap_samples=args.samples)
    full = aggregation.build(cells, params)
    print(
        f"values={args.values} pairs={len(cells)} contexts={args.contexts} samples={args.samples} "
        f"kept={len(full.kept())} (best of {args.repeat})"
    )
    if args.module:
        spec = importlib.util.spec_from_file_location("older_aggregation", args.module)
        older = importlib.util.module_from_spec(spec)
        sys.modules["older_aggregation"] = older
        spec.loader.exec_module(older)
        old_cells = cells_like_the_bench(older, args.values, args.pairs, args.contexts, args.seed)
        old_params = older.Parameters(bootstrap_samples=args.samples)
        old_s = best(lambda: older.bootstrap(old_cells, old_params), args.repeat)
        print(f"older bootstrap (global)      {old_s:7.2f} s")
    global_s = best(lambda: aggregation.bootstrap(cells, params), args.repeat)
    context_s = best(lambda: aggregation.bootstrap_by_context(cells, params, full=full), args.repeat)
    print(f"bootstrap (global)            {global_s:7.2f} s")
    print(f"bootstrap_by_context          {context_s:7.2f} s")
    if args.module:
        print(f"both / older global           {(global_s + context_s) / old_s:7.2f}x")


if __name__ == "__main__":
    main()
