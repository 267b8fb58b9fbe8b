"""What a coordinator reads off a snapshot: winners per scenario with how
stable they are, and every dropped edge with its reason. Pure over the
snapshot's stored JSON, so an old snapshot reads as it was built."""

from __future__ import annotations

from graph.explorer import edge_rows, value_title, winners


def snapshot_report(snapshot) -> dict:
    return {
        "winners": winners(snapshot),
        "kept_edges": edge_rows(snapshot, kept=True),
        "dropped_edges": edge_rows(snapshot, kept=False),
        "cycles_named": [[value_title(snapshot, v) for v in cycle] for cycle in snapshot.cycles],
    }
