"""Reads for the moral graph explorer (paper 4.2, Fig. 3), the winning
values per scenario and the scalability view (paper 5.5, Fig. 12).

Everything shown comes from a stored GraphSnapshot, so an old snapshot reads
as it was built; only the transition stories' text and the scalability
events are read live from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from graph import aggregation, selectors, splits
from graph.aggregation import CYCLE_POLICY_TEXT, REASONS
from graph.models import GraphSnapshot, StoryAssignment, TransitionStory, WisdomVote
from graph.selectors import latest_snapshot
from studies.models import counted
from values import selectors as value_selectors

TOP = 3
CHECKPOINTS = 11


# --- who may look ---------------------------------------------------------------


def is_graph_staff(user) -> bool:
    """Coordinators and auditors: staff who may view graph snapshots."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("graph.view_graphsnapshot")
    )


def access(user, study) -> str | None:
    """ "staff", "public" (anyone, anonymised) or None (not allowed)."""
    if is_graph_staff(user):
        return "staff"
    if study.graph_public:
        return "public"
    return None


# Pages of higher layers linked from the graph's pages (the playground, for
# one), registered in their AppConfig.ready(): (label, URL name taking the
# study's slug, may_open(user, study)).
_PAGE_LINKS: list[tuple[str, str, Callable[[Any, Any], bool]]] = []


def register_page_link(label: str, url_name: str, may_open) -> None:
    if not any(entry[1] == url_name for entry in _PAGE_LINKS):
        _PAGE_LINKS.append((label, url_name, may_open))


def page_links(user, study) -> list[dict]:
    """The registered pages this visitor may open, as {label, url_name}."""
    return [
        {"label": label, "url_name": url_name} for label, url_name, may_open in _PAGE_LINKS if may_open(user, study)
    ]


# Tables of higher layers drawn beside the graph (the study's disputes, for
# one), registered in their AppConfig.ready(): section(study) gives a dict
# {"id", "title", "intro", "header": [...], "rows": [[...]]} or None. What a
# section shows is public when the graph is: counts only, never who.
_SECTIONS: list = []


def register_section(section) -> None:
    if section not in _SECTIONS:
        _SECTIONS.append(section)


def sections(study) -> list[dict]:
    return [table for section in _SECTIONS if (table := section(study)) is not None]


# --- snapshots --------------------------------------------------------------------


def snapshot_for(study, snapshot_id: str | None) -> GraphSnapshot | None:
    """`?snapshot=<id>` of this study, or the latest. Raises
    GraphSnapshot.DoesNotExist for an id that is not this study's."""
    if snapshot_id:
        if not str(snapshot_id).isdigit():
            raise GraphSnapshot.DoesNotExist
        return GraphSnapshot.objects.get(pk=int(snapshot_id), study=study)
    return latest_snapshot(study)


def snapshot_to_show(study, snapshot_id: str | None) -> tuple[GraphSnapshot | None, GraphSnapshot | None]:
    """(the snapshot to show, a newer empty one passed over). A chosen
    snapshot is shown as it is; otherwise a newer build that kept no edges
    does not replace the newest populated graph: the page shows that one
    and says why the newer one is empty."""
    snapshot = snapshot_for(study, snapshot_id)
    if snapshot_id or snapshot is None or snapshot.summary.get("edges_kept"):
        return snapshot, None
    populated = (
        GraphSnapshot.objects.filter(study=study, summary__edges_kept__gt=0).order_by("-created_at", "-id").first()
    )
    return (populated, snapshot) if populated else (snapshot, None)


def why_empty(snapshot) -> str:
    """Why a snapshot kept no edges, in a coordinator's words."""
    s = snapshot.summary
    left_out = s.get("simulated_votes_left_out")
    if not snapshot.include_simulated and left_out is None:
        left_out = selectors.simulated_vote_count(snapshot.study)  # built before snapshots said so
    if not s.get("votes") and left_out:
        return (
            f"it left out the {left_out} votes of simulated participants and had no other votes to count; "
            "build it again with simulated votes included"
        )
    if not s.get("votes"):
        return "there were no votes to count when it was built"
    dropped = ", ".join(f"{REASONS.get(k, k)} ({n})" for k, n in sorted(s.get("dropped", {}).items()))
    why = f"none of the {s.get('pairs', 0)} judged pairs passed the thresholds" + (f": {dropped}" if dropped else "")
    return why + (f"; the votes of simulated participants ({left_out}) were left out" if left_out else "")


def snapshot_facts(snapshot, *, staff: bool) -> dict:
    """What a page says about the snapshot it shows: when, by whom, from how
    many votes, with or without simulated participants. Public readers are
    not told staff names."""
    s = snapshot.summary
    if snapshot.created_by_id is None:
        by = "a command or background job (e.g. the demo set-up)"
    else:
        by = str(snapshot.created_by) if staff else "a coordinator"
    if snapshot.include_simulated:
        simulated = (
            f"simulated participants' votes included ({s['simulated_votes_included']})"
            if s.get("simulated_votes_included") is not None
            else "simulated participants' votes included"
        )
    else:
        left_out = s.get("simulated_votes_left_out")
        simulated = (
            f"simulated participants' votes left out ({left_out})"
            if left_out
            else "simulated participants' votes left out"
        )
    # Snapshots built before the policy was a parameter dropped cycles.
    policy = (snapshot.parameters or {}).get("cycle_policy", "drop")
    return {
        "id": snapshot.pk,
        "created_at": snapshot.created_at,
        "by": by,
        "simulated": simulated,
        "cycle_policy": CYCLE_POLICY_TEXT.get(policy, policy),
        "votes": s.get("votes", 0),
        "edges_kept": s.get("edges_kept", 0),
        "pairs": s.get("pairs", 0),
        "empty_because": "" if s.get("edges_kept") else why_empty(snapshot),
        "skipped": skipped_text(snapshot),
        "lineage": selectors.lineage(snapshot),
    }


def public_lineage(snapshot) -> dict:
    """A snapshot's lineage for files anyone may read: counts and snapshot
    ids, never who."""
    lineage = selectors.lineage(snapshot)
    return {
        "withdrawn_since_build": lineage["withdrawn"],
        "contributors": lineage["participants"] if lineage["recorded"] else None,
        "superseded_by": lineage["superseded_by"],
        "supersedes": lineage["supersedes"],
    }


# What a quick build (build_snapshot(quick=True)) did not compute, in words.
SKIPPED_TEXT = {
    "bootstrap": "rank intervals (bootstrap)",
    "context_bootstrap": "rank intervals per context",
    "aggregators": "other aggregators",
    "bridging": "bridging across groups",
    "coordination": "the check for coordinated voting",
}


def skipped_text(snapshot) -> str:
    """ "" for a full build; else the stages a quick build left out, in words."""
    skipped = (snapshot.summary or {}).get("skipped_stages") or []
    return ", ".join(SKIPPED_TEXT.get(stage, stage) for stage in skipped)


def snapshot_choices(study, limit: int = 30) -> list[dict]:
    rows = (
        GraphSnapshot.objects.filter(study=study)
        .order_by("-created_at", "-id")
        .values("id", "created_at", "summary")[:limit]
    )
    return [
        {"id": r["id"], "created_at": r["created_at"], "edges_kept": (r["summary"] or {}).get("edges_kept")}
        for r in rows
    ]


def _ordered(scores: dict) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], int(kv[0])))


def ranks(snapshot) -> dict[str, int]:
    """Position of every value by global PageRank (1 = highest)."""
    return {vid: i + 1 for i, (vid, _) in enumerate(_ordered(snapshot.scores.get("global", {})))}


# --- how much evidence a value or an edge has ---------------------------------------

TOO_FEW_VOTES = "too few votes"


def min_votes() -> int:
    """GRAPH_MIN_VOTES_FOR_WINNER: below it a value is not called a winner
    and gets no rank interval, and an edge is marked as thin evidence."""
    return settings.GRAPH_MIN_VOTES_FOR_WINNER


def value_votes(snapshot) -> dict[str, int]:
    """{value id: the votes cast on stories with the value at either end},
    each vote counted once (on the edge of the story's own direction).
    Kept on the snapshot object: snapshots are append-only, and the
    alignment target asks once per context."""
    key = (id(snapshot.edges), len(snapshot.edges))
    cached = getattr(snapshot, "_value_votes", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    out: dict[str, int] = {}
    for e in snapshot.edges:
        c = e.get("counts") or {}
        n = c.get("wiser", 0) + c.get("not_wiser", 0) + c.get("unsure", 0)
        for end in (str(e["source"]), str(e["target"])):
            out[end] = out.get(end, 0) + n
    snapshot._value_votes = (key, out)
    return out


def edge_votes(edge: dict) -> int:
    """The votes on an edge's pair of values: its own direction's answers and
    the "wiser" answers on the reverse direction's stories."""
    c = edge.get("counts") or {}
    return c.get("wiser", 0) + c.get("not_wiser", 0) + c.get("unsure", 0) + c.get("less_wise", 0)


def _evidence(votes: int) -> dict:
    needed = min_votes()
    return {"votes": votes, "min_votes": needed, "too_few_votes": votes < needed}


def interval_text(b: dict | None) -> str:
    if not b:
        return ""
    low, high = b["rank_low"], b["rank_high"]
    span = f"{low}" if low == high else f"{low}–{high}"
    return f"95% interval {span}"


def is_stable(b: dict | None) -> bool:
    if not b:
        return False
    return bool(b["rank_low"] == b["rank_high"] == 1 or b.get("top_share", 0) >= 0.9)


def scenario_titles(study) -> dict[str, str]:
    return {str(pk): title for pk, title in study.scenarios.order_by("order", "id").values_list("pk", "title")}


# --- the graph as the browser draws it ---------------------------------------------


def _live_pair_stories(study) -> dict[tuple[int, int], list[dict]]:
    """Active stories by (live from value, live to value)."""
    rows = list(
        TransitionStory.objects.filter(study=study, status=TransitionStory.Status.ACTIVE)
        .order_by("context_id", "id")
        .values("id", "from_value_id", "to_value_id", "context_id", "story")
    )
    live = value_selectors.live_value_id({r["from_value_id"] for r in rows} | {r["to_value_id"] for r in rows}, study)
    out: dict[tuple[int, int], list[dict]] = {}
    for r in rows:
        key = (live[r["from_value_id"]], live[r["to_value_id"]])
        out.setdefault(key, []).append({"id": r["id"], "context": r["context_id"], "text": r["story"]})
    return out


def graph_data(snapshot, *, staff: bool, admin_url=None) -> dict:
    """Nodes (every value) and kept edges with the stories for their
    direction. Public readers get no external ids and no admin links;
    dropped edges are not here (the page lists them with their reasons)."""
    study = snapshot.study
    global_scores = snapshot.scores.get("global", {})
    position = ranks(snapshot)
    votes = value_votes(snapshot)
    nodes = []
    for vid, v in sorted(snapshot.values.items(), key=lambda kv: int(kv[0])):
        evidence = _evidence(votes.get(vid, 0))
        b = None if evidence["too_few_votes"] else snapshot.bootstrap.get(vid)  # no interval from a vote or two
        node = {
            "id": vid,
            "title": v.get("title", ""),
            "description": v.get("description", ""),
            "policies": list(v.get("policies", [])),
            "scenarios": [str(s) for s in v.get("scenarios", [])],
            "score": global_scores.get(vid),
            "rank": position.get(vid),
            "interval": (
                {k: b[k] for k in ("rank_low", "rank_high", "rank_median", "top_share") if k in b} if b else None
            ),
            "interval_text": interval_text(b),
            "stable": is_stable(b),
            **evidence,
        }
        if staff:
            node["external_id"] = v.get("external_id", "")
            node["origin"] = v.get("origin", "")
            if admin_url:
                node["admin_url"] = admin_url(int(vid))
        nodes.append(node)
    stories = _live_pair_stories(study)
    edges = []
    for e in snapshot.edges:
        if not e.get("kept"):
            continue
        edge_contexts = [str(c) for c in e.get("contexts", [])]
        edge_stories = list(stories.get((int(e["source"]), int(e["target"])), []))
        # Stories in the edge's contexts first, then any other active ones for this direction.
        edge_stories.sort(key=lambda s: (str(s["context"]) not in edge_contexts, s["context"], s["id"]))
        edges.append(
            {
                "id": f"{e['source']}-{e['target']}",
                "source": str(e["source"]),
                "target": str(e["target"]),
                "counts": e.get("counts", {}),
                "likelihood": e.get("likelihood"),
                "entropy": e.get("entropy"),
                "contexts": edge_contexts,
                **_evidence(edge_votes(e)),
                "stories": [{"context": str(s["context"]), "text": s["text"]} for s in edge_stories],
            }
        )
    titles = scenario_titles(study)
    contexts = {
        cid: {"text": c.get("text", ""), "scenario": str(c["scenario"]) if c.get("scenario") else None}
        for cid, c in snapshot.contexts.items()
    }
    scenarios = {sid: title for sid, title in titles.items() if any(c["scenario"] == sid for c in contexts.values())}
    return {
        "study": {"slug": study.slug, "title": study.title},
        "snapshot": {
            "id": snapshot.pk,
            "created_at": snapshot.created_at.isoformat(),
            "parameters": snapshot.parameters,
            "summary": snapshot.summary,
            "lineage": public_lineage(snapshot),
        },
        "access": "staff" if staff else "public",
        "nodes": nodes,
        "edges": edges,
        "contexts": contexts,
        "scenarios": scenarios,
        "scores": {"scenario": snapshot.scores.get("scenario", {}), "context": snapshot.scores.get("context", {})},
        "min_votes": min_votes(),
    }


# --- filters (the context select) ---------------------------------------------------


def filter_options(snapshot) -> list[dict]:
    """Scenarios, each followed by its contexts; contexts without a scenario last."""
    titles = scenario_titles(snapshot.study)
    contexts = snapshot.contexts
    groups: list[dict[str, Any]] = []
    for sid, title in titles.items():
        in_scenario = [
            (cid, c["text"])
            for cid, c in sorted(contexts.items(), key=lambda kv: int(kv[0]))
            if str(c.get("scenario")) == sid
        ]
        if in_scenario:
            groups.append(
                {
                    "label": title,
                    "scenario": f"scenario:{sid}",
                    "contexts": [{"value": f"context:{cid}", "text": text} for cid, text in in_scenario],
                }
            )
    loose = [
        (cid, c["text"])
        for cid, c in sorted(contexts.items(), key=lambda kv: int(kv[0]))
        if not c.get("scenario") or str(c.get("scenario")) not in titles
    ]
    if loose:
        groups.append(
            {
                "label": "Other contexts",
                "scenario": None,
                "contexts": [{"value": f"context:{cid}", "text": text} for cid, text in loose],
            }
        )
    return groups


def filter_contexts(snapshot, choice: str) -> set[str] | None:
    """The context ids a filter value ("context:<id>", "scenario:<id>")
    selects; None for all contexts (or an unknown value)."""
    kind, _, ident = (choice or "").partition(":")
    if kind == "context" and ident in snapshot.contexts:
        return {ident}
    if kind == "scenario" and ident:
        chosen = {cid for cid, c in snapshot.contexts.items() if str(c.get("scenario")) == ident}
        return chosen or None
    return None


def edge_tables(snapshot, contexts: set[str] | None = None) -> dict:
    kept = edge_rows(snapshot, kept=True)
    if contexts is not None:
        kept = [e for e in kept if contexts.intersection(str(c) for c in e["contexts"])]
    kept.sort(key=lambda e: (-e["likelihood"], -e["counts"]["wiser"], e["source"], e["target"]))
    return {
        "kept_edges": kept,
        "dropped_edges": edge_rows(snapshot, kept=False),
        "cycles": [[value_title(snapshot, v) for v in cycle] for cycle in snapshot.cycles],
    }


def ranking(snapshot) -> list[dict]:
    """Every value by global PageRank, for the page without JavaScript."""
    out = []
    votes = value_votes(snapshot)
    for i, (vid, score) in enumerate(_ordered(snapshot.scores.get("global", {}))):
        evidence = _evidence(votes.get(vid, 0))
        b = None if evidence["too_few_votes"] else snapshot.bootstrap.get(vid)
        out.append(
            {
                "id": vid,
                "rank": i + 1,
                "title": value_title(snapshot, vid),
                "score": score,
                "interval_text": interval_text(b),
                "stable": is_stable(b),
                **evidence,
            }
        )
    return out


# --- edges of a snapshot, with titles -------------------------------------------------


def value_title(snapshot, vid) -> str:
    return snapshot.values.get(str(vid), {}).get("title", f"value {vid}")


def edge_rows(snapshot, *, kept: bool) -> list[dict]:
    rows = []
    for e in snapshot.edges:
        if e["kept"] is kept:
            rows.append(
                {
                    **e,
                    **_evidence(edge_votes(e)),
                    "source_title": value_title(snapshot, e["source"]),
                    "target_title": value_title(snapshot, e["target"]),
                    "reason_text": REASONS.get(e["reason"], e["reason"]),
                    "contexts_text": [snapshot.contexts.get(str(c), {}).get("text", str(c)) for c in e["contexts"]],
                }
            )
    return sorted(rows, key=lambda r: (r["reason"], -r["counts"]["wiser"], r["source"], r["target"]))


# --- winning values per scenario -------------------------------------------------------


def winners(snapshot, top: int = TOP) -> list[dict]:
    """Every scenario of the study with its top values by that scenario's
    PageRank (kept edges in its contexts)."""
    by_scenario = snapshot.scores.get("scenario", {})
    votes = value_votes(snapshot)
    out = []
    for sid, title in scenario_titles(snapshot.study).items():
        rows = []
        for i, (vid, score) in enumerate(_ordered(by_scenario.get(sid, {}))[:top]):
            value = snapshot.values.get(vid, {})
            evidence = _evidence(votes.get(vid, 0))
            # A value with fewer votes than the minimum is not presented as a winner with an interval.
            b = None if evidence["too_few_votes"] else snapshot.bootstrap.get(vid)
            rows.append(
                {
                    "id": vid,
                    "position": i + 1,
                    "title": value.get("title", f"value {vid}"),
                    "description": value.get("description", ""),
                    "policies": value.get("policies", []),
                    "score": score,
                    "bootstrap": b,
                    "interval_text": interval_text(b),
                    "stable": is_stable(b),
                    **evidence,
                }
            )
        out.append({"id": sid, "title": title, "values": rows})
    return out


# --- scalability (paper 5.5, Fig. 12) ------------------------------------------------


def participation_events(study, *, include_simulated: bool = False) -> list[tuple[int, int, int, str]]:
    """Votes and impressions in the order they happened, as
    (source value, target value, context, kind) with kind yes / no / unsure /
    impression; merged values count for the value they live on in."""
    votes = WisdomVote.objects.filter(study=study)
    shown = StoryAssignment.objects.filter(story__study=study, shown_at__isnull=False)
    votes = votes.filter(counted("participant", include_simulated))
    shown = shown.filter(counted("participant", include_simulated))
    rows: list[tuple] = [
        (at, 1, pk, a, b, c, kind)
        for pk, at, a, b, c, kind in votes.values_list(
            "pk", "created_at", "from_value_id", "to_value_id", "context_id", "answer"
        )
    ]
    rows += [
        (at, 0, pk, a, b, c, "impression")
        for pk, at, a, b, c in shown.values_list(
            "pk", "shown_at", "story__from_value_id", "story__to_value_id", "story__context_id"
        )
    ]
    rows.sort(key=lambda r: r[:3])  # time; at the same instant the impression first
    live = value_selectors.live_value_id({r[3] for r in rows} | {r[4] for r in rows}, study)
    events = []
    for _, _, _, a, b, context, kind in rows:
        source, target = live[a], live[b]
        if source != target:
            events.append((source, target, context, kind))
    return events


def value_choices(study, snapshot) -> list[dict]:
    """Values to pick from: the snapshot's, by global rank, else the live ones."""
    if snapshot is not None and snapshot.values:
        order = ranks(snapshot)
        rows = sorted(snapshot.values.items(), key=lambda kv: (order.get(kv[0], 10**9), int(kv[0])))
        return [{"id": int(vid), "title": v.get("title", f"value {vid}")} for vid, v in rows]
    return [{"id": v.pk, "title": v.title} for v in value_selectors.live_values(study).order_by("title", "pk")]


def scalability(
    study, value_id: int, *, snapshot=None, include_simulated: bool = False, checkpoints: int = CHECKPOINTS
) -> dict:
    """The value's position by PageRank and by direct votes after growing
    shares of the events, with the snapshot's (or default) parameters."""
    params = aggregation.Parameters.from_dict(snapshot.parameters) if snapshot is not None else aggregation.Parameters()
    events = participation_events(study, include_simulated=include_simulated)
    points = aggregation.trajectory(events, value_id, checkpoints=checkpoints, params=params)
    return {
        "events": len(events),
        "votes": sum(1 for e in events if e[3] != "impression"),
        "impressions": sum(1 for e in events if e[3] == "impression"),
        "points": points,
        "parameters": params,
    }


# --- split scopes (graph/splits.py) ----------------------------------------------------


def split_scopes(snapshot) -> dict | None:
    """The contexts the snapshot found split, for the explorer: why (too
    cyclic, or groups that differ beyond their intervals), the cyclic share,
    the pooled winner and each group's winner with its rank interval within
    the group. None for a snapshot that did not look (quick builds, older ones)."""
    data = (snapshot.scores or {}).get("splits")
    if data is None:
        return None
    rows = []
    for cid, split in sorted(data.get("context", {}).items(), key=lambda kv: int(kv[0])):
        pooled = split.get("pooled_winner")
        rows.append(
            {
                "context": int(cid),
                "context_text": (snapshot.contexts or {}).get(cid, {}).get("text", f"context {cid}"),
                "reasons": [splits.REASON_TEXT.get(r, r) for r in split.get("reasons", [])],
                "cyclic_share": split.get("cyclic_share"),
                "pooled_winner": value_title(snapshot, pooled) if pooled is not None else "",
                "groups": [
                    {
                        "group": g["group"],
                        "winner": value_title(snapshot, g["winner"]) if g.get("winner") is not None else "",
                        "interval": interval_text(g) if g.get("rank_low") is not None else "",
                        "votes": g.get("votes"),
                    }
                    for g in split.get("groups", [])
                ],
            }
        )
    return {
        "attribute": data.get("attribute", ""),
        "threshold": data.get("cyclic_share_threshold"),
        "min_group_votes": data.get("min_group_votes"),
        "weighted": data.get("weighted", False),
        "contested_text": splits.CONTESTED_TEXT,
        "rows": rows,
    }
