"""Training-data runs: starting or resuming one for a snapshot and a prompt
set, estimating its cost, queueing it as a job, and the export that runs it
and writes its files."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from alignment import events
from alignment.models import TrainingExample, TrainingRun
from alignment.training.examples import (
    COMPLETION_TOKENS,
    Progress,
    _prompts,
    edge_key,
    kept_edges,
    process,
    prompt_versions,
    sft_targets,
)
from alignment.training.files import write_files
from graph.models import MoralContext
from mgeplatform.audit import record_event
from mgeplatform.llm import gateway
from mgeplatform.llm.pricing import estimate_cost
from mgeplatform.llm.providers.offline import approx_tokens


def run_key(snapshot, prompts: list[dict]) -> str:
    payload = json.dumps(
        {"snapshot": snapshot.pk, "prompts": [p["text"] for p in prompts], "versions": prompt_versions()},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def existing_run(study, snapshot, prompts: list[dict]) -> TrainingRun | None:
    """The run already made for these prompts on this snapshot, if any."""
    return (
        TrainingRun.objects.filter(study=study, snapshot=snapshot, key=run_key(snapshot, prompts))
        .order_by("-pk")
        .first()
    )


def start_run(study, snapshot, prompts: list[dict], *, user=None) -> TrainingRun:
    """The run for these prompts on this snapshot: the existing one (to
    resume) or a new one."""
    run = existing_run(study, snapshot, prompts)
    return run or TrainingRun.objects.create(
        study=study, snapshot=snapshot, key=run_key(snapshot, prompts), prompts=prompts, created_by=user
    )


@dataclass
class Estimate:
    calls: int
    input_tokens: int
    output_tokens: int
    model: str
    cost_usd: object = None  # Decimal, or None when the model has no price

    def describe(self) -> str:
        cost = f"about ${self.cost_usd}" if self.cost_usd is not None else "no price known for this model"
        return (
            f"At most {self.calls} model call(s) on {self.model}: about {self.input_tokens} input and "
            f"{self.output_tokens} output tokens; {cost}."
        )


def estimate(run: TrainingRun) -> Estimate:
    """An upper bound on the calls still to make: every prompt not yet
    detected takes one context call and is assumed to be in every context
    the graph has anything in; each such context takes one call for the
    winner's answer and four per kept edge (two answers, two judgements)."""
    done = set(run.examples.values_list("kind", "prompt_index", "context_id", "edge"))
    return estimate_for(run.study, run.snapshot, run.prompts, done)


def estimate_for(study, snapshot, prompts: list[dict], done=frozenset()) -> Estimate:
    """`estimate` for a prompt set, before its run exists (`done`: the
    (kind, prompt index, context id, edge) units already made)."""
    detected = {(i, c) for kind, i, c, _ in done if kind == TrainingExample.Kind.DETECT}
    contexts = [int(c) for c in (snapshot.contexts or {})] or list(
        MoralContext.objects.filter(study=study, active=True).values_list("pk", flat=True)
    )
    system = {name: approx_tokens(p.body) for name, p in _prompts().items()}
    calls = tokens_in = tokens_out = 0
    for index, item in enumerate(prompts):
        prompt_tokens = approx_tokens(item["text"])
        if (index, None) not in detected:
            calls += 1
            tokens_in += system["choose_context"] + prompt_tokens + 20 * len(contexts)
            tokens_out += 60
        for cid in contexts:
            for key, _ in sft_targets(snapshot, cid):
                if (TrainingExample.Kind.SFT, index, cid, key) in done:
                    continue
                calls += 1
                tokens_in += system["guided_completion"] + prompt_tokens + 60
                tokens_out += COMPLETION_TOKENS // 2
            for edge in kept_edges(snapshot, cid):
                if (TrainingExample.Kind.PAIR, index, cid, edge_key(edge)) in done:
                    continue
                calls += 4
                tokens_in += 2 * (system["guided_completion"] + prompt_tokens + 60)
                tokens_in += 2 * (system["judge_adherence"] + prompt_tokens + COMPLETION_TOKENS // 2 + 60)
                tokens_out += COMPLETION_TOKENS + 2 * 150
    route = gateway.resolve(study)
    return Estimate(
        calls,
        tokens_in,
        tokens_out,
        f"{route.provider}/{route.model}",
        estimate_cost(route.model, tokens_in, 0, tokens_out),
    )


def units_in_context(snapshot, context_id: int) -> int:
    """Examples a prompt in this context makes: the winner's answer (when
    the graph ranks a value there; one per group's winner in a split context)
    and a pair per kept edge voted on in it."""
    return len(sft_targets(snapshot, context_id)) + len(kept_edges(snapshot, context_id))


def graph_contexts(run: TrainingRun) -> list[int]:
    return [int(c) for c in (run.snapshot.contexts or {})] or list(
        MoralContext.objects.filter(study=run.study, active=True).values_list("pk", flat=True)
    )


class AlreadyQueued(Exception):
    """The run has a job waiting or running: a second would only wait for it."""


def job_status(run: TrainingRun) -> str:
    """The state of the run's last queued job ("todo", "doing", "succeeded",
    "failed", ...), or "" when it has none."""
    if run.job_id is None:
        return ""
    return ProcrastinateJob.objects.filter(pk=run.job_id).values_list("status", flat=True).first() or ""


def queue_export(study, snapshot, prompts: list[dict], *, limit: int | None = None, user=None) -> TrainingRun:
    """Start (or resume) the run for these prompts on this snapshot as a
    background job, and record who asked. Raises AlreadyQueued when the
    run's job is still waiting or running."""
    # A function-local import: the tasks module imports this one.
    from alignment import tasks

    with transaction.atomic():
        run = start_run(study, snapshot, prompts, user=user)
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if job_status(run) in ("todo", "doing"):
            raise AlreadyQueued(f"training run {run.pk} already has job {run.job_id} {job_status(run)}")
        # Deferred on the request's connection: the job exists exactly when the run's new state does.
        job_id = tasks.export_training_data.configure(lock=f"training-run-{run.pk}").defer(
            run_id=run.pk, out_dir=None, limit=limit
        )
        run.job_id, run.limit = job_id, limit
        run.save(update_fields=["job_id", "limit", "updated_at"])
        record_event(
            events.ALIGNMENT_TRAINING_EXPORT_QUEUED,
            user=user,
            study_slug=study.slug,
            subject=run,
            payload={"run": run.pk, "job": job_id, "snapshot": snapshot.pk, "prompts": len(prompts), "limit": limit},
        )
    return run


def export(study, snapshot, prompts: list[dict], out_dir, *, limit: int | None = None) -> tuple[TrainingRun, Progress]:
    """Start or resume the run for these prompts on this snapshot, do what
    is left (up to `limit` examples) and write the files."""
    run = start_run(study, snapshot, prompts)
    progress = process(run, limit=limit)
    write_files(run, out_dir)
    return run, progress
