"""Reads for the moral graph."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Max

from graph.aggregation import Cell
from graph.models import GraphSnapshot, MoralContext, WisdomVote
from studies.models import COUNTED_SQL, Participant
from values import selectors as value_selectors

_VOTES_SQL = f"""
    SELECT v.from_value_id, v.to_value_id, v.context_id,
           count(*) FILTER (WHERE v.answer = 'yes'),
           count(*) FILTER (WHERE v.answer = 'no'),
           count(*) FILTER (WHERE v.answer = 'unsure'),
           max(v.updated_at)
    FROM graph_wisdomvote v
    LEFT JOIN interviews_participant p ON p.id = v.participant_id
    WHERE v.study_id = %(study)s AND {COUNTED_SQL}
    GROUP BY 1, 2, 3
"""
_IMPRESSIONS_SQL = f"""
    SELECT s.from_value_id, s.to_value_id, s.context_id, count(*)
    FROM graph_storyassignment a
    JOIN graph_transitionstory s ON s.id = a.story_id
    LEFT JOIN interviews_participant p ON p.id = a.participant_id
    WHERE s.study_id = %(study)s AND a.shown_at IS NOT NULL AND {COUNTED_SQL}
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT i.from_value_id, i.to_value_id, i.context_id, sum(i.count)
    FROM graph_importedimpressions i
    JOIN graph_graphimport g ON g.id = i.graph_import_id
    WHERE g.study_id = %(study)s
    GROUP BY 1, 2, 3
"""


def graph_cells(study, *, include_simulated: bool = False) -> tuple[list[Cell], object]:
    """Votes and impressions per (from value, to value, context), counted in
    SQL; values merged into another count for the value they live on in."""
    params = {"study": study.pk, "include_simulated": include_simulated}
    totals: dict[tuple, list] = {}
    newest = None
    with connection.cursor() as cursor:
        cursor.execute(_VOTES_SQL, params)
        vote_rows = cursor.fetchall()
        cursor.execute(_IMPRESSIONS_SQL, params)
        impression_rows = cursor.fetchall()
    ids = {r[0] for r in vote_rows} | {r[1] for r in vote_rows} | {r[0] for r in impression_rows} | {
        r[1] for r in impression_rows}
    live = value_selectors.live_value_id(ids, study)
    for a, b, context, yes, no, unsure, updated in vote_rows:
        key = (live[a], live[b], context)
        if key[0] == key[1]:
            continue  # both ends merged into one value
        cell = totals.setdefault(key, [0, 0, 0, 0])
        cell[0] += yes
        cell[1] += no
        cell[2] += unsure
        newest = updated if newest is None or updated > newest else newest
    for a, b, context, n in impression_rows:
        key = (live[a], live[b], context)
        if key[0] != key[1]:
            totals.setdefault(key, [0, 0, 0, 0])[3] += int(n)
    cells = [Cell(a, b, c, yes=t[0], no=t[1], unsure=t[2], impressions=t[3]) for (a, b, c), t in sorted(totals.items())]
    return cells, newest


def pair_vote_counts(study) -> dict[frozenset, int]:
    """Votes per unordered pair of values (assignment favours the least judged)."""
    out: dict[frozenset, int] = {}
    rows = WisdomVote.objects.filter(study=study).values_list("from_value_id", "to_value_id").annotate(
        n=Count("id")).order_by()
    for a, b, n in rows:
        key = frozenset((a, b))
        out[key] = out.get(key, 0) + n
    return out


def snapshot_values(study) -> dict[int, dict]:
    """What a snapshot keeps of each live value (so it reads the same after
    later edits)."""
    scenarios = value_selectors.value_scenarios(study)
    return {v.pk: {"title": v.title, "description": v.description, "policies": list(v.policies),
                   "external_id": v.external_id, "origin": v.origin, "scenarios": sorted(scenarios.get(v.pk, ()))}
            for v in value_selectors.live_values(study).order_by("pk")}


def snapshot_contexts(study) -> dict[str, dict]:
    return {str(c.pk): {"text": c.text, "scenario": c.scenario_id}
            for c in MoralContext.objects.filter(study=study).order_by("pk")}


def latest_snapshot(study) -> GraphSnapshot | None:
    return GraphSnapshot.objects.filter(study=study).order_by("-created_at", "-id").first()


def simulated_vote_count(study) -> int:
    return WisdomVote.objects.filter(study=study, participant__in=Participant.objects.filter(simulated=True)).count()


def newest_vote_at(study):
    return WisdomVote.objects.filter(study=study).aggregate(newest=Max("updated_at"))["newest"]
