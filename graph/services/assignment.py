"""Which stories a participant judges (paper 4.3): drawing them, serving the
next one, and waiting for stories still being written."""

from __future__ import annotations

import random

from django.db import IntegrityError, transaction
from django.utils import timezone
from pgvector.django import CosineDistance
from procrastinate.exceptions import AlreadyEnqueued

from graph import events, selectors
from graph.models import StoryAssignment, TransitionStory, WisdomVote
from mgeplatform.audit import participant_context, record_event
from studies import arms, steps
from studies.models import Step
from values import selectors as value_selectors


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
    stories = (
        stories.filter(context__scenario_id=card.interview.scenario_id)
        if card is not None
        else stories.filter(context__scenario__isnull=True)
    )
    if version := arms.effective(participant, "story_prompt_version"):  # an arm shows one writer's stories
        stories = stories.filter(prompt_version__endswith=f"story_writer v{version}")
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
        n=arms.effective(participant, "stories_per_participant"),
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
