"""Building a snapshot of the moral graph (paper 4.4): quick and full builds,
rebuilds without flagged or withdrawn participants, and redacting a value's
text in stored snapshots."""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from graph import aggregation, aggregators, bridging, coordination, events, selectors, splits
from graph import weighting as graph_weighting
from graph.models import GraphSnapshot, WisdomVote
from mgeplatform.audit import record_event
from studies import weighting as study_weighting

# What a quick build leaves out: each goes through every vote (coordination,
# bridging) or ranks the graph many times over (bootstrap, the other
# aggregators), far beyond a few seconds at a million votes.
QUICK_SKIPS = ("coordination", "bootstrap", "context_bootstrap", "aggregators", "bridging", "splits")


def build_snapshot(
    study,
    *,
    parameters: aggregation.Parameters | None = None,
    include_simulated: bool = False,
    user=None,
    bridging_attribute: str = bridging.DEFAULT_ATTRIBUTE,
    bridging_min_votes: int = bridging.DEFAULT_MIN_VOTES,
    exclude: dict[str, str] | None = None,
    compared_to: GraphSnapshot | None = None,
    quick: bool = False,
    supersedes: GraphSnapshot | None = None,
    weighting=None,
) -> GraphSnapshot:
    """Aggregate the votes, filter edges, rank values and estimate how stable
    the ranks are; look for coordinated voting; store it all, with the time
    each stage took. Bridging groups participants by `bridging_attribute` of
    their Prolific demographics (see graph/bridging.py). `exclude`
    ({participant id: why}) leaves participants' votes and impressions out,
    and the snapshot lists them with the reason; `compared_to` is the
    snapshot with everyone, for the winners' diff. `quick`: the edges and
    PageRank scores only, read from the pair counts; the stages that go
    through every vote or resample the graph (QUICK_SKIPS) are left out and
    named in the summary's "skipped_stages", and the snapshot stores no
    result for them. The snapshot lists the participants whose data it used
    (`contributors`, its lineage); `supersedes`: the snapshot it is built
    again from (rebuild_without_withdrawn). `weighting` (a weights run, its
    id or a studies.weighting.Weighting): every vote and impression counts
    with its participant's weight, the bootstrap resamples participants by
    weight, and the snapshot names the run and compares its winners with the
    unweighted ones (graph/weighting.py); bridging's groups and the split
    scopes' group winners count the same weights (graph/splits.py); the
    coordination detector stays unweighted."""
    if quick and weighting is not None:
        raise ValueError("A quick build reads the pair counts, which hold no weights: build the full graph for that.")
    if quick and exclude:
        raise ValueError(
            "A quick build does not look for coordinated voting, so it cannot leave flagged "
            "participants out: build the full graph for that."
        )
    params = parameters or aggregation.Parameters()
    exclude = {str(k): v for k, v in (exclude or {}).items()}
    stages = {}
    started = time.perf_counter()
    with _collector_paused():
        cells, votes_through = selectors.graph_cells(study, include_simulated=include_simulated, exclude=exclude)
    stages["sql_aggregation"] = time.perf_counter() - started
    weighted, rows = None, None
    if weighting is not None:
        weighting = study_weighting.resolve(weighting, study=study)
        t = time.perf_counter()
        rows = selectors.weighted_vote_rows(study, include_simulated=include_simulated, exclude=exclude)
        weighted = graph_weighting.weighted_votes(*rows[:2], weighting.weights, *rows[2:])
        unweighted_cells, cells = cells, weighted.cells
        stages["weighting"] = time.perf_counter() - t

    # Coordinated voting, over every counted participant (the excluded too:
    # the evidence for leaving them out stays with the snapshot).
    detection, coordinated = None, None
    if not quick:
        t = time.perf_counter()
        detection = coordination.detect(selectors.coordination_votes(study, include_simulated=include_simulated))
        coordinated = {
            **detection.to_dict(),
            "excluded": [{"participant": pid, "reason": why} for pid, why in sorted(exclude.items())],
            "compared_to": compared_to.pk if compared_to is not None else None,
        }
        stages["coordination"] = time.perf_counter() - t

    with _collector_paused():
        values = selectors.snapshot_values(study)
        contexts = selectors.snapshot_contexts(study)
        edges, cycles, kept, result, by_scenario, by_context = _edges_and_ranks(cells, values, contexts, params, stages)

    intervals, context_intervals, others, bridged, split = {}, None, None, None, None
    if not quick:
        t = time.perf_counter()
        resample = weighted.resample if weighted is not None else None
        intervals = aggregation.bootstrap(cells, params, nodes=values.keys(), resample=resample)
        stages["bootstrap"] = time.perf_counter() - t
        t = time.perf_counter()
        context_intervals = _context_intervals(cells, params, contexts, result, resample)
        stages["context_bootstrap"] = time.perf_counter() - t

        # Other rankings of the same votes and how far they agree (stored beside
        # the PageRank scores: the row cannot be updated after the insert).
        t = time.perf_counter()
        others = {"global": aggregators.compare(cells, result.scores), "scenario": {}}
        for scenario_id in sorted({c["scenario"] for c in contexts.values() if c["scenario"]}):
            ids = {int(cid) for cid, c in contexts.items() if c["scenario"] == scenario_id}
            pagerank = {int(k): v for k, v in by_scenario.get(str(scenario_id), {}).items()}
            others["scenario"][str(scenario_id)] = aggregators.compare(cells, pagerank, contexts=ids)
        others["context"] = {
            cid: aggregators.compare(cells, {int(k): v for k, v in scores.items()}, contexts={int(cid)})
            for cid, scores in by_context.items()
        }
        stages["aggregators"] = time.perf_counter() - t

        t = time.perf_counter()
        groups = _groups(study, bridging_attribute, include_simulated, exclude, weighting, rows)
        bridged = _bridging(params, kept, contexts, groups, bridging_attribute, bridging_min_votes)
        stages["bridging"] = time.perf_counter() - t

        t = time.perf_counter()
        split = splits.detect(
            groups.cells,
            params,
            [int(c) for c in contexts],
            cyclic_shares={cid: block["cyclic_share"] for cid, block in others["context"].items()},
            pooled_winners={cid: graph_weighting.top(scores) for cid, scores in by_context.items()},
            resamplers=groups.resamplers,
            attribute=bridging_attribute,
            weighted=weighted is not None,
        )
        stages["splits"] = time.perf_counter() - t

    weighted_scores = None
    if weighted is not None:
        t = time.perf_counter()
        weighted_scores = _weighting_scores(
            weighting, weighted, unweighted_cells, values, contexts, params, kept, result, by_scenario, by_context
        )
        cells = unweighted_cells  # the summary counts the votes read, as an unweighted build's does
        stages["weighting"] += time.perf_counter() - t

    reasons: dict[str, int] = {}
    for e in edges:
        if not e.kept:
            reasons[e.reason] = reasons.get(e.reason, 0) + 1
    summary = {
        "values": len(values),
        "contexts": len(contexts),
        "pairs": len(edges),
        "edges_kept": len(kept),
        "dropped": reasons,
        "cycles": len(cycles),
        "votes": sum(c.yes + c.no + c.unsure for c in cells),
        "impressions": sum(c.impressions for c in cells),
        "flagged_participants": len(detection.flagged) if detection else None,
        "excluded_participants": len(exclude),
    }
    if quick:
        summary["skipped_stages"] = list(QUICK_SKIPS)
    if weighted is not None:
        summary["weighting_run"] = weighting.run_id
        summary["weighting_left_out"] = weighted.left_out
    # Said in the snapshot so that pages can explain a graph with fewer votes (or none).
    tally = selectors.vote_tally(study)
    summary["simulated_votes_included" if include_simulated else "simulated_votes_left_out"] = tally["simulated"]
    t = time.perf_counter()
    used = selectors.contributors(study, include_simulated=include_simulated, exclude=exclude)
    stages["lineage"] = time.perf_counter() - t
    with _collector_paused(), transaction.atomic():
        snapshot = GraphSnapshot.objects.create(
            contributors=used,
            supersedes=supersedes,
            study=study,
            weighting_run_id=weighting.run_id if weighting is not None else None,
            weighting=_weighting_record(weighting, weighted),
            created_by=user if getattr(user, "is_authenticated", False) else None,
            parameters=params.to_dict(),
            include_simulated=include_simulated,
            votes_through=votes_through,
            summary=summary,
            values={str(k): v for k, v in values.items()},
            contexts=contexts,
            edges=[e.to_dict() for e in edges],
            cycles=cycles,
            scores={
                "global": _json_scores(result.scores),
                "scenario": by_scenario,
                "context": by_context,
                **{
                    k: v
                    for k, v in (
                        ("aggregators", others),
                        ("context_intervals", context_intervals),
                        ("bridging", bridged),
                        ("splits", split),
                        ("coordination", coordinated),
                        ("weighting", weighted_scores),
                    )
                    if v is not None
                },
            },
            bootstrap={str(k): v for k, v in intervals.items()},
            stage_seconds={k: round(v, 4) for k, v in stages.items()},
        )
        record_event(events.GRAPH_SNAPSHOT_BUILT, user=user, study_slug=study.slug, subject=snapshot, payload=summary)
    return snapshot


def _edges_and_ranks(cells, values, contexts, params, stages) -> tuple:
    """The edges (kept or dropped and why), the cycles, the kept edges, the
    global result and the PageRank scores per scenario and per context;
    times the filtering and PageRank stages into `stages`."""
    t = time.perf_counter()
    counts, pair_contexts = aggregation.pair_counts_and_contexts(cells)
    edges, cycles = aggregation.decide_edges(counts, pair_contexts, params)
    stages["filtering"] = time.perf_counter() - t

    t = time.perf_counter()
    kept = [e for e in edges if e.kept]
    result = aggregation.GraphResult(
        edges=edges, cycles=cycles, scores=aggregation.pagerank(kept, nodes=values.keys(), alpha=params.pagerank_alpha)
    )
    # Each scenario and each context ranked in one pass over the kept edges.
    scopes = {
        ("scenario", str(sid)): {int(cid) for cid, c in contexts.items() if c["scenario"] == sid}
        for sid in {c["scenario"] for c in contexts.values() if c["scenario"]}
    }
    scopes.update({("context", str(cid)): {int(cid)} for cid in contexts})
    ranked = aggregation.rank_scopes(kept, scopes, params.pagerank_alpha)
    by_scenario = {name: _json_scores(ranked[(kind, name)]) for kind, name in scopes if kind == "scenario"}
    by_context = {name: _json_scores(ranked[(kind, name)]) for kind, name in scopes if kind == "context"}
    stages["pagerank"] = time.perf_counter() - t
    return edges, cycles, kept, result, by_scenario, by_context


def _weighting_record(weighting, weighted) -> dict:
    """What the snapshot records of its weighting run (no participant's weight)."""
    if weighting is None:
        return {}
    return {
        **weighting.to_dict(),
        "voters": len(weighted.voters),
        "left_out": weighted.left_out,
        "bootstrap": graph_weighting.BOOTSTRAP_METHOD,
    }


def _weighting_scores(
    weighting, weighted, unweighted_cells, values, contexts, params, kept, result, by_scenario, by_context
) -> dict:
    """A weighted snapshot's comparison with the same votes unweighted (every
    counted voter's, as an unweighted build counts them): the unweighted
    PageRank scores, the top value of each scope both ways and whether it
    differs, and the representativeness of the weighted voters behind the kept edges."""
    _, _, _, plain, plain_scenario, plain_context = _edges_and_ranks(unweighted_cells, values, contexts, params, {})
    unweighted = {"global": _json_scores(plain.scores), "scenario": plain_scenario, "context": plain_context}
    mine = {"global": _json_scores(result.scores), "scenario": by_scenario, "context": by_context}
    behind = weighted.voters_behind(kept)
    return {
        "run": weighting.run_id,
        "unweighted": unweighted,
        "winners": graph_weighting.winners(mine, unweighted),
        "kept_edge_voters": weighting.figures(behind) if weighting.figures else {"participants": len(behind)},
    }


@contextmanager
def _collector_paused():
    """Python's cycle collector off for a stretch that makes hundreds of
    thousands of small objects (cells, edges, their dicts) and no cycles:
    each object made counts towards a collection, and a full one walks the
    whole heap, so at a million votes the collector took a quarter of the
    quick build. Reference counting still frees everything; the collector
    is back on (if it was on) at the end, even after an error."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _context_intervals(cells, params, contexts, result, resample=None) -> dict:
    """{context: {value: bootstrap rank interval within the context}} as
    stored in the snapshot's scores ("context_intervals")."""
    intervals = aggregation.bootstrap_by_context(
        cells, params, contexts=[int(c) for c in contexts], full=result, resample=resample
    )
    return {str(cid): {str(v): i for v, i in by_value.items()} for cid, by_value in intervals.items()}


@dataclass
class _Groups:
    """The participants grouped by the bridging attribute: each group's cells
    (weighted sums in a weighted build), voters and bootstrap resampler (weighted builds only)."""

    column: str | None
    cells: dict
    voters: dict
    resamplers: dict | None = None


def _groups(study, attribute, include_simulated, exclude, weighting, rows) -> _Groups:
    if weighting is None:
        column, group_cells, voters = selectors.graph_cells_by_group(
            study, attribute, include_simulated=include_simulated, exclude=exclude
        )
        return _Groups(column, group_cells, voters)
    column, members = selectors.participant_groups(study, attribute)
    by_group = graph_weighting.weighted_votes_by_group(
        rows[0], rows[1], weighting.weights, members, live=rows[2], archived=rows[3], unknown=bridging.UNKNOWN
    )
    return _Groups(
        column,
        {g: wv.cells for g, wv in by_group.items()},
        {g: len(wv.voters) for g, wv in by_group.items()},
        {g: wv.resample for g, wv in by_group.items()},
    )


def _bridging(params, kept, contexts, groups: _Groups, attribute, min_votes) -> dict:
    """The kept edges per group of `attribute` and each group's own graph."""
    scenario_contexts: dict[str, set[int]] = {}
    for cid, c in contexts.items():
        if c["scenario"]:
            scenario_contexts.setdefault(str(c["scenario"]), set()).add(int(cid))
    return bridging.bridging(
        groups.cells,
        kept,
        params,
        attribute=attribute,
        column=groups.column,
        scenario_contexts=scenario_contexts,
        participants=groups.voters,
        min_votes=min_votes,
        weighted=groups.resamplers is not None,
    )


def exclusion_reason(flagged: dict) -> str:
    """Why a flagged participant is left out, in words, from the detector's evidence."""
    partners = flagged["partners"]
    best = partners[0] if partners else None
    text = f"coordinated voting: in group {flagged['group'] + 1} with {flagged['suspicious_pairs']} suspicious pair(s)"
    if best:
        text += (
            f"; strongest: {best['agreements']} of {best['shared']} shared answers the same "
            f"(expected {best['expected']:.1f}, log10 p {best['log10_p']:.1f}), "
            f"{best['co_timed']} within seconds of each other"
        )
    return text


def build_without_flagged(
    study, *, parameters: aggregation.Parameters | None = None, include_simulated: bool = False, user=None, **options
) -> tuple[GraphSnapshot, GraphSnapshot]:
    """Two snapshots: everyone's votes, then the same without the
    participants the coordination detector flagged (each listed in the
    second with the reason); the second names the first, so its page shows
    how the winners moved. `options`: build_snapshot's bridging options."""
    everyone = build_snapshot(study, parameters=parameters, include_simulated=include_simulated, user=user, **options)
    flagged = everyone.scores["coordination"]["flagged"]
    without = build_snapshot(
        study,
        parameters=parameters,
        include_simulated=include_simulated,
        user=user,
        **options,
        exclude={f["participant"]: exclusion_reason(f) for f in flagged},
        compared_to=everyone,
    )
    return everyone, without


def rebuild_without_withdrawn(snapshot: GraphSnapshot, *, user=None) -> GraphSnapshot:
    """Build `snapshot` again, with its parameters, without the participants
    who withdrew after it was built. Under the "delete content" policy their
    votes are gone already; under "keep anonymised" they are left out here,
    listed with the reason like flagged voters. The votes are read as they
    are now (votes cast since are in). The new snapshot names the old one,
    which is kept and shown as superseded."""
    withdrawn = selectors.withdrawn_contributors(snapshot)
    if not withdrawn:
        raise ValueError(
            f"No participant whose data snapshot {snapshot.pk} used has withdrawn since: "
            "there is nothing to build without."
        )
    old = snapshot.scores or {}
    exclude = {e["participant"]: e["reason"] for e in (old.get("coordination") or {}).get("excluded", [])}
    still_there = set(
        WisdomVote.objects.filter(study_id=snapshot.study_id, participant_id__in=withdrawn)
        .values_list("participant_id", flat=True)
        .distinct()
    )
    exclude.update({str(p): "withdrew after the snapshot it rebuilds was built" for p in still_there})
    bridged = old.get("bridging") or {}
    options = {
        name: bridged[key]
        for key, name in (("attribute", "bridging_attribute"), ("min_votes", "bridging_min_votes"))
        if key in bridged
    }
    quick = bool((snapshot.summary or {}).get("skipped_stages")) and not exclude
    if snapshot.weighting_run_id is not None:
        options["weighting"] = snapshot.weighting_run_id  # the same run (the withdrawn have no weight left)
    new = build_snapshot(
        snapshot.study,
        parameters=aggregation.Parameters.from_dict(snapshot.parameters or {}),
        include_simulated=snapshot.include_simulated,
        user=user,
        exclude=exclude or None,
        quick=quick,
        supersedes=snapshot,
        **options,
    )
    record_event(
        events.GRAPH_SNAPSHOT_REBUILT,
        user=user,
        study_slug=snapshot.study.slug,
        subject=new,
        payload={
            "supersedes": snapshot.pk,
            "withdrawn_left_out": len(withdrawn),
            "votes_still_stored": len(still_there),
        },
    )
    return new


def _json_scores(scores: dict) -> dict:
    return {str(k): round(v, 8) for k, v in scores.items()}


def redact_snapshot_values(study, value_ids, *, marker: str) -> int:
    """On a withdrawal that deletes what the participant wrote: in every
    snapshot of the study that kept one of the values (worded from their
    card), the value's title, description and policies become the marker;
    its id, scores and edges stay, so the graph reads the same. The snapshot
    records the redaction (the only change its trigger allows). Returns how
    many snapshots were redacted."""
    keys = [str(v) for v in value_ids]
    if not keys:
        return 0
    redacted = 0
    for pk, values, redactions in GraphSnapshot.objects.filter(study=study, values__has_any_keys=keys).values_list(
        "pk", "values", "redactions"
    ):
        hit = [k for k in keys if k in values]
        for key in hit:
            values[key] = {**values[key], "title": marker, "description": marker, "policies": []}
        record = {"at": timezone.now().isoformat(), "reason": marker, "values": sorted(int(k) for k in hit)}
        GraphSnapshot.objects.filter(pk=pk).update(values=values, redactions=[*redactions, record])
        redacted += 1
    return redacted
