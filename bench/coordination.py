#!/usr/bin/env python3
"""How the coordinated-voting detector (graph/coordination.py) scales with
participants, on synthetic votes (no database): honest participants answer
`--per` stories each with realistic disagreement (graph.coordination.
synthetic_votes), plus a bloc of `--bloc` of them voting every story
touching one value its way, within seconds of each other.

Two regimes, as the detector's cost is Σ over stories of (answers on it)²:
- `fixed`: the number of stories stays at `--stories` while participants
  grow (every story gets more answers: quadratic in participants);
- `growing`: `--stories-per-1k` stories per 1,000 participants (a study
  whose values, and so stories, grow with it: about linear).

    .venv/bin/python bench/coordination.py --participants 1000,10000,100000
    .venv/bin/python bench/coordination.py --participants 1000,10000 --regimes fixed --stories 400

Prints, per size: votes, stories, pairs tested (sharing ≥ min_shared
stories; estimated when candidates are used), which pairs were tested
(`all`, or `lsh` candidates, graph/candidates.py) and how many, seconds to
generate and to detect, the detector's rounds, and precision/recall against
the planted bloc. `--candidates all,lsh` runs both on the same votes (A
against B in one run); the default, `auto`, is what a build does.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.coordination import DetectionParameters, detect, precision_recall, synthetic_votes


def values_for(stories: int, contexts: int = 3) -> int:
    """Enough values that ordered pairs × contexts cover the stories."""
    return max(12, math.ceil((1 + math.sqrt(1 + 4 * stories / contexts)) / 2) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", default="1000,10000,100000")
    parser.add_argument("--regimes", default="growing,fixed")
    parser.add_argument("--stories", type=int, default=400, help="stories in the fixed regime")
    parser.add_argument("--stories-per-1k", type=int, default=400, help="stories per 1,000 participants (growing)")
    parser.add_argument("--per", type=int, default=10, help="stories each honest participant answers")
    parser.add_argument("--bloc", type=float, default=0.01, help="bloc share of the participants")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidates", default="auto", help="comma-separated: all, lsh, auto")
    args = parser.parse_args()
    print(
        "regime   participants   votes      stories  pairs tested  tested by  candidates  generate s  detect s  "
        "rounds  flagged  precision  recall  max RSS MB"
    )
    for regime in args.regimes.split(","):
        for n in (int(x) for x in args.participants.split(",")):
            stories = args.stories if regime == "fixed" else max(120, n * args.stories_per_1k // 1000)
            started = time.perf_counter()
            votes, groups, bloc = synthetic_votes(
                n,
                bloc_share=args.bloc,
                items=stories,
                values=values_for(stories),
                per_participant=args.per,
                seed=args.seed,
            )
            generated = time.perf_counter() - started
            for mode in args.candidates.split(","):
                started = time.perf_counter()
                detection = detect(votes, groups, DetectionParameters(candidates=mode))
                took = time.perf_counter() - started
                precision, recall = precision_recall(detection.flagged_ids, bloc)
                # the process's peak so far: run the larger sizes after the smaller, as the default does
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                stats = detection.stats
                print(
                    f"{regime:<8} {n:>12,} {len(votes):>10,} {stories:>8,} {stats['pairs_tested']:>13,} "
                    f"{stats['candidates']:>10} {stats['candidate_pairs']:>11,} "
                    f"{generated:>10.1f} {took:>9.2f} {stats['rounds']:>7} {len(detection.flagged):>8} "
                    f"{'–' if precision is None else f'{precision:.2f}':>10} "
                    f"{'–' if recall is None else f'{recall:.2f}':>7} {rss:>11.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
