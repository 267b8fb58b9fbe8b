"""Writes for the moral graph: which stories a participant judges, their
votes, and building a snapshot of the graph (paper 4.4)."""

from __future__ import annotations

import gc
import random
import time
from contextlib import contextmanager

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from pgvector.django import CosineDistance
from procrastinate.exceptions import AlreadyEnqueued

from graph import aggregation, aggregators, bridging, coordination, events, selectors
from graph.models import REBUILD_SQL, GraphSnapshot, StoryAssignment, TransitionStory, WisdomVote
from mgeplatform import inputs
from mgeplatform.audit import participant_context, record_event
from studies import steps
from studies.models import Step
from values import selectors as value_selectors

REASON_MAX_CHARS = 1000


# --- assignment --------------------------------------------------------------------


def _pair(a: int, b: int) -> frozenset:
    return frozenset((a, b))


def choose_stories(
    candidates: list[dict], *, n: int, own_value: int | None, judged: set[frozenset], rng: random.Random
) -> list[int]:
    """Pick n story ids (pure, for testing): never a pair of values the
    participant has judged before (in either direction, in any context);
    stories starting from the participant's own value first, then those
    starting closest to it, then pairs with fewest votes. Each pair once
    while there are enough pairs; when there are fewer pairs than n, a pair
    already chosen comes back in another context, same direction (a vote is
    about a context, so it is a new question).

    candidates: [{id, from, to, context (optional), distance (from-value to
    the participant's card, or None), pair_votes}]"""

    def key(c):
        own = 0 if own_value is not None and c["from"] == own_value else 1
        distance = round(c["distance"], 1) if c["distance"] is not None else 9.0
        return own, distance, c["pair_votes"], rng.random()

    ordered = [c for c in sorted(candidates, key=key) if _pair(c["from"], c["to"]) not in judged]
    chosen: list[dict] = []
    used: set[frozenset] = set()
    for candidate in ordered:
        if len(chosen) == n:
            break
        pair = _pair(candidate["from"], candidate["to"])
        if pair not in used:
            chosen.append(candidate)
            used.add(pair)
    directions = {(c["from"], c["to"]) for c in chosen}
    asked = {(c["from"], c["to"], c.get("context")) for c in chosen}
    for candidate in ordered:  # fewer pairs than stories: the same pairs in other contexts
        if len(chosen) == n:
            break
        question = (candidate["from"], candidate["to"], candidate.get("context"))
        if question[:2] in directions and question not in asked:
            chosen.append(candidate)
            asked.add(question)
    return [c["id"] for c in chosen]


def assign_stories(participant) -> list[StoryAssignment]:
    """The participant's stories, chosen once (a reload shows the same)."""
    existing = list(participant.story_assignments.select_related("story").order_by("position"))
    if existing:
        return existing
    study = participant.study
    card = value_selectors.submitted_card(participant)
    own = None
    if card is not None and card.canonical_id:
        own = value_selectors.live_value_id([card.canonical_id], study)[card.canonical_id]
    stories = TransitionStory.objects.filter(
        study=study,
        status=TransitionStory.Status.ACTIVE,
        from_value__merged_into__isnull=True,
        to_value__merged_into__isnull=True,
    )
    # Only the participant's own question's contexts: a parenting participant
    # is never asked about a context written for another question.
    stories = stories.filter(context__scenario_id=card.interview.scenario_id if card is not None else None)
    if card is not None and card.embedding is not None:
        stories = stories.annotate(distance=CosineDistance("from_value__embedding", card.embedding))
    rows = list(
        stories.values(
            "id",
            "from_value_id",
            "to_value_id",
            "context_id",
            *(["distance"] if card is not None and card.embedding is not None else []),
        )
    )
    votes = selectors.pair_vote_counts(study)
    judged = {
        _pair(a, b)
        for a, b in WisdomVote.objects.filter(participant=participant).values_list("from_value_id", "to_value_id")
    }
    candidates = [
        {
            "id": r["id"],
            "from": r["from_value_id"],
            "to": r["to_value_id"],
            "context": r["context_id"],
            "distance": r.get("distance"),
            "pair_votes": votes.get(_pair(r["from_value_id"], r["to_value_id"]), 0),
        }
        for r in rows
    ]
    picked = choose_stories(
        candidates,
        n=study.stories_per_participant,
        own_value=own,
        judged=judged,
        rng=random.Random(str(participant.pk)),
    )
    try:
        with transaction.atomic(), participant_context(participant.pk):
            StoryAssignment.objects.bulk_create(
                [
                    StoryAssignment(participant=participant, story_id=story_id, position=i)
                    for i, story_id in enumerate(picked)
                ]
            )
            record_event(
                events.GRAPH_STORIES_ASSIGNED,
                participant_id=participant.pk,
                study_slug=study.slug,
                subject=participant,
                payload={"stories": picked},
            )
    except IntegrityError:  # a second tab assigned them first
        pass
    return list(participant.story_assignments.select_related("story").order_by("position"))


def _first_unvoted(participant, assignments) -> StoryAssignment | None:
    voted = {(v.from_value_id, v.to_value_id, v.context_id) for v in WisdomVote.objects.filter(participant=participant)}
    for assignment in assignments:
        s = assignment.story
        if (s.from_value_id, s.to_value_id, s.context_id) not in voted:
            return assignment
    return None


def current_assignment(participant) -> StoryAssignment | None:
    """The story the participant is asked about now (read only)."""
    return _first_unvoted(participant, participant.story_assignments.select_related("story").order_by("position"))


def next_assignment(participant, *, mark_shown: bool = True) -> StoryAssignment | None:
    """The first assigned story without a vote, marked as shown."""
    assignment = _first_unvoted(participant, assign_stories(participant))
    if assignment is not None and assignment.shown_at is None and mark_shown:
        assignment.shown_at = timezone.now()
        StoryAssignment.objects.filter(pk=assignment.pk, shown_at__isnull=True).update(shown_at=assignment.shown_at)
    return assignment


def on_enter_stories(participant) -> str | None:
    """Entry work of the stories step: choose the participant's stories and
    show the first. When stories for their question may still be written
    (values without stories yet), the background job is asked to write them
    and the participant waits (journey page; the job moves them on). With
    nothing to judge, the step is skipped and the skip recorded."""
    if next_assignment(participant) is not None:
        return None
    if stories_may_come(participant):
        request_stories(participant.study_id)
        return None
    return _no_stories(participant, "no stories for this question")


def _no_stories(participant, reason: str) -> str:
    record_event(
        events.GRAPH_NO_STORIES,
        participant_id=participant.pk,
        study_slug=participant.study.slug,
        subject=participant,
        payload={"reason": reason},
    )
    return steps.next_step(participant, Step.STORIES)


def stories_may_come(participant) -> bool:
    """The participant's question has two or more values and one of them
    is in no active story for that question yet (a story run would pair
    it), or a story run for the study is being written now."""
    card = value_selectors.submitted_card(participant)
    if card is None or not card.interview.scenario_id:
        return False
    scenario_id = card.interview.scenario_id
    in_scenario = [
        pk for pk, scenarios in value_selectors.value_scenarios(participant.study).items() if scenario_id in scenarios
    ]
    live = set(value_selectors.live_values(participant.study).filter(pk__in=in_scenario).values_list("pk", flat=True))
    if len(live) < 2:
        return False
    if selectors.story_run_in_progress(participant.study):
        return True
    # Stories of this question only: a value paired in another question's contexts is still unpaired here.
    stories = TransitionStory.objects.filter(
        study_id=participant.study_id, status=TransitionStory.Status.ACTIVE, context__scenario_id=scenario_id
    )
    with_story = set(stories.values_list("from_value_id", flat=True)) | set(
        stories.values_list("to_value_id", flat=True)
    )
    return bool(live - with_story)


def request_stories(study_id: int) -> None:
    """Ask the worker to write the study's missing stories and then serve the
    participants waiting for them (once per study at a time)."""
    # graph.tasks imports this module; the task is only needed here, after commit.
    from graph import tasks

    def defer():
        try:
            tasks.write_stories_for_waiting.configure(queueing_lock=f"stories-waiting-{study_id}").defer(
                study_id=study_id
            )
        except AlreadyEnqueued:  # a run for this study is already queued: it serves everyone waiting
            pass

    transaction.on_commit(defer)


def write_stories_ahead(study, *, user=None) -> None:
    """A coordinator asks for the study's stories now (before launch, say,
    for values seeded from a file): a story run is queued for the worker,
    and followed on the console. A run already queued is not queued twice."""
    # graph.tasks imports this module; the task is only needed here, after commit.
    from graph import tasks

    def defer():
        if selectors.story_writing(study)["queued"]:
            return  # a run not yet started writes whatever this one would
        try:
            tasks.generate_stories.configure(queueing_lock=f"stories-ahead-{study.pk}").defer(study_id=study.pk)
        except AlreadyEnqueued:  # queued by another click meanwhile
            pass

    with transaction.atomic():
        record_event(
            events.GRAPH_STORIES_REQUESTED,
            user=user if getattr(user, "is_authenticated", False) else None,
            study_slug=study.slug,
            subject=study,
            payload={"via": "console"},
        )
        transaction.on_commit(defer)


def waiting_for_stories(study):
    return study.participants.filter(current_step=Step.STORIES, story_assignments__isnull=True)


def serve_waiting(study, *, failed: bool = False) -> dict:
    """After a story run: participants waiting at the stories step get their
    stories (their page reloads by itself) or, with none, move on."""
    served = {"assigned": 0, "moved_on": 0}
    for participant in waiting_for_stories(study):
        if not failed and next_assignment(participant) is not None:
            steps.refresh(participant.pk)
            served["assigned"] += 1
            continue
        reason = "story writing failed" if failed else "no stories could be written for this question"
        _no_stories(participant, reason)
        if steps.skip(participant, Step.STORIES, reason=reason):
            served["moved_on"] += 1
    return served


@transaction.atomic
def vote_and_continue(*, participant, assignment: StoryAssignment, answer: str, reason: str = "") -> WisdomVote:
    """Record the vote, then show the next story or, after the last, move on."""
    vote = record_vote(participant=participant, assignment=assignment, answer=answer, reason=reason)
    if next_assignment(participant) is None:
        steps.finish(participant, Step.STORIES)
    return vote


# --- votes -------------------------------------------------------------------------


class VoteError(ValueError):
    pass


def record_vote(*, participant, assignment: StoryAssignment, answer: str, reason: str = "") -> WisdomVote:
    """Store "did this person become wiser?". A second submit (double click,
    back button, second tab) updates the same vote, never adds one."""
    if answer not in WisdomVote.Answer.values:
        raise VoteError("Please choose yes, no or not sure.")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_CHARS:
        raise VoteError(f"Please keep the reason under {REASON_MAX_CHARS} characters (it has {len(reason)}).")
    try:
        inputs.check_text(reason, what="Your reason")
    except inputs.BadInput as err:
        raise VoteError(err.message) from None
    if assignment.participant_id != participant.pk:
        raise VoteError("This story was not given to you.")
    story = assignment.story
    taken = None
    if assignment.shown_at:
        taken = int((timezone.now() - assignment.shown_at).total_seconds() * 1000)
    key = {
        "participant": participant,
        "from_value_id": story.from_value_id,
        "to_value_id": story.to_value_id,
        "context_id": story.context_id,
    }
    for attempt in range(2):
        try:
            with transaction.atomic(), participant_context(participant.pk):
                vote = WisdomVote.objects.select_for_update().filter(**key).first()
                if vote is None:
                    vote = WisdomVote.objects.create(
                        study_id=participant.study_id,
                        story=story,
                        answer=answer,
                        reason=reason,
                        time_taken_ms=taken,
                        **key,
                    )
                    kind = events.GRAPH_VOTE
                else:
                    vote.answer, vote.reason, vote.story = answer, reason, story
                    vote.save(update_fields=["answer", "reason", "story", "updated_at"])
                    kind = events.GRAPH_VOTE_CHANGED
                record_event(
                    kind,
                    participant_id=participant.pk,
                    study_slug=participant.study.slug,
                    subject=vote,
                    payload={"story": story.pk, "answer": answer},
                )
                return vote
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


# --- building the graph ----------------------------------------------------------

# What a quick build leaves out: each goes through every vote (coordination,
# bridging) or ranks the graph many times over (bootstrap, the other
# aggregators), far beyond a few seconds at a million votes.
QUICK_SKIPS = ("coordination", "bootstrap", "context_bootstrap", "aggregators", "bridging")


def rebuild_pair_counts(study=None) -> int:
    """Count a study's (or, with None, every study's) votes and impressions
    again into graph.models.PairCount, e.g. after a bulk load with the
    triggers off. Writes to the votes and story impressions wait until it is
    done (a share lock), so none is counted twice or missed. Returns the
    rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE graph_wisdomvote, graph_storyassignment IN SHARE MODE")
        if study is None:
            cursor.execute("DELETE FROM graph_paircount")
        else:
            cursor.execute("DELETE FROM graph_paircount WHERE study_id = %s", [study.pk])
        cursor.execute(REBUILD_SQL, {"study": study.pk if study is not None else None})
        return cursor.rowcount


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
    again from (rebuild_without_withdrawn)."""
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

    intervals, context_intervals, others, bridged = {}, None, None, None
    if not quick:
        t = time.perf_counter()
        intervals = aggregation.bootstrap(cells, params, nodes=values.keys())
        stages["bootstrap"] = time.perf_counter() - t
        t = time.perf_counter()
        context_intervals = _context_intervals(cells, params, contexts, result)
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
        bridged = _bridging(
            study, params, kept, contexts, include_simulated, bridging_attribute, bridging_min_votes, exclude=exclude
        )
        stages["bridging"] = time.perf_counter() - t

    reasons = {}
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
                        ("coordination", coordinated),
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


def _context_intervals(cells, params, contexts, result) -> dict:
    """{context: {value: bootstrap rank interval within the context}} as
    stored in the snapshot's scores ("context_intervals")."""
    intervals = aggregation.bootstrap_by_context(cells, params, contexts=[int(c) for c in contexts], full=result)
    return {str(cid): {str(v): i for v, i in by_value.items()} for cid, by_value in intervals.items()}


def _bridging(study, params, kept, contexts, include_simulated, attribute, min_votes, exclude=()) -> dict:
    """The kept edges per group of `attribute` and each group's own graph."""
    column, group_cells, voters = selectors.graph_cells_by_group(
        study, attribute, include_simulated=include_simulated, exclude=exclude
    )
    scenario_contexts: dict[str, set[int]] = {}
    for cid, c in contexts.items():
        if c["scenario"]:
            scenario_contexts.setdefault(str(c["scenario"]), set()).add(int(cid))
    return bridging.bridging(
        group_cells,
        kept,
        params,
        attribute=attribute,
        column=column,
        scenario_contexts=scenario_contexts,
        participants=voters,
        min_votes=min_votes,
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
