"""What a coordinator reads off a snapshot: winners per scenario with how
stable they are, and every dropped edge with its reason. Pure over the
snapshot's stored JSON, so an old snapshot reads as it was built."""

from __future__ import annotations

from graph.aggregation import REASONS


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
    from graph.explorer import winners

    return {
        "winners": winners(snapshot),
        "kept_edges": edge_rows(snapshot, kept=True),
        "dropped_edges": edge_rows(snapshot, kept=False),
        "cycles_named": [[_title(snapshot, v) for v in cycle] for cycle in snapshot.cycles],
    }
