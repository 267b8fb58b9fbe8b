"""Bridging across groups (Community Notes' idea, checked on the moral
graph): does an edge hold within more than one group of participants, or
only because one group carried it? Pure functions, no database.

Participants are grouped by one attribute of Prolific's demographic export
(U.S. political affiliation by default). For every kept edge of a build
and every group, the group's own votes on the pair give its counts,
wiser-likelihood and entropy, checked against the build's thresholds
(min wiser, min likelihood, max entropy). An edge is **bridging** when it
passes within at least two groups that each cast at least `min_votes` votes
on it; **one-sided** when exactly one such group passes it; otherwise it
is kept only on the pooled votes ("no group alone"). Participants without
demographics (and imported, anonymous votes) form the group "unknown",
which is reported but never makes an edge bridging or one-sided.

Each group also gets its own moral graph (its votes alone, the build's
rules), with PageRank and winners per scenario.
"""

from __future__ import annotations

from graph import aggregation
from graph.aggregation import Cell, Parameters
from studies import demographics

# The column of Prolific's demographic export for the "U.S. political
# affiliation" screener (answers Democrat, Republican, Independent, Other,
# No preference).
DEFAULT_ATTRIBUTE = "U.s. political affiliation"
DEFAULT_MIN_VOTES = 3
UNKNOWN = "unknown"
# Prolific's placeholders for an answer it no longer has or never had.
NO_ANSWER = demographics.PLACEHOLDERS
KINDS = ("bridging", "one_sided", "no_group_alone")
KIND_TEXT = {
    "bridging": "bridging (holds within two or more groups)",
    "one_sided": "one-sided (holds within one group only)",
    "no_group_alone": "no group alone (holds only on the pooled votes)",
}
TOP = 3


def normalise_key(name: str) -> str:
    return " ".join(str(name).lower().split())


def find_key(keys, attribute: str) -> str | None:
    """The demographic column meaning `attribute`: exact, else ignoring case
    and repeated spaces; None when no participant has it."""
    keys = list(keys)
    if attribute in keys:
        return attribute
    wanted = normalise_key(attribute)
    return next((k for k in sorted(keys) if normalise_key(k) == wanted), None)


def group_of(answer) -> str:
    """A participant's group from their answer; no answer is "unknown"."""
    text = demographics.clean(answer)
    return UNKNOWN if text is None else text


def _group_order(groups) -> list[str]:
    return sorted((g for g in groups if g != UNKNOWN), key=str.lower) + ([UNKNOWN] if UNKNOWN in groups else [])


def edge_in_group(counts: aggregation.Counts, params: Parameters, min_votes: int) -> dict:
    """One group's view of an edge: its votes, likelihood and entropy, whether
    it cast enough votes to count and whether the edge passes the build's
    thresholds within it."""
    like = aggregation.likelihood(counts)
    ent = aggregation.entropy(counts, params.entropy_over)
    reason = aggregation._threshold_reason(counts, like, ent, params)
    return {
        "votes": _count(counts.votes),
        "wiser": _count(counts.wiser),
        "less_wise": _count(counts.less_wise),
        "likelihood": round(like, 6),
        "entropy": round(ent, 6),
        "enough_votes": counts.votes >= min_votes,
        "passes": counts.votes > 0 and not reason,
        "fails_because": reason if counts.votes else "no_votes",
    }


def _count(n):
    """A count as stored: an int, or a sum of survey weights rounded (weighted builds)."""
    return round(n, 4) if isinstance(n, float) else n


def classify(groups: dict[str, dict]) -> tuple[str, list[str]]:
    """(kind, groups it passes in that count): unknown never counts."""
    passing = [g for g, row in groups.items() if g != UNKNOWN and row["enough_votes"] and row["passes"]]
    if len(passing) >= 2:
        return "bridging", passing
    return ("one_sided" if passing else "no_group_alone"), passing


def edge_table(
    group_cells: dict[str, list[Cell]], edges, params: Parameters, min_votes: int = DEFAULT_MIN_VOTES
) -> list[dict]:
    """Per edge (source → target, the wiser value), per group: counts and
    verdict, and the edge's kind (KINDS). `edges` are the kept edges of the
    pooled build (aggregation.Edge or their dicts)."""
    by_group = {g: aggregation.pair_counts(cells) for g, cells in group_cells.items()}
    order = _group_order(by_group)
    rows = []
    for e in edges:
        source, target = (e["source"], e["target"]) if isinstance(e, dict) else (e.source, e.target)
        groups = {}
        for g in order:
            counts = by_group[g].get((source, target))
            if counts is None:  # the group never saw this direction; its yes votes on the reverse still count
                reverse = by_group[g].get((target, source))
                counts = aggregation.Counts(less_wise=reverse.wiser if reverse else 0)
            groups[g] = edge_in_group(counts, params, min_votes)
        kind, passing = classify(groups)
        rows.append({"source": source, "target": target, "kind": kind, "passing_groups": passing, "groups": groups})
    return rows


def group_graphs(
    group_cells: dict[str, list[Cell]], params: Parameters, scenario_contexts: dict[str, set[int]], top: int = TOP
) -> dict[str, dict]:
    """Each group's own moral graph (its votes, the build's rules): PageRank
    over the whole graph and per scenario, and the top values per scenario."""
    out = {}
    for g in _group_order(group_cells):
        result = aggregation.build(group_cells[g], params)
        scenario = {
            sid: aggregation.rank_subset(result, ids, params.pagerank_alpha)
            for sid, ids in sorted(scenario_contexts.items())
        }
        out[g] = {
            "edges_kept": len(result.kept()),
            "pagerank": {str(k): round(v, 8) for k, v in result.scores.items()},
            "scenario": {sid: {str(k): round(v, 8) for k, v in s.items()} for sid, s in scenario.items()},
            "winners": {"global": _top(result.scores, top), **{sid: _top(s, top) for sid, s in scenario.items()}},
        }
    return out


def _top(scores: dict[int, float], k: int) -> list[int]:
    pos = aggregation.positions(scores)
    return sorted((n for n, p in pos.items() if p <= k), key=lambda n: pos[n])


def bridging(
    group_cells: dict[str, list[Cell]],
    edges,
    params: Parameters,
    *,
    attribute: str,
    scenario_contexts: dict[str, set[int]],
    participants: dict[str, int] | None = None,
    min_votes: int = DEFAULT_MIN_VOTES,
    column: str | None = None,
    top: int = TOP,
    weighted: bool = False,
) -> dict:
    """JSON-ready: the settings, each group's size, the edge table, counts of
    each kind, and each group's PageRank and winners. `weighted`: the cells
    hold sums of survey weights (a weighted build), so every count, threshold
    and group graph here is weighted, as the pooled build's are."""
    table = edge_table(group_cells, edges, params, min_votes)
    kinds = {k: sum(1 for r in table if r["kind"] == k) for k in KINDS}
    votes = {g: _count(sum(c.yes + c.no + c.unsure for c in cells)) for g, cells in group_cells.items()}
    order = _group_order(set(group_cells) | set(participants or {}))
    return {
        "attribute": attribute,
        "column": column,
        "min_votes": min_votes,
        "weighted": weighted,
        "groups": [
            {"name": g, "participants": (participants or {}).get(g, 0), "votes": votes.get(g, 0)} for g in order
        ],
        "kinds": kinds,
        "edges": table,
        "group_graphs": group_graphs(group_cells, params, scenario_contexts, top),
    }
