#!/usr/bin/env python3
"""Split detection and the weighted build's new stages at scale, on
synthetic vote rows (no database): P participants in three groups (shares
60/20/20, a raking-like weight per group plus noise), each casting V/P votes
on candidate pairs of a value and one of its neighbours, answers leaning
towards the value of higher hidden quality; in a fifth of the contexts the
third group's taste is reversed (a planted split). Timed, unweighted beside
weighted, in one run:

- `weighting`: the vote rows into weighted cells (`graph.weighting.weighted_votes`);
- `edges and ranks`: pair counts, thresholds, cycles, PageRank in every scope;
- `cyclic shares`: HodgeRank in every context (`aggregators.compare`, the
  splits' first rule; the build's aggregators stage computes it anyway);
- `group cells`: the rows per group (unweighted: summed per cell; weighted:
  `weighted_votes_by_group`, each group with its resampler);
- `splits`: `graph.splits.detect` (each group's graph, ranked and
  bootstrapped within every context).

    .venv/bin/python bench/split_weighting.py --participants 50000 --votes 1000000 --samples 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GROUPS = ("Democrat", "Independent", "Republican")
SHARES = (0.6, 0.2, 0.2)
TARGET = (1 / 3, 1 / 3, 1 / 3)


def vote_rows(n_values, n_pairs, n_contexts, n_participants, n_votes, seed):
    """(vote rows, {participant: group}, {participant: weight}, split contexts)."""
    rng = np.random.default_rng(seed)
    quality = rng.random(n_values)
    a = rng.integers(n_values, size=n_pairs)
    b = (a + rng.integers(1, 20, size=n_pairs)) % n_values
    ctx = rng.integers(n_contexts, size=n_pairs)
    split_contexts = set(range(0, n_contexts, 5))
    group_of = rng.choice(len(GROUPS), size=n_participants, p=SHARES)
    weight_of = (np.array(TARGET) / np.array(SHARES))[group_of] * rng.uniform(0.8, 1.2, size=n_participants)
    weight_of *= n_participants / weight_of.sum()
    voter = rng.integers(n_participants, size=n_votes)
    pair = rng.integers(n_pairs, size=n_votes)
    better = quality[b[pair]] > quality[a[pair]]
    reversed_taste = (group_of[voter] == 2) & np.isin(ctx[pair], list(split_contexts))
    p_yes = np.where(better ^ reversed_taste, 0.8, 0.3)
    draw = rng.random(n_votes)
    answer = np.where(draw < p_yes, 0, np.where(draw < p_yes + (1 - p_yes) * 0.6, 1, 2))
    names = ("yes", "no", "unsure")
    rows = [
        (str(v), int(a[p]), int(b[p]), int(ctx[p]), names[k])
        for v, p, k in zip(voter.tolist(), pair.tolist(), answer.tolist())
    ]
    groups = {str(i): GROUPS[g] for i, g in enumerate(group_of.tolist())}
    weights = {str(i): float(w) for i, w in enumerate(weight_of.tolist())}
    return rows, groups, weights, split_contexts


def plain_cells(rows, Cell):
    sums: dict[tuple, list[int]] = {}
    index = {"yes": 0, "no": 1, "unsure": 2}
    for _, a, b, c, answer in rows:
        sums.setdefault((a, b, c), [0, 0, 0])[index[answer]] += 1
    return [Cell(a, b, c, *t) for (a, b, c), t in sorted(sums.items())]


def timed(out: dict, name: str, fn):
    started = time.perf_counter()
    result = fn()
    out[name] = time.perf_counter() - started
    return result


def edges_and_ranks(cells, contexts, params, aggregation):
    counts, pair_contexts = aggregation.pair_counts_and_contexts(cells)
    edges, _ = aggregation.decide_edges(counts, pair_contexts, params)
    kept = [e for e in edges if e.kept]
    aggregation.pagerank(kept, alpha=params.pagerank_alpha)
    scopes = {("context", str(c)): {c} for c in contexts}
    ranked = aggregation.rank_scopes(kept, scopes, params.pagerank_alpha)
    return kept, {name: ranked[(kind, name)] for kind, name in scopes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=50_000)
    parser.add_argument("--contexts", type=int, default=30)
    parser.add_argument("--participants", type=int, default=50_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=100, help="bootstrap samples (the split rule's intervals)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from graph import aggregation, aggregators, splits, weighting
    from graph.aggregation import Cell

    started = time.perf_counter()
    rows, groups, weights, planted = vote_rows(
        args.values, args.pairs, args.contexts, args.participants, args.votes, args.seed
    )
    print(
        f"participants={args.participants} votes={len(rows)} values={args.values} pairs={args.pairs} "
        f"contexts={args.contexts} samples={args.samples} planted split contexts={len(planted)} "
        f"(made in {time.perf_counter() - started:.1f} s)"
    )
    params = aggregation.Parameters(bootstrap_samples=args.samples)
    contexts = list(range(args.contexts))
    results = {}
    for kind in ("unweighted", "weighted"):
        t: dict[str, float] = {}
        if kind == "weighted":
            wv = timed(t, "weighting", lambda: weighting.weighted_votes(rows, [], weights))
            cells = wv.cells
        else:
            cells = timed(t, "cells", lambda: plain_cells(rows, Cell))
        kept, by_context = timed(t, "edges and ranks", lambda: edges_and_ranks(cells, contexts, params, aggregation))
        shares = timed(
            t,
            "cyclic shares",
            lambda: {
                str(c): aggregators.compare(cells, by_context[str(c)], contexts={c})["cyclic_share"] for c in contexts
            },
        )
        if kind == "weighted":
            by_group = timed(t, "group cells", lambda: weighting.weighted_votes_by_group(rows, [], weights, groups))
            group_cells = {g: v.cells for g, v in by_group.items()}
            resamplers = {g: v.resample for g, v in by_group.items()}
        else:
            split_rows: dict[str, list] = {}
            timed(t, "group cells", lambda: [split_rows.setdefault(groups[r[0]], []).append(r) for r in rows])
            started = time.perf_counter()
            group_cells = {g: plain_cells(r, Cell) for g, r in split_rows.items()}
            t["group cells"] += time.perf_counter() - started
            resamplers = None
        found = timed(
            t,
            "splits",
            lambda: splits.detect(
                group_cells,
                params,
                contexts,
                cyclic_shares=shares,
                pooled_winners={c: weighting.top({str(k): v for k, v in s.items()}) for c, s in by_context.items()},
                resamplers=resamplers,
                weighted=kind == "weighted",
            ),
        )
        split = found["context"]
        hits = {int(c) for c, s in split.items() if "group_difference" in s["reasons"]}
        results[kind] = (t, len(kept), len(split), len(hits & planted), len(hits - planted))
    for kind, (t, kept, n_split, planted_found, others) in results.items():
        stages = " ".join(f"{name}={seconds:.2f}s" for name, seconds in t.items())
        print(
            f"{kind:10s} {stages} total={sum(t.values()):.2f}s kept={kept} split contexts={n_split} "
            f"(groups differ: {planted_found} of {len(planted)} planted, {others} others)"
        )


if __name__ == "__main__":
    main()
