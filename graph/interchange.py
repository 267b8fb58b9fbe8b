"""Moral graphs in and out of the platform.

Export follows the paper's Definition 4.4 (scenarios, contexts, users,
values, edges) with each value's PageRank; the schema and codebook are in
docs/moral-graph-format.md. Edge keys use the original implementation's
names (sourceValueId, wiserValueId, counts.markedWiser ...) so its published
graph and ours read alike, and import accepts both.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.db import transaction
from pydantic import ValidationError

from graph import aggregators, events
from graph import selectors as graph_selectors
from graph.aggregation import REASONS, positions
from graph.contracts import GraphFile, ImportedEdge, ImportedValue, file_problem
from graph.models import GraphImport, GraphSnapshot, ImportedImpressions, MoralContext, WisdomVote
from mgeplatform import csvfiles
from mgeplatform.audit import record_event
from studies.models import Scenario, counted
from values.contracts import DESCRIPTION_MAX, POLICY_MAX, TITLE_MAX
from values.models import CanonicalValue

FORMAT = "mge-moral-graph"
FORMAT_VERSION = 1
COUNT_KEYS = {
    "wiser": "markedWiser",
    "not_wiser": "markedNotWiser",
    "unsure": "markedUnsure",
    "less_wise": "markedLessWise",
    "impressions": "impressions",
}
NO_CONTEXT = "Imported without a context"


# --- export -------------------------------------------------------------------------


def snapshot_document(snapshot: GraphSnapshot) -> dict:
    """The snapshot as a JSON-ready document (Definition 4.4 + PageRank)."""

    study = snapshot.study
    scores = snapshot.scores.get("global", {})
    intervals = snapshot.bootstrap
    lineage = graph_selectors.lineage(snapshot)
    contexts = snapshot.contexts
    scenario_ids = {c["scenario"] for c in contexts.values() if c["scenario"]} | {
        s for v in snapshot.values.values() for s in v.get("scenarios", [])
    }
    scenarios = Scenario.objects.filter(pk__in=scenario_ids).order_by("order", "pk")
    users = sorted(
        str(p)
        for p in WisdomVote.objects.filter(
            counted("participant", snapshot.include_simulated),
            study=study,
            participant__isnull=False,
            updated_at__lte=snapshot.votes_through or snapshot.created_at,
        )
        .values_list("participant_id", flat=True)
        .distinct()
    )
    values = []
    for vid, value in snapshot.values.items():
        interval = intervals.get(vid, {})
        values.append(
            {
                "id": int(vid),
                "externalId": value.get("external_id") or None,
                "title": value["title"],
                "description": value["description"],
                "policies": value["policies"],
                "scenarios": value.get("scenarios", []),
                "pagerank": scores.get(vid),
                "rank": interval.get("rank"),
                "rankInterval": [interval["rank_low"], interval["rank_high"]] if interval else None,
            }
        )
    external = {vid: v.get("external_id") or None for vid, v in snapshot.values.items()}
    edges = []
    for edge in snapshot.edges:
        edges.append(
            {
                "sourceValueId": edge["source"],
                "wiserValueId": edge["target"],
                "sourceExternalId": external.get(str(edge["source"])),
                "wiserExternalId": external.get(str(edge["target"])),
                "contexts": [contexts[str(c)]["text"] for c in edge["contexts"] if str(c) in contexts],
                "contextIds": edge["contexts"],
                "counts": {COUNT_KEYS[k]: v for k, v in edge["counts"].items()},
                "wiserLikelihood": edge["likelihood"],
                "entropy": edge["entropy"],
                "kept": edge["kept"],
                "droppedBecause": edge["reason"] or None,
            }
        )
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "study": {"slug": study.slug, "title": study.title},
        "snapshot": {
            "id": snapshot.pk,
            "createdAt": snapshot.created_at.isoformat(),
            "votesThrough": snapshot.votes_through.isoformat() if snapshot.votes_through else None,
            "parameters": snapshot.parameters,
            "includeSimulated": snapshot.include_simulated,
            # Older snapshots predate the parameter and dropped cycles.
            "cyclePolicy": (snapshot.parameters or {}).get("cycle_policy", "drop"),
            "summary": snapshot.summary,
            # Whose data it used who have withdrawn since, and the snapshot built again without them.
            "lineage": {
                "participantsUsed": lineage["participants"] if lineage["recorded"] else None,
                "withdrawnSinceBuild": lineage["withdrawn"],
                "supersededBy": lineage["superseded_by"],
                "supersedes": lineage["supersedes"],
                "note": lineage["text"],
            },
        },
        "scenarios": [{"id": s.pk, "key": s.key, "title": s.title, "prompt": s.prompt} for s in scenarios],
        "contexts": [{"id": int(cid), "text": c["text"], "scenario": c["scenario"]} for cid, c in contexts.items()],
        "users": users,
        "values": values,
        "edges": edges,
        "cycles": snapshot.cycles,
        "aggregators": exported_aggregators(snapshot.scores.get("aggregators")),
        "bridging": snapshot.scores.get("bridging"),
        # Who the coordinated-voting detector flagged, with the evidence, and who this snapshot left out.
        "coordination": snapshot.scores.get("coordination"),
        # The survey weights the votes counted with (None: unweighted), and the winners with and without them.
        "weighting": {"run": snapshot.weighting_run_id, **snapshot.weighting, **snapshot.scores.get("weighting", {})}
        if snapshot.weighting_run_id is not None
        else None,
    }


def write_json(snapshot: GraphSnapshot, path: Path) -> None:
    path.write_text(json.dumps(snapshot_document(snapshot), indent=1, ensure_ascii=False), encoding="utf-8")


def write_graphml(snapshot: GraphSnapshot, path: Path) -> None:
    """Kept edges only, for graph tools (Gephi, yEd, networkx)."""
    import networkx as nx

    doc = snapshot_document(snapshot)
    graph = nx.DiGraph(study=doc["study"]["slug"], snapshot=snapshot.pk, cycle_policy=doc["snapshot"]["cyclePolicy"])
    for v in doc["values"]:
        graph.add_node(
            v["id"],
            title=v["title"],
            description=v["description"],
            policies="\n".join(v["policies"]),
            external_id=v["externalId"] or "",
            pagerank=v["pagerank"] or 0.0,
            rank=v["rank"] or 0,
        )
    for e in doc["edges"]:
        if e["kept"]:
            graph.add_edge(
                e["sourceValueId"],
                e["wiserValueId"],
                likelihood=e["wiserLikelihood"],
                entropy=e["entropy"],
                contexts="; ".join(e["contexts"]),
                **e["counts"],
            )
    nx.write_graphml(graph, str(path))


def _exported_block(block: dict | None) -> dict | None:
    if not block:
        return block
    keep = set(aggregators.ordered(block.get("scores", {}), "export"))
    return {
        **block,
        "scores": {m: v for m, v in block.get("scores", {}).items() if m in keep},
        "tau": {pair: t for pair, t in block.get("tau", {}).items() if set(pair.split("|")) <= keep},
    }


def exported_aggregators(data: dict | None) -> dict | None:
    """The snapshot's stored rankings, less the methods the table does not export."""
    if not data:
        return data
    out = dict(data)
    if "global" in out:
        out["global"] = _exported_block(out["global"])
    for scope in ("scenario", "context"):
        if scope in out:
            out[scope] = {k: _exported_block(b) for k, b in out[scope].items()}
    return out


def aggregator_rows(data: dict | None) -> tuple[list[list], list[list]]:
    """(scores, scopes) rows: each method's score and rank of each value per
    scope (global, scenario, context), and per scope HodgeRank's cyclic
    share and the robust winners."""
    scores, scopes = [], []
    for scope, blocks in (
        ("global", {"": (data or {}).get("global")}),
        ("scenario", (data or {}).get("scenario", {})),
        ("context", (data or {}).get("context", {})),
    ):
        for scope_id, block in blocks.items():
            if not block:
                continue
            for method, values in block.get("scores", {}).items():
                ranks = positions({int(k): v for k, v in values.items()})
                scores += [[scope, scope_id, method, int(vid), score, ranks[int(vid)]] for vid, score in values.items()]
            scopes.append(
                [
                    scope,
                    scope_id,
                    block.get("cyclic_share"),
                    block.get("k"),
                    " ".join(map(str, block.get("robust_winners", []))),
                ]
            )
    return scores, scopes


def bridging_rows(bridging: dict | None) -> list[list]:
    """One row per kept edge and group."""
    rows = []
    for e in (bridging or {}).get("edges", []):
        for group, g in e["groups"].items():
            rows.append(
                [
                    e["source"],
                    e["target"],
                    e["kind"],
                    group,
                    g["votes"],
                    g["wiser"],
                    g["less_wise"],
                    g["likelihood"],
                    g["entropy"],
                    g["enough_votes"],
                    g["passes"],
                    g["fails_because"] or "",
                ]
            )
    return rows


def coordination_rows(coordination: dict | None) -> list[list]:
    """One row per flagged participant, with their strongest pair's evidence
    and whether (and why) this snapshot left them out."""
    excluded = {e["participant"]: e["reason"] for e in (coordination or {}).get("excluded", [])}
    rows = []
    for f in (coordination or {}).get("flagged", []):
        best = f["partners"][0] if f["partners"] else {}
        rows.append(
            [
                f["participant"],
                f["group"] + 1,
                f["suspicious_pairs"],
                best.get("partner", ""),
                best.get("shared", ""),
                best.get("agreements", ""),
                best.get("expected", ""),
                best.get("log10_p", ""),
                best.get("co_timed", ""),
                " ".join(best.get("signals", [])),
                f["participant"] in excluded,
                excluded.get(f["participant"], ""),
            ]
        )
    return rows


def write_csv(snapshot: GraphSnapshot, directory: Path) -> list[Path]:
    """values.csv, edges.csv (every pair, kept or not), contexts.csv, the
    other aggregators (aggregators.csv, aggregator_scopes.csv), bridging
    (bridging.csv) and the coordinated-voting detector's flags (coordination.csv)."""
    doc = snapshot_document(snapshot)
    agg_scores, agg_scopes = aggregator_rows(doc["aggregators"])
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "values.csv": (
            [
                "id",
                "external_id",
                "title",
                "description",
                "policies",
                "scenarios",
                "pagerank",
                "rank",
                "rank_low",
                "rank_high",
            ],
            [
                [
                    v["id"],
                    v["externalId"] or "",
                    v["title"],
                    v["description"],
                    " | ".join(v["policies"]),
                    " ".join(map(str, v["scenarios"])),
                    v["pagerank"],
                    v["rank"],
                    *(v["rankInterval"] or ["", ""]),
                ]
                for v in doc["values"]
            ],
        ),
        "edges.csv": (
            [
                "source_value_id",
                "wiser_value_id",
                "contexts",
                *COUNT_KEYS.values(),
                "wiser_likelihood",
                "entropy",
                "kept",
                "dropped_because",
            ],
            [
                [
                    e["sourceValueId"],
                    e["wiserValueId"],
                    " | ".join(e["contexts"]),
                    *[e["counts"][k] for k in COUNT_KEYS.values()],
                    e["wiserLikelihood"],
                    e["entropy"],
                    e["kept"],
                    e["droppedBecause"] or "",
                ]
                for e in doc["edges"]
            ],
        ),
        "contexts.csv": (["id", "text", "scenario_id"], [[c["id"], c["text"], c["scenario"]] for c in doc["contexts"]]),
        "aggregators.csv": (["scope", "scope_id", "method", "value_id", "score", "rank"], agg_scores),
        "aggregator_scopes.csv": (["scope", "scope_id", "cyclic_share", "k", "robust_winners"], agg_scopes),
        "bridging.csv": (
            [
                "source_value_id",
                "wiser_value_id",
                "kind",
                "group",
                "votes",
                "wiser",
                "less_wise",
                "likelihood",
                "entropy",
                "enough_votes",
                "passes",
                "fails_because",
            ],
            bridging_rows(doc["bridging"]),
        ),
        "coordination.csv": (
            [
                "participant_id",
                "group",
                "suspicious_pairs",
                "strongest_partner",
                "shared",
                "same_answers",
                "expected_same",
                "log10_p",
                "answered_within_seconds",
                "signals",
                "left_out",
                "left_out_because",
            ],
            coordination_rows(doc["coordination"]),
        ),
    }
    written = []
    for name, (header, rows) in files.items():
        with (directory / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csvfiles.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(directory / name)
    return written


EXPORTERS = {"json": write_json, "graphml": write_graphml, "csv": write_csv}


def export_snapshot(snapshot: GraphSnapshot, fmt: str, path: Path, *, user=None, via: str = "command"):
    """Write the snapshot in `fmt` to `path` (a folder for csv) and record who
    exported it; returns what the writer returns (csv: the files written)."""
    written = EXPORTERS[fmt](snapshot, path)
    record_event(
        events.GRAPH_EXPORTED,
        user=user,
        study_slug=snapshot.study.slug,
        subject=snapshot,
        payload={"format": fmt, "via": via, **({"path": str(path)} if via == "command" else {})},
    )
    return written


# --- import -------------------------------------------------------------------------


class GraphFileError(ValueError):
    """The file is not a moral graph we can read; the message says where."""


def _value_fields(value: ImportedValue) -> dict:
    return {
        "external_id": value.external_id,
        "title": value.title[:TITLE_MAX],
        "description": value.description[:DESCRIPTION_MAX],
        "policies": [p[:POLICY_MAX] for p in value.policies],
    }


def _edge_fields(edge: ImportedEdge) -> dict:
    return {
        "source": edge.source,
        "wiser": edge.wiser,
        "counts": edge.counts.model_dump(by_alias=True),
        "contexts": edge.context_texts or [NO_CONTEXT],
    }


def _spread(n: int, k: int) -> list[int]:
    """n items over k slots as evenly as possible, the first slots first."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def import_graph(study, raw: bytes, *, source_name: str, user=None) -> GraphImport:
    """Read a published moral graph into a study: canonical values (keeping
    their ids as external_id), contexts, anonymous votes and impression
    counts, so that building the graph reproduces the file's edges and
    counts. markedLessWise of A→B is made of yes votes on B→A (as the counts
    were derived); where the file's two directions disagree, the larger
    count is used and the mismatch reported in the summary."""
    digest = hashlib.sha256(raw).hexdigest()
    if GraphImport.objects.filter(study=study, sha256=digest).exists():
        raise GraphFileError("This file has already been imported into this study.")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise GraphFileError(f"The file is not JSON: {err}") from err
    try:
        graph_file = GraphFile.model_validate(data)
    except ValidationError as err:
        raise GraphFileError(file_problem(err)) from err
    values = [_value_fields(v) for v in graph_file.values]
    edges = [_edge_fields(e) for e in graph_file.edges]

    by_pair = {(e["source"], e["wiser"]): e for e in edges}
    yes_needed, mismatches = {}, []
    for (a, b), e in by_pair.items():
        implied = by_pair.get((b, a), {}).get("counts", {}).get("markedLessWise", 0)
        yes_needed[(a, b)] = max(e["counts"]["markedWiser"], implied)
        if (b, a) in by_pair and implied != e["counts"]["markedWiser"]:
            mismatches.append([a, b])
        if (b, a) not in by_pair and e["counts"]["markedLessWise"]:
            yes_needed[(b, a)] = e["counts"]["markedLessWise"]

    with transaction.atomic():
        graph_import = GraphImport.objects.create(
            study=study,
            source_name=source_name[:300],
            sha256=digest,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        made = {}
        for v in values:
            made[v["external_id"]] = CanonicalValue.objects.create(
                study=study, origin=CanonicalValue.Origin.IMPORTED, **v
            )
        context_ids = {}
        for text in sorted({t for e in edges for t in e["contexts"]}):
            context, _ = MoralContext.objects.get_or_create(
                study=study, text=text, defaults={"origin": MoralContext.Origin.IMPORTED}
            )
            context_ids[text] = context.pk
        votes, impressions = [], []
        for (a, b), n_yes in yes_needed.items():
            edge = by_pair.get((a, b)) or by_pair[(b, a)]
            slots = [context_ids[t] for t in edge["contexts"]]
            own = by_pair.get((a, b), {}).get("counts", {})
            for answer, n in (
                ("yes", n_yes),
                ("no", own.get("markedNotWiser", 0)),
                ("unsure", own.get("markedUnsure", 0)),
            ):
                for context_id, k in zip(slots, _spread(n, len(slots))):
                    votes += [
                        WisdomVote(
                            study=study,
                            from_value=made[a],
                            to_value=made[b],
                            context_id=context_id,
                            answer=answer,
                            graph_import=graph_import,
                        )
                        for _ in range(k)
                    ]
            for context_id, k in zip(slots, _spread(own.get("impressions", 0), len(slots))):
                if k:
                    impressions.append(
                        ImportedImpressions(
                            graph_import=graph_import,
                            from_value=made[a],
                            to_value=made[b],
                            context_id=context_id,
                            count=k,
                        )
                    )
        WisdomVote.objects.bulk_create(votes, batch_size=5000)
        ImportedImpressions.objects.bulk_create(impressions, batch_size=5000)
        graph_import.summary = {
            "values": len(values),
            "edges": len(edges),
            "contexts": len(context_ids),
            "votes": len(votes),
            "impressions": sum(i.count for i in impressions),
            "direction_mismatches": mismatches[:100],
        }
        graph_import.save(update_fields=["summary"])
        record_event(
            events.GRAPH_IMPORTED, user=user, study_slug=study.slug, subject=graph_import, payload=graph_import.summary
        )
    return graph_import


def reason_text(reason: str) -> str:
    return REASONS.get(reason, reason)
