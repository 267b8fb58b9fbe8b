"""What a coordinator reads off a snapshot: winners per scenario with how
stable they are, every dropped edge with its reason, and how robust the
result is (other aggregators, other cycle policies, bridging across
groups). Pure over the snapshot's stored JSON, so an old snapshot reads as
it was built; the other cycle policies are rebuilt here from the
snapshot's own pair counts."""

from __future__ import annotations

from dataclasses import fields

from graph import aggregation, aggregators, bridging
from graph.aggregation import CYCLE_POLICIES, CYCLE_POLICY_TEXT
from graph.explorer import (
    TOO_FEW_VOTES,
    edge_rows,
    min_votes,
    scenario_titles,
    skipped_text,
    value_title,
    value_votes,
    winners,
)
from mgeplatform import charts


def snapshot_report(snapshot) -> dict:
    policy = (snapshot.parameters or {}).get("cycle_policy", "drop")  # older snapshots dropped cycles
    return {
        "winners": winners(snapshot),
        "kept_edges": edge_rows(snapshot, kept=True),
        "dropped_edges": edge_rows(snapshot, kept=False),
        "cycle_policy": CYCLE_POLICY_TEXT.get(policy, policy),
        "aggregators": aggregator_tables(snapshot),
        "cycles_named": [[value_title(snapshot, v) for v in cycle] for cycle in snapshot.cycles],
        "robustness": robustness_report(snapshot),
        "coordination": coordination_table(snapshot),
        "skipped": skipped_text(snapshot),
    }


def robustness_report(snapshot) -> dict:
    """Everything the robustness section of the snapshot page and the study
    report shows: the aggregators, the cycle policies, bridging."""
    policy = (snapshot.parameters or {}).get("cycle_policy", "drop")
    return {
        "snapshot": snapshot,
        "cycle_policy": policy,
        "cycle_policy_text": CYCLE_POLICY_TEXT.get(policy, policy),
        "aggregators": aggregator_tables(snapshot),
        "policies": policy_tables(snapshot),
        "bridging": bridging_tables(snapshot),
        "skipped": skipped_text(snapshot),
    }


def coordination_table(snapshot, partners_shown: int = 5) -> dict | None:
    """The coordination detector's result stored with the snapshot: who was
    flagged, in which group, with their strongest pairs' evidence, and who
    this snapshot left out and why; None for snapshots built before it."""
    data = snapshot.scores.get("coordination")
    if data is None:
        return None
    excluded = {e["participant"]: e["reason"] for e in data.get("excluded", [])}
    flagged = [
        {
            **f,
            "group_number": f["group"] + 1,
            "excluded": f["participant"] in excluded,
            "partners": f["partners"][:partners_shown],
        }
        for f in sorted(data.get("flagged", []), key=lambda f: (f["group"], f["participant"]))
    ]
    return {
        "flagged": flagged,
        "groups": len(data.get("groups", [])),
        "stats": data.get("stats", {}),
        "parameters": data.get("parameters", {}),
        "excluded": [{"participant": pid, "reason": why} for pid, why in sorted(excluded.items())],
        "compared_to": data.get("compared_to"),
    }


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
    blocks += [
        (
            titles.get(sid, f"scenario {sid}"),
            before.scores.get("scenario", {}).get(sid, {}),
            after.scores.get("scenario", {}).get(sid, {}),
        )
        for sid in sorted(set(before.scores.get("scenario", {})) | set(after.scores.get("scenario", {})), key=int)
    ]
    out = []
    for title, old, new in blocks:
        was, now = _positions(old), _positions(new)
        ids = sorted(
            {v for v, p in was.items() if p <= top} | {v for v, p in now.items() if p <= top},
            key=lambda v: (now.get(v, 10**9), was.get(v, 10**9), int(v)),
        )
        first_before = next((v for v, p in was.items() if p == 1), None)
        first_after = next((v for v, p in now.items() if p == 1), None)
        out.append(
            {
                "title": title,
                "winner_changed": first_before != first_after,
                "rows": [
                    {
                        "id": int(v),
                        "title": value_title(after, v),
                        "before": was.get(v),
                        "after": now.get(v),
                        "moved": None if was.get(v) is None or now.get(v) is None else was[v] - now[v],
                    }
                    for v in ids
                ],
            }
        )
    return out


def _top_titles(snapshot, scores: dict, top: int) -> list[str]:
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], int(kv[0])))[:top]
    return [value_title(snapshot, vid) for vid, _ in ordered]


def tau_matrix(tau: dict, methods) -> list[dict]:
    """Kendall's τ of every two methods as rows of a square table ("a|b" keys,
    either order); 1 on the diagonal."""

    def cell(a, b):
        if a == b:
            return 1.0
        return tau.get(f"{a}|{b}", tau.get(f"{b}|{a}"))

    return [{"method": aggregators.label(a, long=True), "cells": [cell(a, b) for b in methods]} for a in methods]


def _block(snapshot, data: dict, top: int) -> dict:
    rows = []
    scores = data.get("scores", {})
    # the methods shown in the report, in the table's order (jsonb keeps no order)
    methods = aggregators.ordered(scores, "report")
    for method in methods:
        tau = None if method == "pagerank" else data.get("tau", {}).get(f"pagerank|{method}")
        rows.append(
            {
                "method": aggregators.label(method, long=True),
                "tau": tau,
                "top": _top_titles(snapshot, scores[method], top),
            }
        )
    return {
        "rows": rows,
        "cyclic_share": data.get("cyclic_share"),
        "k": data.get("k"),
        "robust": [_robust_title(snapshot, str(v)) for v in data.get("robust_winners", [])],
        "tau_header": [aggregators.label(m, long=True) for m in methods],
        "tau_rows": tau_matrix(data.get("tau", {}), methods),
    }


def _robust_title(snapshot, vid: str) -> str:
    """A robust winner's title, marked when it has fewer votes than GRAPH_MIN_VOTES_FOR_WINNER."""
    title = value_title(snapshot, vid)
    return f"{title} ({TOO_FEW_VOTES})" if value_votes(snapshot).get(vid, 0) < min_votes() else title


def aggregator_tables(snapshot, top: int = 3) -> dict | None:
    """The other aggregators' top values, τ against PageRank, HodgeRank's
    cyclic share and the robust winners, whole graph and per scenario;
    None for snapshots built before they were computed."""
    data = snapshot.scores.get("aggregators")
    if not data:
        return None
    titles = scenario_titles(snapshot.study)
    scenarios = [
        {"title": titles.get(sid, f"scenario {sid}"), **_block(snapshot, block, top)}
        for sid, block in data.get("scenario", {}).items()
    ]
    contexts = [
        {"title": (snapshot.contexts.get(cid) or {}).get("text", f"context {cid}"), **_block(snapshot, block, top)}
        for cid, block in data.get("context", {}).items()
        if block.get("scores", {}).get("direct_votes")
    ]
    shares = [(_short(b["title"]), _percent(b["cyclic_share"])) for b in scenarios]
    return {
        "global": _block(snapshot, data.get("global", {}), top),
        "scenarios": scenarios,
        "contexts": contexts,
        "scenario_chart": charts.horizontal_bars(shares) if shares else None,
        "context_chart": charts.horizontal_bars([(_short(b["title"]), _percent(b["cyclic_share"])) for b in contexts])
        if contexts
        else None,
    }


def _short(title: str, n: int = 32) -> str:
    """A chart label that fits beside its bar (an SVG text does not wrap)."""
    return title if len(title) <= n else title[: n - 1] + "…"


def _percent(share) -> float | None:
    return None if share is None else round(100 * share, 1)


# --- cycle policies ---------------------------------------------------------------


def rank_by_policy(
    edges: list[dict], parameters: dict, *, nodes, scenario_contexts: dict[str, set[int]], context_ids, top: int = 3
) -> dict[str, dict]:
    """The graph rebuilt under every cycle policy from the snapshot's own pair
    counts (the same votes; every other parameter as built): per policy,
    the kept edges, cycles found, and the top `top` value ids over the whole
    graph, per scenario and per context."""
    known = {f.name for f in fields(aggregation.Parameters)}
    counts = {(e["source"], e["target"]): aggregation.Counts(**e["counts"]) for e in edges}
    contexts = {(e["source"], e["target"]): list(e["contexts"]) for e in edges}

    def best(scores):
        positions = aggregation.positions(scores)
        return sorted((n for n, p in positions.items() if p <= top), key=positions.get)

    out = {}
    ranked_by_kept: dict[frozenset, dict] = {}  # policies that keep the same edges rank alike: rank once
    for policy in CYCLE_POLICIES:
        params = aggregation.Parameters.from_dict(
            {**{k: v for k, v in parameters.items() if k in known}, "cycle_policy": policy}
        )
        decided, cycles = aggregation.decide_edges(counts, contexts, params)
        kept = [e for e in decided if e.kept]
        key = frozenset((e.source, e.target) for e in kept)
        if key not in ranked_by_kept:
            result = aggregation.GraphResult(
                edges=decided,
                cycles=cycles,
                scores=aggregation.pagerank(kept, nodes=nodes, alpha=params.pagerank_alpha),
            )
            scopes = {
                **{("scenario", sid): set(ids) for sid, ids in scenario_contexts.items()},
                **{("context", str(cid)): {int(cid)} for cid in context_ids},
            }
            ranked = aggregation.rank_scopes(kept, scopes, params.pagerank_alpha)  # one pass for every scope
            ranked_by_kept[key] = {
                "global": best(result.scores),
                "scenario": {sid: best(ranked[("scenario", sid)]) for sid in scenario_contexts},
                "context": {str(cid): best(ranked[("context", str(cid))]) for cid in context_ids},
            }
        out[policy] = {"edges_kept": len(kept), "cycles": len(cycles), **ranked_by_kept[key]}
    return out


def _scenario_contexts(snapshot) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for cid, c in snapshot.contexts.items():
        if c.get("scenario"):
            out.setdefault(str(c["scenario"]), set()).add(int(cid))
    return out


def policy_tables(snapshot, top: int = 3) -> dict:
    """How the top values move between cycle policies: one row per scope
    (whole graph, each scenario, each context with edges), one column per
    policy, the snapshot's own policy marked, and whether the first value
    differs between policies."""
    used = (snapshot.parameters or {}).get("cycle_policy", "drop")
    ranked = rank_by_policy(
        snapshot.edges,
        snapshot.parameters or {},
        nodes=[int(v) for v in snapshot.values],
        scenario_contexts=_scenario_contexts(snapshot),
        context_ids=list(snapshot.contexts),
        top=top,
    )
    titles = scenario_titles(snapshot.study)

    def row(title, picks):
        firsts = {p[0] if p else None for p in picks}
        return {
            "title": title,
            "cells": [[value_title(snapshot, v) for v in p] for p in picks],
            "first_differs": len(firsts) > 1,
        }

    rows = [row("whole graph", [ranked[p]["global"] for p in CYCLE_POLICIES])]
    rows += [
        row(titles.get(sid, f"scenario {sid}"), [ranked[p]["scenario"][sid] for p in CYCLE_POLICIES])
        for sid in sorted(ranked[used]["scenario"], key=lambda s: list(titles).index(s) if s in titles else 0)
    ]
    rows += [
        row((snapshot.contexts.get(cid) or {}).get("text", cid), [ranked[p]["context"][cid] for p in CYCLE_POLICIES])
        for cid in snapshot.contexts
        if any(ranked[p]["context"][cid] for p in CYCLE_POLICIES)
    ]
    return {
        "used": used,
        "columns": [
            {
                "policy": p,
                "text": CYCLE_POLICY_TEXT[p],
                "used": p == used,
                "edges_kept": ranked[p]["edges_kept"],
                "cycles": ranked[p]["cycles"],
            }
            for p in CYCLE_POLICIES
        ],
        "rows": rows,
        "changed": sum(r["first_differs"] for r in rows),
    }


# --- bridging ---------------------------------------------------------------------


def bridging_tables(snapshot, limit: int = 100, top: int = 3) -> dict | None:
    """The bridging table (kind of each kept edge, each group's votes,
    likelihood and verdict; bridging edges first, at most `limit` rows per
    kind) and each group's winners; None for snapshots built before it."""
    data = snapshot.scores.get("bridging")
    if not data:
        return None
    groups = [g["name"] for g in data["groups"]]
    titles = scenario_titles(snapshot.study)
    by_kind: dict[str, list] = {k: [] for k in bridging.KINDS}
    for e in sorted(
        data["edges"], key=lambda e: (-sum(g["votes"] for g in e["groups"].values()), e["source"], e["target"])
    ):
        by_kind[e["kind"]].append(
            {
                "source_title": value_title(snapshot, e["source"]),
                "target_title": value_title(snapshot, e["target"]),
                "kind": e["kind"],
                "kind_text": bridging.KIND_TEXT[e["kind"]].split(" (")[0],
                "cells": [e["groups"].get(g) for g in groups],
            }
        )
    kept = sum(data["kinds"].values())
    group_winners = []
    for g in groups:
        graph = data["group_graphs"].get(g)
        if graph is None:
            continue
        group_winners.append(
            {
                "group": g,
                "edges_kept": graph["edges_kept"],
                "global": [value_title(snapshot, v) for v in graph["winners"].get("global", [])],
                "scenarios": [
                    {"title": titles.get(sid, f"scenario {sid}"), "top": [value_title(snapshot, v) for v in picks]}
                    for sid, picks in graph["winners"].items()
                    if sid != "global"
                ],
            }
        )
    return {
        "attribute": data["attribute"],
        "column": data["column"],
        "min_votes": data["min_votes"],
        "groups": data["groups"],
        "group_names": groups,
        "kinds": data["kinds"],
        "kept": kept,
        "rows": [r for k in bridging.KINDS for r in by_kind[k][:limit]],
        "hidden": sum(max(0, len(by_kind[k]) - limit) for k in bridging.KINDS),
        "limit": limit,
        "chart": charts.horizontal_bars(
            [
                (bridging.KIND_TEXT[k].split(" (")[0], round(100 * data["kinds"][k] / kept, 1) if kept else None)
                for k in bridging.KINDS
            ]
        ),
        "group_winners": group_winners,
        "unknown": bridging.UNKNOWN,
    }
