"""The moral graph with survey weights (issue 28): each vote and impression
counts with its participant's weight from a weighting run
(`studies.weighting.Weighting`, read from the `weights` app by the base layer's
registry). Pure functions over plain rows; the rows come from
`graph.selectors.weighted_vote_rows`.

- A weighted cell holds the sums of its voters' weights per answer, and of its
  viewers' weights for impressions, as floats (`aggregation._weighted` tells
  the two kinds apart by that), so the likelihood, entropy and threshold
  rules, the two-way and cycle rules, PageRank and the other aggregators all
  read weighted counts. With every weight 1 the sums are the integer counts as
  floats, and the graph is the unweighted one.
- Participants the run gave no weight (the run's `missing_policy`,
  "left_out": a missing attribute, so no raking cell) and imported votes (no
  participant) are left out, and counted in `left_out`.
- The bootstrap resamples participants, not answers: each sample draws as many
  participants as voted, with replacement and with probability proportional
  to their weight, and each draw counts the mean weight, so a sample's counts
  are on the scale of the weighted counts; impressions stay as observed, as in
  the unweighted bootstrap. See docs/robustness.md for why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph.aggregation import ANSWERS, Cell

BOOTSTRAP_METHOD = (
    "participants resampled with replacement, with probability proportional to their weight; "
    "each draw counts the voters' mean weight"
)


@dataclass
class WeightedVotes:
    """Weighted cells (usable: no self-pair, none empty; sorted) and what the
    bootstrap needs: each weighted voter's answers per cell (`answers`, voters
    × cells × 3) and weight."""

    cells: list[Cell]
    voters: list[str]
    weights: np.ndarray
    answers: Any  # scipy.sparse csr array, voters × (cells · 3)
    pair_voters: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    left_out: dict = field(default_factory=dict)

    def resample(self, rng) -> np.ndarray:
        """One bootstrap sample's (yes, no, unsure) per cell."""
        n = len(self.voters)
        if not n:
            return np.zeros((len(self.cells), 3))
        total = float(self.weights.sum())
        times = rng.multinomial(n, self.weights / total) * (total / n)
        return np.asarray(self.answers.T @ times, dtype=float).reshape(-1, 3)

    def voters_behind(self, edges) -> list[str]:
        """The weighted participants who answered on the pairs of `edges`
        (either direction: a "wiser" on the reverse story counts as "less wise")."""
        out: set[str] = set()
        for e in edges:
            out |= self.pair_voters.get((e.source, e.target), set())
            out |= self.pair_voters.get((e.target, e.source), set())
        return sorted(out)


def weighted_votes(vote_rows, impression_rows, weights, live=None, archived=()) -> WeightedVotes:
    """From vote rows (participant id or None, from value, to value, context,
    answer) and impression rows (participant id or None, from, to, context,
    count): the weighted cells and voters. `weights`: {participant id (str):
    weight}; `live`: {value id: the value it lives on in} (merged values);
    `archived` values are left out, as are self-pairs."""
    from scipy.sparse import csr_array

    live = live or {}
    archived = set(archived)
    unweighted: set[str] = set()
    kinds = ("unweighted_votes", "unweighted_impressions", "imported_votes", "imported_impressions")
    left_out = dict.fromkeys(kinds, 0)

    def key_of(a, b, context):
        a, b = live.get(a, a), live.get(b, b)
        if a == b or a in archived or b in archived:
            return None
        return a, b, context

    sums: dict[tuple, list[float]] = {}
    entries: list[tuple[str, tuple, int]] = []
    for pid, a, b, context, answer in vote_rows:
        key = key_of(a, b, context)
        if key is None:
            continue
        if pid is None:
            left_out["imported_votes"] += 1
            continue
        w = weights.get(str(pid))
        if w is None:
            unweighted.add(str(pid))
            left_out["unweighted_votes"] += 1
            continue
        k = ANSWERS.index(answer)
        sums.setdefault(key, [0.0, 0.0, 0.0, 0.0])[k] += w
        entries.append((str(pid), key, k))
    for pid, a, b, context, count in impression_rows:
        key = key_of(a, b, context)
        if key is None:
            continue
        if pid is None:
            left_out["imported_impressions"] += int(count)
            continue
        w = weights.get(str(pid))
        if w is None:
            unweighted.add(str(pid))
            left_out["unweighted_impressions"] += int(count)
            continue
        sums.setdefault(key, [0.0, 0.0, 0.0, 0.0])[3] += w * int(count)
    keys = sorted(k for k, t in sums.items() if any(t))
    cells = [Cell(*key, *sums[key]) for key in keys]  # yes, no, unsure, impressions
    column = {k: i for i, k in enumerate(keys)}
    voters = sorted({pid for pid, _, _ in entries})
    row = {pid: i for i, pid in enumerate(voters)}
    pair_voters: dict[tuple[int, int], set[str]] = {}
    for pid, key, _ in entries:
        pair_voters.setdefault(key[:2], set()).add(pid)
    answers = csr_array(
        (
            np.ones(len(entries)),
            (
                np.array([row[pid] for pid, _, _ in entries], dtype=np.int64),
                np.array([column[key] * 3 + k for _, key, k in entries], dtype=np.int64),
            ),
        ),
        shape=(len(voters), len(keys) * 3),
    )
    left_out = {"unweighted_participants": len(unweighted), **left_out}
    return WeightedVotes(
        cells=cells,
        voters=voters,
        weights=np.array([weights[pid] for pid in voters], dtype=float),
        answers=answers,
        pair_voters=pair_voters,
        left_out=left_out,
    )


def weighted_votes_by_group(
    vote_rows, impression_rows, weights, groups: dict[str, str], live=None, archived=(), unknown: str = "unknown"
) -> dict[str, WeightedVotes]:
    """`weighted_votes` for each group of participants (`groups`: {participant
    id: group}; anyone not in it, and imported votes, are `unknown`): the
    weighted bridging groups, each with its own cells and resampler."""
    votes: dict[str, list] = {}
    impressions: dict[str, list] = {}
    for row in vote_rows:
        votes.setdefault(groups.get(str(row[0]), unknown) if row[0] is not None else unknown, []).append(row)
    for row in impression_rows:
        impressions.setdefault(groups.get(str(row[0]), unknown) if row[0] is not None else unknown, []).append(row)
    return {
        g: weighted_votes(votes.get(g, []), impressions.get(g, []), weights, live, archived)
        for g in sorted(set(votes) | set(impressions))
    }


def top(scores: dict) -> str | None:
    """The first value of a scope's scores (ties: the smaller id); None when nothing is ranked."""
    if not scores:
        return None
    return min(scores.items(), key=lambda kv: (-kv[1], int(kv[0])))[0]


def winners(weighted: dict, unweighted: dict) -> list[dict]:
    """Per scope (the whole graph, each scenario, each context): the top value
    with the weights and without them, and whether they differ. Both
    arguments are {"global": scores, "scenario": {id: scores}, "context": {id: scores}}."""
    out: list[dict[str, Any]] = [
        {
            "scope": "global",
            "id": None,
            "weighted": top(weighted.get("global", {})),
            "unweighted": top(unweighted.get("global", {})),
        }
    ]
    for scope in ("scenario", "context"):
        ids = set(weighted.get(scope, {})) | set(unweighted.get(scope, {}))
        for sid in sorted(ids, key=int):
            out.append(
                {
                    "scope": scope,
                    "id": sid,
                    "weighted": top(weighted.get(scope, {}).get(sid, {})),
                    "unweighted": top(unweighted.get(scope, {}).get(sid, {})),
                }
            )
    for row in out:
        row["differ"] = row["weighted"] != row["unweighted"]
    return out
