"""What a coordinator reads off a snapshot: winners per scenario with how
stable they are, and every dropped edge with its reason. Pure over the
snapshot's stored JSON, so an old snapshot reads as it was built."""

from __future__ import annotations

from graph.aggregation import CYCLE_POLICY_TEXT
from graph.explorer import edge_rows, scenario_titles, value_title, winners


def snapshot_report(snapshot) -> dict:
    policy = (snapshot.parameters or {}).get("cycle_policy", "drop")   # older snapshots dropped cycles
    return {
        "winners": winners(snapshot),
        "kept_edges": edge_rows(snapshot, kept=True),
        "dropped_edges": edge_rows(snapshot, kept=False),
        "cycle_policy": CYCLE_POLICY_TEXT.get(policy, policy),
        "aggregators": aggregator_tables(snapshot),
        "cycles_named": [[value_title(snapshot, v) for v in cycle] for cycle in snapshot.cycles],
    }


METHOD_NAMES = {"pagerank": "PageRank (moral graph)", "direct_votes": "direct votes (wiser votes received)",
                "bradley_terry": "Bradley–Terry", "rank_centrality": "Rank Centrality", "hodgerank": "HodgeRank"}


def _block(snapshot, data: dict, top: int) -> dict:
    rows = []
    for method, scores in data.get("scores", {}).items():
        ordered = sorted(scores.items(), key=lambda kv: (-kv[1], int(kv[0])))[:top]
        tau = None if method == "pagerank" else data.get("tau", {}).get(f"pagerank|{method}")
        rows.append({"method": METHOD_NAMES.get(method, method), "tau": tau,
                     "top": [value_title(snapshot, vid) for vid, _ in ordered]})
    return {"rows": rows, "cyclic_share": data.get("cyclic_share"), "k": data.get("k"),
            "robust": [value_title(snapshot, str(v)) for v in data.get("robust_winners", [])]}


def aggregator_tables(snapshot, top: int = 3) -> dict | None:
    """The other aggregators' top values, τ against PageRank, HodgeRank's
    cyclic share and the robust winners, whole graph and per scenario;
    None for snapshots built before they were computed."""
    data = snapshot.scores.get("aggregators")
    if not data:
        return None
    titles = scenario_titles(snapshot.study)
    return {"global": _block(snapshot, data.get("global", {}), top),
            "scenarios": [{"title": titles.get(sid, f"scenario {sid}"), **_block(snapshot, block, top)}
                          for sid, block in data.get("scenario", {}).items()]}
