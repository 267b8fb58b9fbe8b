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
        "coordination": coordination_table(snapshot),
    }


def coordination_table(snapshot, partners_shown: int = 5) -> dict | None:
    """The coordination detector's result stored with the snapshot: who was
    flagged, in which group, with their strongest pairs' evidence, and who
    this snapshot left out and why; None for snapshots built before it."""
    data = snapshot.scores.get("coordination")
    if data is None:
        return None
    excluded = {e["participant"]: e["reason"] for e in data.get("excluded", [])}
    flagged = [{**f, "group_number": f["group"] + 1, "excluded": f["participant"] in excluded,
                "partners": f["partners"][:partners_shown]}
               for f in sorted(data.get("flagged", []), key=lambda f: (f["group"], f["participant"]))]
    return {"flagged": flagged, "groups": len(data.get("groups", [])), "stats": data.get("stats", {}),
            "parameters": data.get("parameters", {}),
            "excluded": [{"participant": pid, "reason": why} for pid, why in sorted(excluded.items())],
            "compared_to": data.get("compared_to")}


def _positions(scores: dict) -> dict[str, int]:
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], int(kv[0])))
    return {vid: i + 1 for i, (vid, _) in enumerate(ordered)}


def winners_diff(before, after, top: int = 3) -> list[dict]:
    """How the winners moved between two snapshots (everyone's votes, then
    without the flagged): for the whole graph and each scenario, the values
    in the top `top` of either, with their position in each (None: not
    ranked) and whether the first place changed hands."""
    titles = scenario_titles(after.study)
    blocks = [("the whole graph", before.scores.get("global", {}), after.scores.get("global", {}))]
    blocks += [(titles.get(sid, f"scenario {sid}"), before.scores.get("scenario", {}).get(sid, {}),
                after.scores.get("scenario", {}).get(sid, {})) for sid in sorted(
        set(before.scores.get("scenario", {})) | set(after.scores.get("scenario", {})), key=int)]
    out = []
    for title, old, new in blocks:
        was, now = _positions(old), _positions(new)
        ids = sorted({v for v, p in was.items() if p <= top} | {v for v, p in now.items() if p <= top},
                     key=lambda v: (now.get(v, 10**9), was.get(v, 10**9), int(v)))
        first_before = next((v for v, p in was.items() if p == 1), None)
        first_after = next((v for v, p in now.items() if p == 1), None)
        out.append({"title": title, "winner_changed": first_before != first_after,
                    "rows": [{"id": int(v), "title": value_title(after, v), "before": was.get(v), "after": now.get(v),
                              "moved": None if was.get(v) is None or now.get(v) is None else was[v] - now[v]}
                             for v in ids]})
    return out


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
