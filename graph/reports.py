"""What a coordinator reads off a snapshot: winners per scenario with how
stable they are, and every dropped edge with its reason. Pure over the
snapshot's stored JSON, so an old snapshot reads as it was built."""

from __future__ import annotations

from graph.aggregation import REASONS

TOP = 3


def winners(snapshot, top: int = TOP) -> list[dict]:
    from interviews.models import Scenario

    scenario_titles = dict(Scenario.objects.filter(pk__in=[int(s) for s in snapshot.scores.get("scenario", {})])
                           .values_list("pk", "title"))
    out = []
    for scenario_id, scores in sorted(snapshot.scores.get("scenario", {}).items(), key=lambda kv: int(kv[0])):
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], int(kv[0])))[:top]
        out.append({"scenario": scenario_titles.get(int(scenario_id), f"scenario {scenario_id}"),
                    "values": [_value_row(snapshot, vid, score) for vid, score in ranked]})
    return out


def _value_row(snapshot, vid: str, score: float) -> dict:
    value = snapshot.values.get(vid, {})
    b = snapshot.bootstrap.get(vid)
    return {"id": int(vid), "title": value.get("title", f"value {vid}"), "description": value.get("description", ""),
            "score": score, "interval": b, "stable": bool(b) and (b["rank_low"] == b["rank_high"] == 1
                                                              or b.get("top_share", 0) >= 0.9)}


def _title(snapshot, vid) -> str:
    return snapshot.values.get(str(vid), {}).get("title", f"value {vid}")


def edge_rows(snapshot, *, kept: bool) -> list[dict]:
    rows = []
    for e in snapshot.edges:
        if e["kept"] is kept:
            rows.append({**e, "source_title": _title(snapshot, e["source"]), "target_title": _title(snapshot, e["target"]),
                         "reason_text": REASONS.get(e["reason"], e["reason"]),
                         "contexts_text": [snapshot.contexts.get(str(c), {}).get("text", str(c)) for c in e["contexts"]]})
    return sorted(rows, key=lambda r: (r["reason"], -r["counts"]["wiser"], r["source"], r["target"]))


def snapshot_report(snapshot) -> dict:
    top_global = sorted(snapshot.scores.get("global", {}).items(), key=lambda kv: (-kv[1], int(kv[0])))[:10]
    return {
        "winners": winners(snapshot),
        "top_global": [_value_row(snapshot, vid, score) for vid, score in top_global],
        "kept_edges": edge_rows(snapshot, kept=True),
        "dropped_edges": edge_rows(snapshot, kept=False),
        "cycles_named": [[_title(snapshot, v) for v in cycle] for cycle in snapshot.cycles],
    }
