"""The study report's part on arms (issue 29): who each arm took in, how many
finished and where the others stopped, and, once each arm's votes make a
graph of their own, how far the arms' moral graphs agree.

Each arm's graph is the study's graph build run over that arm's participants
only (the others are passed to `graph_cells` as excluded; votes imported with
a published graph have no participant and count in every arm), with the
default parameters; nothing is stored. Two arms are compared by Kendall's τ
between their PageRank rankings over the values both graphs hold, and by the
share of the pairs both graphs keep an edge for whose edges point the same way.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from scipy.stats import kendalltau

from graph import aggregation
from graph import selectors as graph_selectors
from studies import steps
from studies.models import Participant, Step


def _arm_graph(study, pids: set, everyone: set, include_simulated: bool) -> dict:
    """PageRank scores and kept edge directions of the graph of `pids`' votes."""
    others = {str(p): "in another arm" for p in everyone - pids}
    cells, _ = graph_selectors.graph_cells(study, include_simulated=include_simulated, exclude=others)
    params = aggregation.Parameters()
    counts, pair_contexts = aggregation.pair_counts_and_contexts(cells)
    edges, _cycles = aggregation.decide_edges(counts, pair_contexts, params)
    kept = [e for e in edges if e.kept]
    in_edges = {v for e in kept for v in (e.source, e.target)}
    scores = aggregation.pagerank(kept, nodes=sorted(in_edges), alpha=params.pagerank_alpha) if kept else {}
    return {
        "scores": scores,
        "directions": {(min(e.source, e.target), max(e.source, e.target)): e.source for e in kept},
        "edges": len(kept),
    }


def compare_graphs(a: dict, b: dict) -> dict:
    """Kendall's τ over the values both graphs rank, and the share of shared
    pairs whose edges agree on direction (None where there is nothing to compare)."""
    common = sorted(set(a["scores"]) & set(b["scores"]))
    tau = None
    if len(common) >= 2:
        statistic = kendalltau([a["scores"][v] for v in common], [b["scores"][v] for v in common]).statistic
        tau = None if statistic != statistic else round(float(statistic), 3)  # NaN: one side all ties
    shared = set(a["directions"]) & set(b["directions"])
    same = sum(1 for pair in shared if a["directions"][pair] == b["directions"][pair])
    return {
        "values": len(common),
        "tau": tau,
        "shared_edges": len(shared),
        "same_direction_percent": round(100 * same / len(shared), 1) if shared else None,
    }


def arms_report(study, *, include_simulated: bool = False) -> dict | None:
    """Per-arm participants, completion and drop-off, and the arms' graphs
    compared; None for a study without arms."""
    arms = list(study.arms.order_by("id"))
    if not arms:
        return None
    people = list(
        Participant.objects.for_analysis(include_simulated)
        .filter(study=study, arm__isnull=False)
        .values_list("pk", "arm_id", "current_step")
    )
    everyone = {pk for pk, _, _ in people}
    order = [*steps.JOURNEY, *(s for s in Step.values if s not in steps.JOURNEY)]
    rows, graphs = [], {}
    for arm in arms:
        mine = [(pk, step) for pk, arm_id, step in people if arm_id == arm.pk]
        at = Counter(step for _, step in mine)
        completed = at.get(Step.COMPLETE, 0)
        graph = _arm_graph(study, {pk for pk, _ in mine}, everyone, include_simulated) if mine else None
        if graph and graph["edges"]:
            graphs[arm.name] = graph
        rows.append(
            {
                "arm": arm.name,
                "weight": arm.weight,
                "settings": arm.settings,
                "participants": len(mine),
                "completed": completed,
                "completion_percent": round(100 * completed / len(mine), 1) if mine else None,
                "stopped_at": [(steps.label(s), at[s]) for s in order if s != Step.COMPLETE and at.get(s)],
                "edges": graph["edges"] if graph else 0,
            }
        )
    comparisons = [{"arms": (x, y), **compare_graphs(graphs[x], graphs[y])} for x, y in combinations(graphs, 2)]
    return {
        "rows": rows,
        "comparisons": comparisons,
        "every_arm_has_a_graph": len(graphs) == len(arms),
    }
