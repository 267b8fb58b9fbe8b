"""Writes for the moral graph: which stories a participant judges, their
votes, and building a snapshot of the graph (paper 4.4)."""

from __future__ import annotations

import random
import time

from django.db import IntegrityError, transaction
from django.utils import timezone
from pgvector.django import CosineDistance

from graph import aggregation, events, selectors
from graph.models import GraphSnapshot, StoryAssignment, TransitionStory, WisdomVote
from mgeplatform.audit import participant_context, record_event
from studies import steps
from studies.models import Step
from values import selectors as value_selectors

REASON_MAX_CHARS = 1000


# --- assignment --------------------------------------------------------------------

def _pair(a: int, b: int) -> frozenset:
    return frozenset((a, b))


def choose_stories(candidates: list[dict], *, n: int, own_value: int | None, judged: set[frozenset],
                   rng: random.Random) -> list[int]:
    """Pick n story ids (pure, for testing): never a pair of values the
    participant has judged (in either direction, in any context) and never
    the same pair twice; stories starting from the participant's own value
    first, then those starting closest to it, then pairs with fewest votes.

    candidates: [{id, from, to, distance (from-value to the participant's
    card, or None), pair_votes}]"""
    def key(c):
        own = 0 if own_value is not None and c["from"] == own_value else 1
        distance = round(c["distance"], 1) if c["distance"] is not None else 9.0
        return own, distance, c["pair_votes"], rng.random()

    chosen, used = [], set(judged)
    for candidate in sorted(candidates, key=key):
        pair = _pair(candidate["from"], candidate["to"])
        if pair in used:
            continue
        chosen.append(candidate["id"])
        used.add(pair)
        if len(chosen) == n:
            break
    return chosen


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
    stories = TransitionStory.objects.filter(study=study, status=TransitionStory.Status.ACTIVE,
                                             from_value__merged_into__isnull=True, to_value__merged_into__isnull=True)
    if card is not None and card.interview.scenario_id:
        in_scenario = stories.filter(context__scenario_id=card.interview.scenario_id)
        if in_scenario.exists():
            stories = in_scenario
    if card is not None and card.embedding is not None:
        stories = stories.annotate(distance=CosineDistance("from_value__embedding", card.embedding))
    rows = list(stories.values("id", "from_value_id", "to_value_id", *(
        ["distance"] if card is not None and card.embedding is not None else [])))
    votes = selectors.pair_vote_counts(study)
    judged = {_pair(a, b) for a, b in WisdomVote.objects.filter(participant=participant)
              .values_list("from_value_id", "to_value_id")}
    candidates = [{"id": r["id"], "from": r["from_value_id"], "to": r["to_value_id"], "distance": r.get("distance"),
                   "pair_votes": votes.get(_pair(r["from_value_id"], r["to_value_id"]), 0)} for r in rows]
    picked = choose_stories(candidates, n=study.stories_per_participant, own_value=own, judged=judged,
                            rng=random.Random(str(participant.pk)))
    try:
        with transaction.atomic(), participant_context(participant.pk):
            StoryAssignment.objects.bulk_create([StoryAssignment(participant=participant, story_id=story_id,
                                                                 position=i) for i, story_id in enumerate(picked)])
            record_event(events.GRAPH_STORIES_ASSIGNED, participant_id=participant.pk, study_slug=study.slug,
                         subject=participant, payload={"stories": picked})
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
    show the first; with none to judge (none written yet), move on."""
    if next_assignment(participant) is not None:
        return None
    if not participant.story_assignments.exists():
        record_event(events.GRAPH_NO_STORIES, participant_id=participant.pk, study_slug=participant.study.slug,
                     subject=participant)
    return steps.next_step(participant, Step.STORIES)


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
    if assignment.participant_id != participant.pk:
        raise VoteError("This story was not given to you.")
    story = assignment.story
    taken = None
    if assignment.shown_at:
        taken = int((timezone.now() - assignment.shown_at).total_seconds() * 1000)
    key = {"participant": participant, "from_value_id": story.from_value_id, "to_value_id": story.to_value_id,
           "context_id": story.context_id}
    for attempt in range(2):
        try:
            with transaction.atomic(), participant_context(participant.pk):
                vote = WisdomVote.objects.select_for_update().filter(**key).first()
                if vote is None:
                    vote = WisdomVote.objects.create(study_id=participant.study_id, story=story, answer=answer,
                                                     reason=reason, time_taken_ms=taken, **key)
                    kind = events.GRAPH_VOTE
                else:
                    vote.answer, vote.reason, vote.story = answer, reason, story
                    vote.save(update_fields=["answer", "reason", "story", "updated_at"])
                    kind = events.GRAPH_VOTE_CHANGED
                record_event(kind, participant_id=participant.pk, study_slug=participant.study.slug, subject=vote,
                             payload={"story": story.pk, "answer": answer})
                return vote
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


# --- building the graph ----------------------------------------------------------

def build_snapshot(study, *, parameters: aggregation.Parameters | None = None, include_simulated: bool = False,
                   user=None) -> GraphSnapshot:
    """Aggregate the votes, filter edges, rank values and estimate how stable
    the ranks are; store it all, with the time each stage took."""
    params = parameters or aggregation.Parameters()
    stages = {}
    started = time.perf_counter()
    cells, votes_through = selectors.graph_cells(study, include_simulated=include_simulated)
    stages["sql_aggregation"] = time.perf_counter() - started

    values = selectors.snapshot_values(study)
    contexts = selectors.snapshot_contexts(study)
    t = time.perf_counter()
    counts = aggregation.pair_counts(cells)
    edges, cycles = aggregation.decide_edges(counts, aggregation.pair_contexts(cells), params)
    stages["filtering"] = time.perf_counter() - t

    t = time.perf_counter()
    kept = [e for e in edges if e.kept]
    result = aggregation.GraphResult(edges=edges, cycles=cycles,
                                     scores=aggregation.pagerank(kept, nodes=values.keys(),
                                                                 alpha=params.pagerank_alpha))
    by_scenario = {}
    for scenario_id in {c["scenario"] for c in contexts.values() if c["scenario"]}:
        ids = {int(cid) for cid, c in contexts.items() if c["scenario"] == scenario_id}
        by_scenario[str(scenario_id)] = _json_scores(aggregation.rank_subset(result, ids, params.pagerank_alpha))
    by_context = {str(cid): _json_scores(aggregation.rank_subset(result, {int(cid)}, params.pagerank_alpha))
                  for cid in contexts}
    stages["pagerank"] = time.perf_counter() - t

    t = time.perf_counter()
    intervals = aggregation.bootstrap(cells, params, nodes=values.keys())
    stages["bootstrap"] = time.perf_counter() - t

    reasons = {}
    for e in edges:
        if not e.kept:
            reasons[e.reason] = reasons.get(e.reason, 0) + 1
    summary = {"values": len(values), "contexts": len(contexts), "pairs": len(edges), "edges_kept": len(kept),
               "dropped": reasons, "cycles": len(cycles),
               "votes": sum(c.yes + c.no + c.unsure for c in cells),
               "impressions": sum(c.impressions for c in cells)}
    # Said in the snapshot so that pages can explain a graph with fewer votes (or none).
    tally = selectors.vote_tally(study)
    summary["simulated_votes_included" if include_simulated else "simulated_votes_left_out"] = tally["simulated"]
    with transaction.atomic():
        snapshot = GraphSnapshot.objects.create(
            study=study, created_by=user if getattr(user, "is_authenticated", False) else None,
            parameters=params.to_dict(), include_simulated=include_simulated, votes_through=votes_through,
            summary=summary, values={str(k): v for k, v in values.items()}, contexts=contexts,
            edges=[e.to_dict() for e in edges], cycles=cycles,
            scores={"global": _json_scores(result.scores), "scenario": by_scenario, "context": by_context},
            bootstrap={str(k): v for k, v in intervals.items()},
            stage_seconds={k: round(v, 4) for k, v in stages.items()})
        record_event(events.GRAPH_SNAPSHOT_BUILT, user=user, study_slug=study.slug, subject=snapshot, payload=summary)
    return snapshot


def _json_scores(scores: dict) -> dict:
    return {str(k): round(v, 8) for k, v in scores.items()}

