"""Reads for the moral graph."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Count, F, Max, Q, Sum
from procrastinate.contrib.django.models import ProcrastinateJob

from graph import bridging
from graph.aggregation import REASONS, Cell
from graph.coordination import VoteRow
from graph.models import GraphSnapshot, MoralContext, PairCount, StoryAssignment, StoryRun, TransitionStory, WisdomVote
from graph.stories import STORY_LOCK_NAMESPACE
from interviews.models import Interview
from mgeplatform import locks
from mgeplatform.models import LLMCall
from studies.models import COUNTED_SQL, Participant, Step, counted
from values import selectors as value_selectors
from values.models import CanonicalValue

_VOTES_SQL = f"""
    SELECT v.from_value_id, v.to_value_id, v.context_id,
           count(*) FILTER (WHERE v.answer = 'yes'),
           count(*) FILTER (WHERE v.answer = 'no'),
           count(*) FILTER (WHERE v.answer = 'unsure'),
           max(v.updated_at)
    FROM graph_wisdomvote v
    LEFT JOIN interviews_participant p ON p.id = v.participant_id
    WHERE v.study_id = %(study)s AND ({COUNTED_SQL} OR v.participant_id = ANY(%(also)s::uuid[]))
      AND (v.participant_id IS NULL OR NOT v.participant_id = ANY(%(exclude)s::uuid[]))
    GROUP BY 1, 2, 3
"""
_IMPRESSIONS_SQL = f"""
    SELECT s.from_value_id, s.to_value_id, s.context_id, count(*)
    FROM graph_storyassignment a
    JOIN graph_transitionstory s ON s.id = a.story_id
    LEFT JOIN interviews_participant p ON p.id = a.participant_id
    WHERE s.study_id = %(study)s AND a.shown_at IS NOT NULL
      AND ({COUNTED_SQL} OR a.participant_id = ANY(%(also)s::uuid[]))
      AND NOT a.participant_id = ANY(%(exclude)s::uuid[])
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT i.from_value_id, i.to_value_id, i.context_id, sum(i.count)
    FROM graph_importedimpressions i
    JOIN graph_graphimport g ON g.id = i.graph_import_id
    WHERE g.study_id = %(study)s
    GROUP BY 1, 2, 3
"""


# Whose data a build uses (its lineage): the counted voters and story
# viewers it did not leave out, and the authors of the cards behind its values.
# From the study's participants, one index probe each, rather than from
# their votes: a million votes took 2.1 s to read for 50,000 ids.
_CONTRIBUTORS_SQL = f"""
    SELECT p.id FROM interviews_participant p
    WHERE p.study_id = %(study)s AND {COUNTED_SQL} AND (
        (NOT p.id = ANY(%(exclude)s::uuid[]) AND (
            EXISTS (SELECT 1 FROM graph_wisdomvote v WHERE v.participant_id = p.id AND v.study_id = %(study)s)
            OR EXISTS (SELECT 1 FROM graph_storyassignment a WHERE a.participant_id = p.id
                       AND a.shown_at IS NOT NULL)))
        OR EXISTS (SELECT 1 FROM values_valuescard c JOIN interviews_interview i ON i.id = c.interview_id
                   WHERE i.participant_id = p.id AND c.submitted AND c.canonical_id IS NOT NULL))
"""


_COUNTED_KINDS = "c.study_id = %(study)s AND (c.kind = 'counted' OR (%(include_simulated)s AND c.kind = 'simulated'))"
# One row per cell (an imported graph's impressions added in SQL: half the rows to read).
_COUNTS_SQL = f"""
    SELECT from_value_id, to_value_id, context_id, sum(yes), sum(no), sum(unsure), sum(impressions), NULL
    FROM (
        SELECT c.from_value_id, c.to_value_id, c.context_id, c.yes, c.no, c.unsure, c.impressions
        FROM graph_paircount c
        WHERE {_COUNTED_KINDS}
        UNION ALL
        SELECT i.from_value_id, i.to_value_id, i.context_id, 0, 0, 0, i.count
        FROM graph_importedimpressions i
        JOIN graph_graphimport g ON g.id = i.graph_import_id
        WHERE g.study_id = %(study)s
    ) r
    GROUP BY 1, 2, 3
"""
# The votes and impressions of the participants in `exclude` or `also`, each
# row the change to the counts: -1 where the rule counted it but the build
# leaves it out, +1 the other way round (a small scan: a few participants).
_ADJUST_SQL = f"""
    WITH rows AS (
        SELECT v.from_value_id, v.to_value_id, v.context_id, v.answer, v.participant_id,
               {COUNTED_SQL} AS by_rule
        FROM graph_wisdomvote v JOIN interviews_participant p ON p.id = v.participant_id
        WHERE v.study_id = %(study)s AND v.participant_id = ANY(%(changed)s::uuid[])
        UNION ALL
        SELECT s.from_value_id, s.to_value_id, s.context_id, NULL, a.participant_id, {COUNTED_SQL}
        FROM graph_storyassignment a JOIN graph_transitionstory s ON s.id = a.story_id
        JOIN interviews_participant p ON p.id = a.participant_id
        WHERE s.study_id = %(study)s AND a.shown_at IS NOT NULL AND a.participant_id = ANY(%(changed)s::uuid[])
    ), signed AS (
        SELECT *, ((by_rule OR participant_id = ANY(%(also)s::uuid[]))
                   AND NOT participant_id = ANY(%(exclude)s::uuid[]))::int - by_rule::int AS sign
        FROM rows
    )
    SELECT from_value_id, to_value_id, context_id,
           sum(sign) FILTER (WHERE answer = 'yes'), sum(sign) FILTER (WHERE answer = 'no'),
           sum(sign) FILTER (WHERE answer = 'unsure'), sum(sign) FILTER (WHERE answer IS NULL), NULL
    FROM signed WHERE sign <> 0
    GROUP BY 1, 2, 3
"""


def assignment_of(participant, assignment_id: int):
    """The participant's own story assignment with this id, with its story; None
    for another participant's or a missing one."""
    return StoryAssignment.objects.select_related("story").filter(pk=assignment_id, participant=participant).first()


def graph_cells(
    study, *, include_simulated: bool = False, exclude=(), also=(), from_votes: bool = False
) -> tuple[list[Cell], datetime | None]:
    """Votes and impressions per (from value, to value, context); values
    merged into another count for the value they live on in. `exclude`:
    participant ids left out (flagged voters, said in the snapshot);
    `also`: participant ids counted whatever the rule says (a simulated
    attack bloc). Read from the pair counts (graph.models.PairCount), less
    or plus the votes of `exclude` and `also`; `from_votes` counts every vote
    instead (the same cells, slower: kept to check the counts against).
    Also returns the newest answer counted (from the counts: a deletion
    does not lower it, and excluded participants' answers are in it)."""
    params = {
        "study": study.pk,
        "include_simulated": include_simulated,
        "exclude": [str(p) for p in exclude],
        "also": [str(p) for p in also],
    }
    params["changed"] = params["exclude"] + params["also"]
    with connection.cursor() as cursor:
        if from_votes:
            cursor.execute(_VOTES_SQL, params)
            rows = [(*r[:6], 0, r[6]) for r in cursor.fetchall()]
            cursor.execute(_IMPRESSIONS_SQL, params)
            rows += [(a, b, c, 0, 0, 0, n, None) for a, b, c, n in cursor.fetchall()]
        else:
            cursor.execute(_COUNTS_SQL, params)
            rows = cursor.fetchall()
            # One newest time, not one per cell (reading 50,000 timestamps costs more than the counts).
            cursor.execute(f"SELECT max(c.newest) FROM graph_paircount c WHERE {_COUNTED_KINDS}", params)
            newest_counted = cursor.fetchone()[0]
            if params["changed"]:
                cursor.execute(_ADJUST_SQL, params)
                rows += cursor.fetchall()
    live = value_selectors.live_value_id({r[0] for r in rows} | {r[1] for r in rows}, study)
    archived = value_selectors.archived_value_ids(study)
    if not from_votes and not params["changed"] and not archived and all(a == b for a, b in live.items()):
        # The common case: one row per cell already (grouped in SQL) and no merged value to fold in.
        rows.sort()
        return [
            Cell(a, b, c, yes, no, unsure, impressions)
            for a, b, c, yes, no, unsure, impressions, _ in rows
            if a != b and (yes or no or unsure or impressions)
        ], newest_counted
    totals: dict[tuple, list] = {}
    newest = None if from_votes else newest_counted
    for a, b, context, yes, no, unsure, impressions, updated in rows:
        key = (live[a], live[b], context)
        if key[0] == key[1] or key[0] in archived or key[1] in archived:
            continue  # both ends merged into one value, or a value archived
        cell = totals.setdefault(key, [0, 0, 0, 0])
        cell[0] += int(yes or 0)
        cell[1] += int(no or 0)
        cell[2] += int(unsure or 0)
        cell[3] += int(impressions or 0)
        if updated is not None and (newest is None or updated > newest):
            newest = updated
    # A cell left at zero (its votes withdrawn or left out) is no cell, as when counting the votes.
    cells = [
        Cell(a, b, c, yes=t[0], no=t[1], unsure=t[2], impressions=t[3])
        for (a, b, c), t in sorted(totals.items())
        if any(t)
    ]
    return cells, newest


# A weighted build's rows (graph/weighting.py): one per vote, and the
# impressions per viewer and cell, with the participant (NULL: imported).
_WEIGHTED_VOTES_SQL = f"""
    SELECT v.participant_id, v.from_value_id, v.to_value_id, v.context_id, v.answer
    FROM graph_wisdomvote v
    LEFT JOIN interviews_participant p ON p.id = v.participant_id
    WHERE v.study_id = %(study)s AND {COUNTED_SQL}
      AND (v.participant_id IS NULL OR NOT v.participant_id = ANY(%(exclude)s::uuid[]))
"""
_WEIGHTED_IMPRESSIONS_SQL = f"""
    SELECT a.participant_id, s.from_value_id, s.to_value_id, s.context_id, count(*)
    FROM graph_storyassignment a
    JOIN graph_transitionstory s ON s.id = a.story_id
    LEFT JOIN interviews_participant p ON p.id = a.participant_id
    WHERE s.study_id = %(study)s AND a.shown_at IS NOT NULL AND {COUNTED_SQL}
      AND NOT a.participant_id = ANY(%(exclude)s::uuid[])
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT NULL, i.from_value_id, i.to_value_id, i.context_id, sum(i.count)
    FROM graph_importedimpressions i
    JOIN graph_graphimport g ON g.id = i.graph_import_id
    WHERE g.study_id = %(study)s
    GROUP BY 2, 3, 4
"""


def latest_weighted_snapshot(study) -> GraphSnapshot | None:
    """The study's newest snapshot built with survey weights."""
    return GraphSnapshot.objects.filter(study=study, weighting_run_id__isnull=False).first()


def weighted_vote_rows(study, *, include_simulated: bool = False, exclude=()) -> tuple[list, list, dict, set]:
    """The counted votes one by one and the impressions per viewer and cell,
    with the participant, for a weighted build; and the values' live ids and
    the archived values (as `graph_cells` folds them)."""
    params = {"study": study.pk, "include_simulated": include_simulated, "exclude": [str(p) for p in exclude]}
    with connection.cursor() as cursor:
        cursor.execute(_WEIGHTED_VOTES_SQL, params)
        votes = cursor.fetchall()
        cursor.execute(_WEIGHTED_IMPRESSIONS_SQL, params)
        impressions = cursor.fetchall()
    ids = {r[1] for r in votes} | {r[2] for r in votes} | {r[1] for r in impressions} | {r[2] for r in impressions}
    return votes, impressions, value_selectors.live_value_id(ids, study), value_selectors.archived_value_ids(study)


_GROUP_SQL = """
    LEFT JOIN interviews_participant p ON p.id = {alias}.participant_id
    LEFT JOIN interviews_prolificdemographics d ON d.participant_id = p.id"""
_GROUP_VOTES_SQL = f"""
    SELECT v.from_value_id, v.to_value_id, v.context_id, d.data ->> %(column)s,
           count(*) FILTER (WHERE v.answer = 'yes'),
           count(*) FILTER (WHERE v.answer = 'no'),
           count(*) FILTER (WHERE v.answer = 'unsure')
    FROM graph_wisdomvote v {_GROUP_SQL.format(alias="v")}
    WHERE v.study_id = %(study)s AND {COUNTED_SQL}
      AND (v.participant_id IS NULL OR NOT v.participant_id = ANY(%(exclude)s::uuid[]))
    GROUP BY 1, 2, 3, 4
"""
_GROUP_IMPRESSIONS_SQL = f"""
    SELECT s.from_value_id, s.to_value_id, s.context_id, d.data ->> %(column)s, count(*)
    FROM graph_storyassignment a
    JOIN graph_transitionstory s ON s.id = a.story_id {_GROUP_SQL.format(alias="a")}
    WHERE s.study_id = %(study)s AND a.shown_at IS NOT NULL AND {COUNTED_SQL}
      AND NOT a.participant_id = ANY(%(exclude)s::uuid[])
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT i.from_value_id, i.to_value_id, i.context_id, NULL, sum(i.count)
    FROM graph_importedimpressions i
    JOIN graph_graphimport g ON g.id = i.graph_import_id
    WHERE g.study_id = %(study)s
    GROUP BY 1, 2, 3
"""
_GROUP_VOTERS_SQL = f"""
    SELECT d.data ->> %(column)s, count(DISTINCT v.participant_id)
    FROM graph_wisdomvote v {_GROUP_SQL.format(alias="v")}
    WHERE v.study_id = %(study)s AND v.participant_id IS NOT NULL AND {COUNTED_SQL}
      AND NOT v.participant_id = ANY(%(exclude)s::uuid[])
    GROUP BY 1
"""


def demographic_column(study, attribute: str) -> str | None:
    """The key of Prolific's demographic export that means `attribute` in
    this study's imported demographics (exact, else ignoring case)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT jsonb_object_keys(d.data) FROM interviews_prolificdemographics d "
            "JOIN interviews_participant p ON p.id = d.participant_id WHERE p.study_id = %s",
            [study.pk],
        )
        keys = [row[0] for row in cursor.fetchall()]
    return bridging.find_key(keys, attribute)


def graph_cells_by_group(
    study, attribute: str, *, include_simulated: bool = False, exclude=()
) -> tuple[str | None, dict[str, list[Cell]], dict[str, int]]:
    """The votes and impressions of `graph_cells`, split by the voter's
    answer to a demographic attribute (bridging.group_of: no demographics,
    no answer and imported votes are "unknown"). Returns the column found,
    the cells per group and the voters per group. `exclude`: participant
    ids left out, as in `graph_cells`."""
    column = demographic_column(study, attribute)
    params = {
        "study": study.pk,
        "include_simulated": include_simulated,
        "column": column or "",
        "exclude": [str(p) for p in exclude],
    }
    with connection.cursor() as cursor:
        cursor.execute(_GROUP_VOTES_SQL, params)
        vote_rows = cursor.fetchall()
        cursor.execute(_GROUP_IMPRESSIONS_SQL, params)
        impression_rows = cursor.fetchall()
        cursor.execute(_GROUP_VOTERS_SQL, params)
        voter_rows = cursor.fetchall()
    ids = (
        {r[0] for r in vote_rows}
        | {r[1] for r in vote_rows}
        | {r[0] for r in impression_rows}
        | {r[1] for r in impression_rows}
    )
    live = value_selectors.live_value_id(ids, study)
    archived = value_selectors.archived_value_ids(study)
    totals: dict[str, dict[tuple, list]] = {}
    for a, b, context, answer, yes, no, unsure in vote_rows:
        key = (live[a], live[b], context)
        if key[0] != key[1] and not archived.intersection(key[:2]):
            cell = totals.setdefault(bridging.group_of(answer), {}).setdefault(key, [0, 0, 0, 0])
            cell[0] += yes
            cell[1] += no
            cell[2] += unsure
    for a, b, context, answer, n in impression_rows:
        key = (live[a], live[b], context)
        if key[0] != key[1] and not archived.intersection(key[:2]):
            totals.setdefault(bridging.group_of(answer), {}).setdefault(key, [0, 0, 0, 0])[3] += int(n)
    voters: dict[str, int] = {}
    for answer, n in voter_rows:
        voters[bridging.group_of(answer)] = voters.get(bridging.group_of(answer), 0) + n
    cells = {
        g: [Cell(a, b, c, yes=t[0], no=t[1], unsure=t[2], impressions=t[3]) for (a, b, c), t in sorted(rows.items())]
        for g, rows in totals.items()
    }
    return column, cells, voters


def participant_groups(study, attribute: str) -> tuple[str | None, dict[str, str]]:
    """Each participant's group by their answer to a demographic attribute
    (bridging.group_of: no demographics or no answer is "unknown"), for the
    weighted bridging groups: the column found and {participant id: group}."""
    column = demographic_column(study, attribute)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id::text, d.data ->> %(column)s FROM interviews_participant p "
            "LEFT JOIN interviews_prolificdemographics d ON d.participant_id = p.id WHERE p.study_id = %(study)s",
            {"study": study.pk, "column": column or ""},
        )
        return column, {pid: bridging.group_of(answer) for pid, answer in cursor.fetchall()}


def coordination_votes(study, *, include_simulated: bool = False, also=()) -> list[VoteRow]:
    """Every counted participant's answers for the coordination detector:
    values merged into another named by the value they live on in, the time
    of the first answer in seconds since the epoch. Imported votes have no
    participant and are left out."""
    rows = list(
        WisdomVote.objects.filter(study=study, participant__isnull=False)
        .filter(counted("participant", include_simulated) | Q(participant_id__in=list(also)))
        .values_list("participant_id", "from_value_id", "to_value_id", "context_id", "answer", "created_at")
        .order_by("created_at", "pk")
    )
    live = value_selectors.live_value_id({r[1] for r in rows} | {r[2] for r in rows}, study)
    archived = value_selectors.archived_value_ids(study)
    return [
        VoteRow(str(p), live[a], live[b], c, answer, at.timestamp())
        for p, a, b, c, answer, at in rows
        if live[a] != live[b] and live[a] not in archived and live[b] not in archived
    ]


def pair_vote_counts(study) -> dict[frozenset, int]:
    """Votes per unordered pair of values (assignment favours the least
    judged), every participant's, from the pair counts."""
    out: dict[frozenset, int] = {}
    rows = (
        PairCount.objects.filter(study=study)
        .values_list("from_value_id", "to_value_id")
        .annotate(n=Sum(F("yes") + F("no") + F("unsure")))
        .order_by()
    )
    for a, b, n in rows:
        if n:
            key = frozenset((a, b))
            out[key] = out.get(key, 0) + n
    return out


def snapshot_values(study) -> dict[int, dict]:
    """What a snapshot keeps of each live value (so it reads the same after
    later edits)."""
    scenarios = value_selectors.value_scenarios(study)
    # Only the fields kept: a whole row carries the value's embedding.
    rows = (
        value_selectors.live_values(study)
        .order_by("pk")
        .values_list("pk", "title", "description", "policies", "external_id", "origin")
    )
    return {
        pk: {
            "title": title,
            "description": description,
            "policies": list(policies),
            "external_id": external_id,
            "origin": origin,
            "scenarios": sorted(scenarios.get(pk, ())),
        }
        for pk, title, description, policies, external_id, origin in rows
    }


def snapshot_contexts(study) -> dict[str, dict]:
    return {
        str(c.pk): {"text": c.text, "scenario": c.scenario_id}
        for c in MoralContext.objects.filter(study=study).order_by("pk")
    }


def latest_snapshot(study) -> GraphSnapshot | None:
    return GraphSnapshot.objects.filter(study=study).order_by("-created_at", "-id").first()


def vote_tally(study) -> dict:
    """The votes a graph build counts without simulated participants, and the
    simulated ones it would add if asked (staff previews never count); from
    the pair counts."""
    by_kind = dict(
        PairCount.objects.filter(study=study)
        .values_list("kind")
        .annotate(n=Sum(F("yes") + F("no") + F("unsure")))
        .order_by()
    )
    real, simulated = by_kind.get(PairCount.Kind.COUNTED) or 0, by_kind.get(PairCount.Kind.SIMULATED) or 0
    return {"counted": real, "simulated": simulated, "all_simulated": simulated > 0 and real == 0}


def simulated_vote_count(study) -> int:
    return WisdomVote.objects.filter(study=study, participant__in=Participant.objects.filter(simulated=True)).count()


def newest_vote_at(study):
    return WisdomVote.objects.filter(study=study).aggregate(newest=Max("updated_at"))["newest"]


# --- provenance: from a value to its edges, stories, votes and voters ------------------


def value_family(value) -> set[int]:
    """The value and every value merged (perhaps repeatedly) into it: votes
    and stories written before a merge still name the old ids."""
    ids = list(CanonicalValue.objects.filter(study_id=value.study_id).values_list("pk", flat=True))
    live = value_selectors.live_value_id(ids, value.study)
    return {pk for pk, to in live.items() if to == value.pk} | {value.pk}


def snapshot_edges_of(value, snapshot) -> list[dict]:
    """The snapshot's edges (kept and dropped) that touch the value, each
    with the other value's title and which way the wisdom points."""
    rows = []
    for e in snapshot.edges if snapshot else []:
        if value.pk not in (e["source"], e["target"]):
            continue
        wiser = e["source"] == value.pk  # the edge points to the wiser value
        other = e["target"] if wiser else e["source"]
        rows.append(
            {
                **e,
                "toward_other": wiser,
                "other": other,
                "other_title": (snapshot.values.get(str(other)) or {}).get("title", f"value {other}"),
                "source_title": (snapshot.values.get(str(e["source"])) or {}).get("title", e["source"]),
                "target_title": (snapshot.values.get(str(e["target"])) or {}).get("title", e["target"]),
                "reason_text": "" if e["kept"] else REASONS.get(e["reason"], e["reason"]),
                "contexts_text": [(snapshot.contexts.get(str(c)) or {}).get("text", str(c)) for c in e["contexts"]],
            }
        )
    return sorted(rows, key=lambda r: (not r["kept"], -r["counts"]["wiser"], r["other"]))


def judged_pairs_of(value) -> list[dict]:
    """Every (from, to, context) with a story or a vote that involves the
    value (or a value merged into it), with its stories and vote counts."""
    family = value_family(value)
    touching = Q(from_value__in=family) | Q(to_value__in=family)
    pairs: dict[tuple, dict] = {}

    def row(from_value, to_value, context):
        key = (from_value.pk, to_value.pk, context.pk)
        return pairs.setdefault(
            key,
            {
                "from_value": from_value,
                "to_value": to_value,
                "context": context,
                "stories": [],
                "yes": 0,
                "no": 0,
                "unsure": 0,
            },
        )

    for story in (
        TransitionStory.objects.filter(touching, study_id=value.study_id)
        .select_related("from_value", "to_value", "context")
        .order_by("created_at", "pk")
    ):
        row(story.from_value, story.to_value, story.context)["stories"].append(story)
    for vote in WisdomVote.objects.filter(touching, study_id=value.study_id).select_related(
        "from_value", "to_value", "context"
    ):
        row(vote.from_value, vote.to_value, vote.context)[vote.answer] += 1
    return sorted(
        pairs.values(),
        key=lambda r: (-(r["yes"] + r["no"] + r["unsure"]), r["from_value"].pk, r["to_value"].pk, r["context"].pk),
    )


def edge_provenance(study, from_value, to_value, context_id: int | None = None) -> list[dict]:
    """Both directions of a pair of values (the reverse direction's "wiser"
    counts as "less wise" for this one): per direction and context, the
    stories with the LLM calls that wrote them, and the votes with the
    voter's interviews."""
    from_ids, to_ids = value_family(from_value), value_family(to_value)
    directions = []
    for a, b, a_ids, b_ids in ((from_value, to_value, from_ids, to_ids), (to_value, from_value, to_ids, from_ids)):
        where = Q(study=study, from_value__in=a_ids, to_value__in=b_ids)
        if context_id is not None:
            where &= Q(context_id=context_id)
        stories = list(
            TransitionStory.objects.filter(where)
            .select_related("context", "from_value", "to_value")
            .order_by("context_id", "created_at")
        )
        votes = list(
            WisdomVote.objects.filter(where)
            .select_related("context", "from_value", "to_value", "participant", "story", "graph_import")
            .order_by("context_id", "created_at", "pk")
        )
        calls = {
            c.pk: c
            for c in LLMCall.objects.filter(
                pk__in={pk for s in stories for pk in [*(s.chain_calls or []), s.llm_call_id] if pk}
            )
        }
        interviews: dict = {}
        for interview in (
            Interview.objects.filter(
                participant__in={v.participant_id for v in votes if v.participant_id}, scenario__study=study
            )
            .select_related("scenario")
            .order_by("created_at")
        ):
            interviews.setdefault(interview.participant_id, []).append(interview)
        contexts: dict[int, dict] = {}
        for story in stories:
            block = contexts.setdefault(story.context_id, {"context": story.context, "stories": [], "votes": []})
            chain = [calls[pk] for pk in story.chain_calls or [] if pk in calls]
            if story.llm_call_id in calls and calls[story.llm_call_id] not in chain:
                chain.append(calls[story.llm_call_id])
            block["stories"].append({"story": story, "calls": chain})
        for vote in votes:
            block = contexts.setdefault(vote.context_id, {"context": vote.context, "stories": [], "votes": []})
            own = interviews.get(vote.participant_id, [])
            # The interview about the context's scenario first: that is where the voter's own value came from.
            own = sorted(own, key=lambda i: i.scenario_id != vote.context.scenario_id)
            block["votes"].append({"vote": vote, "interviews": own})
        directions.append(
            {
                "from_value": a,
                "to_value": b,
                "contexts": list(contexts.values()),
                "votes": len(votes),
                "stories": len(stories),
            }
        )
    return directions


def contributors(study, *, include_simulated: bool = False, exclude=()) -> list:
    """The participants whose data a build of the study's graph uses now
    (see _CONTRIBUTORS_SQL), for the snapshot's lineage."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CONTRIBUTORS_SQL,
            {"study": study.pk, "include_simulated": include_simulated, "exclude": [str(p) for p in exclude]},
        )
        return sorted(row[0] for row in cursor.fetchall())


def withdrawn_contributors(snapshot) -> list:
    """The participants whose data the snapshot used and who have withdrawn
    since ([] for a snapshot built before lineage was kept)."""
    if not snapshot.contributors:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id FROM interviews_participant p "
            "JOIN graph_graphsnapshot s ON p.id = ANY(s.contributors) "
            "WHERE s.id = %s AND p.study_id = s.study_id AND p.current_step = %s ORDER BY p.id",
            [snapshot.pk, Step.WITHDRAWN],
        )
        return [row[0] for row in cursor.fetchall()]


def lineage(snapshot) -> dict:
    """What a page or an export says of the data behind a snapshot: how many
    of the participants it used have withdrawn since, and the snapshot built
    again without them, if any."""
    withdrawn = withdrawn_contributors(snapshot)
    newer = snapshot.superseded_by.order_by("-created_at", "-pk").first()
    return {
        "recorded": snapshot.contributors is not None,
        "participants": len(snapshot.contributors or []),
        "withdrawn": len(withdrawn),
        "superseded_by": newer.pk if newer else None,
        "supersedes": snapshot.supersedes_id,
        "text": lineage_text(len(withdrawn), newer.pk if newer else None),
    }


def newest_rebuild(snapshot) -> GraphSnapshot | None:
    """The end of the chain of snapshots built again from this one (each
    without the participants who had withdrawn by then); None if none."""
    newest = None
    current = snapshot
    while (current := current.superseded_by.order_by("-created_at", "-pk").first()) is not None:
        newest = current
    return newest


def lineage_text(withdrawn: int, superseded_by: int | None) -> str:
    if not withdrawn:
        return ""
    who = "1 participant" if withdrawn == 1 else f"{withdrawn} participants"
    text = f"Built with data of {who} who later withdrew."
    if superseded_by:
        text += f" Snapshot {superseded_by} was built again without them."
    return text


# --- before launch: are there values and stories for every question? ------------------

READY_VALUES = 2  # per question: values to pair...
READY_STORIES = 1  # ...and stories to judge, so the first participants have something at both steps


def story_run_in_progress(study) -> bool:
    """A story run of the study is being written now (it holds the study's story lock)."""
    return locks.advisory_lock_held(STORY_LOCK_NAMESPACE, study.pk)


def story_writing(study) -> dict:
    """Where story writing stands: a run being written (with its counts so
    far), runs queued for the worker, and the last run."""
    queued = ProcrastinateJob.objects.filter(
        task_name__in=["graph.generate_stories", "graph.write_stories_for_waiting"],
        status__in=["todo", "doing"],
        args__study_id=study.pk,
    ).count()
    latest = StoryRun.objects.filter(study=study).order_by("-started_at", "-pk").first()
    return {"writing": story_run_in_progress(study), "queued": queued, "latest": latest}


def launch_readiness(study) -> dict:
    """Per active question: its live canonical values and active stories
    (both ends live, in that question's contexts). Ready when every
    question has at least READY_VALUES values and READY_STORIES story."""
    scenarios = list(study.scenarios.filter(active=True).order_by("order", "pk"))
    live = set(value_selectors.live_values(study).values_list("pk", flat=True))
    per_value = value_selectors.value_scenarios(study)
    stories = dict(
        TransitionStory.objects.filter(
            study=study,
            status=TransitionStory.Status.ACTIVE,
            from_value__merged_into__isnull=True,
            to_value__merged_into__isnull=True,
            context__scenario__in=scenarios,
        )
        .values_list("context__scenario_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = []
    for scenario in scenarios:
        n_values = sum(1 for pk, ids in per_value.items() if pk in live and scenario.pk in ids)
        n_stories = stories.get(scenario.pk, 0)
        few_values, no_stories = n_values < READY_VALUES, n_stories < READY_STORIES
        todo = (
            "seed values, then write stories"
            if few_values and no_stories
            else "seed values"
            if few_values
            else "write stories"
            if no_stories
            else ""
        )
        rows.append({"scenario": scenario, "values": n_values, "stories": n_stories, "ready": not todo, "todo": todo})
    return {
        "scenarios": rows,
        "ready": bool(rows) and all(r["ready"] for r in rows),
        "min_values": READY_VALUES,
        "min_stories": READY_STORIES,
        **story_writing(study),
    }
