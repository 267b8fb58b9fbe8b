"""Split scopes (issue 28; paper 6.3: a split graph should "diverge into
different personalized models"). Pure functions, no database.

A moral context is **split** when
- its votes are too cyclic to read as one order: HodgeRank's cyclic share in
  the context (graph/aggregators.py) is above `CYCLIC_SHARE_THRESHOLD`; or
- its groups disagree beyond their intervals: two groups (of the bridging
  attribute, U.S. political affiliation by default) whose winners in the
  context differ, each group's winner ranked by the other group with a
  bootstrap rank interval wholly worse than its interval in its own group
  (the two intervals do not overlap).

Each group counts in a context when it cast at least `MIN_GROUP_VOTES`
votes there and its own graph ranks a value there; "unknown" (no
demographics) never counts. Each group's graph is built from its votes alone
with the build's rules (as bridging builds it), ranked within the context,
and its rank intervals come from the same bootstrap as the pooled graph's
(resampling the group's participants by weight in a weighted build).

The snapshot stores the split contexts only, each with why, the cyclic
share, the pooled winner and the winners per group with their intervals;
the playground and the training-data export then use the winners per group
there ("contested here: wise values by group"), not the one pooled winner.
"""

from __future__ import annotations

from graph import aggregation
from graph.aggregation import Cell, Parameters

CYCLIC_SHARE_THRESHOLD = 0.3
MIN_GROUP_VOTES = 5
UNKNOWN = "unknown"
REASONS = ("cyclic_share", "group_difference")
REASON_TEXT = {
    "cyclic_share": "too cyclic: the votes here read as no one order",
    "group_difference": "groups differ: their winners differ beyond their rank intervals",
}
CONTESTED_TEXT = "Contested here: wise values by group"


def group_context_ranks(
    cells: list[Cell], params: Parameters, contexts: list[int], resample=None
) -> dict[int, dict[str, dict]]:
    """One group's graph ranked within each context: {context: {value id (str):
    {"position", "score", "rank_low", "rank_high"}}}, the intervals None when
    the build takes no bootstrap samples."""
    result = aggregation.build(cells, params)
    intervals = aggregation.bootstrap_by_context(cells, params, contexts=contexts, full=result, resample=resample)
    out: dict[int, dict[str, dict]] = {}
    for cid in contexts:
        scores = aggregation.rank_subset(result, {cid}, params.pagerank_alpha)
        if not scores:
            continue
        pos = aggregation.positions(scores)
        within = intervals.get(cid, {})
        out[cid] = {
            str(v): {
                "position": pos[v],
                "score": round(scores[v], 8),
                "rank_low": (within.get(v) or {}).get("rank_low"),
                "rank_high": (within.get(v) or {}).get("rank_high"),
            }
            for v in scores
        }
    return out


def votes_per_context(cells: list[Cell]) -> dict[int, float]:
    out: dict[int, float] = {}
    for c in cells:
        out[c.context] = out.get(c.context, 0) + c.yes + c.no + c.unsure
    return out


def _winner(ranked: dict[str, dict]) -> str | None:
    first = [v for v, r in ranked.items() if r["position"] == 1]
    return min(first, key=int) if first else None


def _beyond(own: dict[str, dict], other: dict[str, dict], value: str) -> bool:
    """Whether `value`'s rank interval in the other group lies wholly below
    (worse than) its interval in its own group: the intervals do not overlap."""
    mine, theirs = own.get(value), other.get(value)
    if mine is None or theirs is None or mine["rank_high"] is None or theirs["rank_low"] is None:
        return False
    return theirs["rank_low"] > mine["rank_high"]


def differ(a: dict[str, dict], b: dict[str, dict]) -> bool:
    """Whether two groups' winners differ beyond their intervals (see the module)."""
    wa, wb = _winner(a), _winner(b)
    return wa is not None and wb is not None and wa != wb and _beyond(a, b, wa) and _beyond(b, a, wb)


def detect(
    group_cells: dict[str, list[Cell]],
    params: Parameters,
    contexts: list[int],
    *,
    cyclic_shares: dict[str, float] | None = None,
    pooled_winners: dict[str, str | None] | None = None,
    resamplers: dict | None = None,
    attribute: str = "",
    threshold: float = CYCLIC_SHARE_THRESHOLD,
    min_group_votes: float = MIN_GROUP_VOTES,
    weighted: bool = False,
) -> dict:
    """JSON-ready: the rule's settings and {"context": {context id (str):
    split}} for the split contexts. `cyclic_shares` and `pooled_winners` are
    the pooled build's, per context id (str); `resamplers`: per group, the
    weighted bootstrap's resample (graph/weighting.py)."""
    shares = cyclic_shares or {}
    pooled = pooled_winners or {}
    contexts = sorted(int(c) for c in contexts)
    groups = sorted((g for g in group_cells if g != UNKNOWN), key=str.lower)
    ranks, votes = {}, {}
    for g in groups:
        votes[g] = votes_per_context(group_cells[g])
        wanted = [c for c in contexts if votes[g].get(c, 0) >= min_group_votes]
        ranks[g] = group_context_ranks(group_cells[g], params, wanted, (resamplers or {}).get(g)) if wanted else {}
    split: dict[str, dict] = {}
    for cid in contexts:
        here = {g: ranks[g][cid] for g in groups if cid in ranks[g]}
        reasons = []
        share = shares.get(str(cid))
        if share is not None and share > threshold:
            reasons.append("cyclic_share")
        names = list(here)
        if any(differ(here[a], here[b]) for i, a in enumerate(names) for b in names[i + 1 :]):
            reasons.append("group_difference")
        if not reasons:
            continue
        rows = []
        for g in names:
            w = _winner(here[g])
            r = here[g][w] if w is not None else {}
            rows.append(
                {
                    "group": g,
                    "winner": int(w) if w is not None else None,
                    "score": r.get("score"),
                    "rank_low": r.get("rank_low"),
                    "rank_high": r.get("rank_high"),
                    "votes": round(votes[g].get(cid, 0), 6),
                }
            )
        pooled_winner = pooled.get(str(cid))
        split[str(cid)] = {
            "reasons": reasons,
            "cyclic_share": share,
            "pooled_winner": int(pooled_winner) if pooled_winner is not None else None,
            "groups": rows,
        }
    return {
        "attribute": attribute,
        "cyclic_share_threshold": threshold,
        "min_group_votes": min_group_votes,
        "weighted": weighted,
        "context": split,
    }


def split_context(snapshot, context_id) -> dict | None:
    """The snapshot's split of a context, or None (not split, or built before splits were looked for)."""
    return ((snapshot.scores or {}).get("splits") or {}).get("context", {}).get(str(context_id))


def group_winners(snapshot, context_id) -> list[dict]:
    """In a split context with at least two groups that have a winner, those
    winners ({"group", "winner", ...}); otherwise empty: the one pooled winner stands."""
    split = split_context(snapshot, context_id)
    rows = [r for r in (split or {}).get("groups", []) if r.get("winner") is not None]
    return rows if len(rows) >= 2 else []
