"""Moral contexts and transition stories, written by the model (paper 4.4, A.5).

Generation runs in the background: the values of each scenario are grouped
by embedding (so the model never sees all pairs), a pairing prompt picks
candidate upgrades within each group, then a two-prompt chain reasons about
each pair in a context and writes the story. Every unusable answer is kept
in the run's `problems` with the LLM call that gave it; nothing half-checked
reaches a participant.
"""

from __future__ import annotations

import json
import math

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from graph import events
from graph.contracts import ContextsAnswer, PairsAnswer, ReasoningAnswer, StoryAnswer
from graph.models import MoralContext, StoryRun, TransitionStory
from mgeplatform import locks
from mgeplatform.audit import record_event
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.types import ChatRequest, LLMError, Message
from values import selectors as value_selectors
from values.models import CanonicalValue
from values.services import card_text

GROUP_SIZE = 6
STORY_LOCK_NAMESPACE = 4_501


def _structured(prompt_name: str, text: str, study, purpose: str, max_tokens: int = 800, values=()):
    prompt = app_prompt(__file__, prompt_name)
    request = ChatRequest(
        model="",
        system=prompt.render(),
        messages=[Message(role="user", content=text)],
        max_tokens=max_tokens,
        temperature=0,
    )
    return gateway.structured(
        request,
        _CONTRACTS[prompt_name],
        gateway.CallContext(
            purpose=purpose, prompt=prompt, study=study, content_of=value_selectors.authors(v.pk for v in values)
        ),
    )


_CONTRACTS = {
    "moral_contexts": ContextsAnswer,
    "pair_values": PairsAnswer,
    "story_reasoning": ReasoningAnswer,
    "story_writer": StoryAnswer,
}


# --- moral contexts ------------------------------------------------------------------


def generate_contexts(scenario) -> list[MoralContext]:
    """Ask the model for a scenario's moral contexts (footnote 9). Contexts a
    coordinator already has are kept; duplicates are skipped."""
    answer, record = _structured(
        "moral_contexts", f"Question: {scenario.prompt}", scenario.study, "graph.moral_contexts", max_tokens=400
    )
    made = []
    with transaction.atomic():
        for text in answer.contexts:
            text = " ".join(text.split()).rstrip(".")
            context, created = MoralContext.objects.get_or_create(
                study=scenario.study,
                text=text,
                defaults={"scenario": scenario, "origin": MoralContext.Origin.LLM, "llm_call": record},
            )
            if created:
                made.append(context)
        record_event(
            events.GRAPH_CONTEXTS_GENERATED,
            study_slug=scenario.study.slug,
            subject=scenario,
            payload={"contexts": [c.pk for c in made], "llm_call": record.pk},
        )
    return made


def contexts_for(scenario, *, generate: bool = True) -> list[MoralContext]:
    contexts = list(MoralContext.objects.filter(scenario=scenario, active=True).order_by("pk"))
    if not contexts and generate:
        generate_contexts(scenario)
        contexts = list(MoralContext.objects.filter(scenario=scenario, active=True).order_by("pk"))
    return contexts


# --- candidate pairs -------------------------------------------------------------------


def group_values(values: list[CanonicalValue], size: int = GROUP_SIZE) -> list[list[CanonicalValue]]:
    """Groups of about `size` values close in embedding space (k-means on the
    unit vectors), so the pairing prompt sees plausible neighbours only."""
    import numpy as np
    from sklearn.cluster import KMeans

    with_vectors = [v for v in values if v.embedding is not None]
    if len(with_vectors) <= size:
        return [with_vectors] if len(with_vectors) >= 2 else []
    matrix = np.asarray([list(v.embedding) for v in with_vectors], dtype=float)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    k = math.ceil(len(with_vectors) / size)
    labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(matrix)
    groups: dict[int, list[CanonicalValue]] = {}
    for value, label in zip(with_vectors, labels):
        groups.setdefault(int(label), []).append(value)
    return [g for _, g in sorted(groups.items()) if len(g) >= 2]


def _pairing_text(scenario, contexts, group) -> str:
    lines = [f"Scenario: {scenario.prompt}", "", "Contexts:"]
    lines += [f"context {c.pk}: {c.text}" for c in contexts]
    text = "\n".join(lines) + "\n\nValues:\n"
    return text + "\n\n".join(f"id {v.pk}\n" + card_text(v.title, v.description, v.policies) for v in group)


def candidate_pairs(
    scenario, contexts, group, run: StoryRun
) -> list[tuple[CanonicalValue, CanonicalValue, MoralContext]]:
    """The model's proposed upgrades within one group; pairs naming ids it
    was not offered are rejected and recorded."""
    by_id = {v.pk: v for v in group}
    context_by_id = {c.pk: c for c in contexts}
    try:
        answer, record = _structured(
            "pair_values", _pairing_text(scenario, contexts, group), scenario.study, "graph.pair_values", values=group
        )
    except LLMError as err:
        _problem(run, "pair_values", None, None, str(err), err)
        return []
    pairs = []
    for item in answer.pairs:
        a, b, c = item.from_, item.to, item.context
        if a not in by_id or b not in by_id or c not in context_by_id or a == b:
            _problem(
                run,
                "pair_values",
                (a, b),
                c,
                "The model named a value or context that was not offered, or paired a value with itself.",
                record=record,
            )
            continue
        pairs.append((by_id[a], by_id[b], context_by_id[c]))
    return pairs


# --- the story chain ---------------------------------------------------------------------


def _pair_text(from_value, to_value, context) -> str:
    return (
        f"Moral context: {context.text}\n\nFirst value:\n"
        + card_text(from_value.title, from_value.description, from_value.policies)
        + "\n\nSecond value:\n"
        + card_text(to_value.title, to_value.description, to_value.policies)
    )


def check_reasoning(reasoning: ReasoningAnswer, from_value) -> str:
    """Why the reasoning step is unusable, or "" when it is fine."""
    policies = {" ".join(p.split()).lower() for p in from_value.policies}
    quoted = [" ".join(c.policy.split()).lower() for c in reasoning.policy_changes]
    unknown = [q for q in quoted if q not in policies]
    if unknown:
        return f"policy_changes quote policies the first value does not have: {unknown[:3]}"
    return ""


def write_story(from_value, to_value, context, run: StoryRun) -> TransitionStory | None:
    """The chain for one direction in one context; None when an answer was
    unusable (recorded in the run)."""
    study = from_value.study
    base = _pair_text(from_value, to_value, context)
    pair = (from_value.pk, to_value.pk)
    try:
        reasoning, first = _structured(
            "story_reasoning", base, study, "graph.story_reasoning", values=(from_value, to_value)
        )
    except LLMError as err:
        _problem(run, "story_reasoning", pair, context.pk, str(err), err)
        return None
    problem = check_reasoning(reasoning, from_value)
    if problem:
        gateway.mark_bad_output(first, problem)
        _problem(run, "story_reasoning", pair, context.pk, problem, record=first)
        return None
    try:
        written, final = _structured(
            "story_writer",
            base + "\n\nReasoning:\n" + json.dumps(reasoning.model_dump(), indent=1),
            study,
            "graph.story_writer",
            values=(from_value, to_value),
        )
    except LLMError as err:
        _problem(run, "story_writer", pair, context.pk, str(err), err)
        return None
    prompt = app_prompt(__file__, "story_writer")
    try:
        with transaction.atomic():
            story = TransitionStory.objects.create(
                study=study,
                from_value=from_value,
                to_value=to_value,
                context=context,
                story=written.story,
                shared_meaning=reasoning.shared_meaning,
                clarification=reasoning.clarification,
                policy_changes=[c.model_dump() for c in reasoning.policy_changes],
                run=run,
                llm_call=final,
                chain_calls=[first.pk, final.pk],
                prompt_version=f"story_reasoning v{app_prompt(__file__, 'story_reasoning').version}, "
                f"story_writer v{prompt.version}",
                model=final.model,
            )
    except IntegrityError:  # another run wrote this direction meanwhile
        return None
    return story


def _problem(run: StoryRun, step: str, pair, context, reason: str, err=None, record=None) -> None:
    record = record or getattr(err, "record", None)
    run.problems.append(
        {
            "step": step,
            "pair": list(pair) if pair else None,
            "context": context,
            "reason": reason[:500],
            "llm_call": getattr(record, "pk", None),
        }
    )
    run.counts["rejected"] = run.counts.get("rejected", 0) + 1
    StoryRun.objects.filter(pk=run.pk).update(problems=run.problems, counts=run.counts)


def has_active_story(from_id: int, to_id: int, context_id: int) -> bool:
    return TransitionStory.objects.filter(
        from_value_id=from_id, to_value_id=to_id, context_id=context_id, status=TransitionStory.Status.ACTIVE
    ).exists()


def generate_stories(study, *, max_stories: int = 60, reverse: bool = False) -> StoryRun:
    """One background run: contexts where missing, candidate pairs per group
    of similar values, then a story for each new (pair, context), and for the
    reverse direction too when asked. Existing stories are never replaced."""
    run = StoryRun.objects.create(
        study=study, counts={"groups": 0, "pairs": 0, "stories": 0, "rejected": 0, "skipped": 0}
    )
    with locks.try_advisory_lock(STORY_LOCK_NAMESPACE, study.pk) as acquired:
        if not acquired:
            _finish(run, StoryRun.Status.FAILED, "Another story run of this study is in progress.")
            return run
        # Holding the lock, no other run of this study is alive: any still
        # marked running was cut off (its job is what runs again now).
        locks.mark_runs_failed(StoryRun.objects.filter(study=study).exclude(pk=run.pk), ORPHANED_REASON)
        try:
            scenarios_of = value_selectors.value_scenarios(study)
            live = {v.pk: v for v in value_selectors.live_values(study)}
            for scenario in study.scenarios.filter(active=True).order_by("order", "pk"):
                values = [live[pk] for pk, scenarios in scenarios_of.items() if scenario.pk in scenarios and pk in live]
                if len(values) < 2:
                    continue
                contexts = contexts_for(scenario)
                for group in group_values(sorted(values, key=lambda v: v.pk)):
                    run.counts["groups"] += 1
                    for from_value, to_value, context in candidate_pairs(scenario, contexts, group, run):
                        run.counts["pairs"] += 1
                        directions = [(from_value, to_value)] + ([(to_value, from_value)] if reverse else [])
                        for a, b in directions:
                            if run.counts["stories"] >= max_stories:
                                break
                            if has_active_story(a.pk, b.pk, context.pk):
                                run.counts["skipped"] += 1
                                continue
                            if write_story(a, b, context, run):
                                run.counts["stories"] += 1
                        StoryRun.objects.filter(pk=run.pk).update(counts=run.counts)
            _finish(run, StoryRun.Status.FINISHED)
            record_event(events.GRAPH_STORIES_GENERATED, study_slug=study.slug, subject=run, payload=run.counts)
        except Exception as err:
            _finish(run, StoryRun.Status.FAILED, f"{type(err).__name__}: {err}")
            raise
    return run


ORPHANED_REASON = (
    "Stopped before finishing: the process running it ended (worker stopped or database "
    "restarted). The job runs again; stories already written are kept."
)


def fail_orphaned_runs(*, min_age_seconds: float = 5) -> int:
    """Story runs still marked running that no process runs (see mgeplatform.locks)."""
    return locks.fail_orphaned_runs(StoryRun, STORY_LOCK_NAMESPACE, ORPHANED_REASON, min_age_seconds=min_age_seconds)


def _finish(run: StoryRun, status: str, error: str = "") -> None:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "counts", "problems"])


@transaction.atomic
def archive_stories(stories, *, reason: str, user=None) -> int:
    """Take stories out of circulation; their votes keep counting."""
    ids = [s.pk for s in stories if s.status == TransitionStory.Status.ACTIVE]
    TransitionStory.objects.filter(pk__in=ids).update(
        status=TransitionStory.Status.ARCHIVED, archived_reason=reason[:300]
    )
    if ids:
        record_event(
            events.GRAPH_STORIES_ARCHIVED,
            user=user,
            study_slug=stories[0].study.slug,
            payload={"stories": ids, "reason": reason},
        )
    return len(ids)


def stories_of_values(value_ids):
    """Every story written from or to one of the values (any status)."""
    return TransitionStory.objects.filter(Q(from_value__in=value_ids) | Q(to_value__in=value_ids))


def redact_stories(value_ids, *, marker: str) -> int:
    """On a withdrawal that deletes what the participant wrote: the stories
    written from values worded from their card are archived and lose their
    text (their votes keep counting, and point at the archived row). Returns
    how many stories were redacted."""
    return stories_of_values(value_ids).update(
        status=TransitionStory.Status.ARCHIVED,
        archived_reason=marker,
        story=marker,
        shared_meaning="",
        clarification="",
        policy_changes=[],
    )
