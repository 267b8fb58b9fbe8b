"""What the snapshot page and the study report show of a weighted snapshot:
the first value of each scope with and without the survey weights, whether
they differ, and how representative the voters behind the kept edges are.
Pure over the snapshot's stored JSON (scores["weighting"], weighting)."""

from __future__ import annotations

from graph.explorer import scenario_titles, value_title


def weighting_report(snapshot) -> dict | None:
    """None for an unweighted snapshot."""
    stored = (snapshot.scores or {}).get("weighting")
    if snapshot.weighting_run_id is None or not stored:
        return None
    scenarios = scenario_titles(snapshot.study)

    def scope_title(row):
        if row["scope"] == "global":
            return "the whole graph"
        if row["scope"] == "scenario":
            return scenarios.get(row["id"], f"scenario {row['id']}")
        return (snapshot.contexts.get(row["id"]) or {}).get("text", f"context {row['id']}")

    def named(vid):
        return None if vid is None else {"id": int(vid), "title": value_title(snapshot, vid)}

    rows = [
        {
            "scope": row["scope"],
            "title": scope_title(row),
            "weighted": named(row["weighted"]),
            "unweighted": named(row["unweighted"]),
            "differ": row["differ"],
        }
        for row in stored.get("winners", [])
    ]
    figures = stored.get("kept_edge_voters") or {}
    attributes = [
        {
            "attribute": attribute,
            "tvd": (figures.get("tvd") or {}).get(attribute),
            "tvd_weighted": (figures.get("tvd_weighted") or {}).get(attribute),
            "categories": [{"category": c, **shares} for c, shares in categories.items()],
        }
        for attribute, categories in (figures.get("attributes") or {}).items()
    ]
    record = snapshot.weighting or {}
    return {
        "snapshot": snapshot,
        "run": snapshot.weighting_run_id,
        "record": record,
        "left_out": record.get("left_out", {}),
        "rows": rows,
        "context_rows": [r for r in rows if r["scope"] == "context"],
        "differing": sum(1 for r in rows if r["differ"]),
        "contexts_differing": sum(1 for r in rows if r["differ"] and r["scope"] == "context"),
        "figures": figures,
        "attributes": attributes,
    }
