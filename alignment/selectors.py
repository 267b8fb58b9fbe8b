"""Reads of the alignment app: an audit as the command writes it and the
admin shows it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum

from alignment import training
from alignment.models import AnswerAudit, PlaygroundConversation, TrainingExample, TrainingRun
from graph.models import GraphSnapshot, MoralContext
from mgeplatform.models import LLMCall


def snapshots_of(study):
    """The study's graph snapshots, newest first."""
    return GraphSnapshot.objects.filter(study=study).order_by("-pk")


def snapshot_or_none(snapshot_id: int | None):
    return GraphSnapshot.objects.filter(pk=snapshot_id).first() if snapshot_id else None


def conversations_of(study):
    """Every playground conversation of the study (views narrow it to the visitor's own)."""
    return PlaygroundConversation.objects.filter(study=study)


def shared_conversation(token: str):
    """The conversation shared under this link token, or None."""
    return PlaygroundConversation.objects.select_related("study").filter(share_token=token).first()


def audit_record(audit: AnswerAudit) -> dict:
    """The audit as one JSON object (docs/alignment-target.md, "Output")."""
    contexts = {c.pk: c.text for c in audit.contexts.all()}
    items = list(audit.items.all())
    return {
        "audit": audit.pk,
        "snapshot": audit.snapshot_id,
        "prompt": audit.prompt,
        # In the order the model named them, most important first.
        "contexts": [{"id": v["context"], "text": contexts.get(v["context"], "")} for v in audit.verdicts],
        "context_reason": audit.context_reason,
        "context_error": audit.context_error,
        "judgements": [
            {
                "context": i.context_id,
                "value": i.value_id,
                "title": i.value_title,
                "position": i.position,
                "winner": i.position == 1,
                "context_score": i.context_score,
                "rank_interval": None if i.rank_low is None else [i.rank_low, i.rank_high],
                "adherence": i.adherence,
                "judge_failed": i.judge_failed,
                "error": i.error,
                "quotes": i.quotes,
                "llm_call": i.llm_call_id,
            }
            for i in items
        ],
        "verdicts": [{**v, "context_text": contexts.get(v["context"], "")} for v in audit.verdicts],
    }


# --- training runs ---------------------------------------------------------------------------


@dataclass
class TrainingProgress:
    prompts: int
    prompts_read: int  # prompts whose contexts were looked for
    done: int  # SFT examples and pairs made (kept or dropped)
    planned: int  # examples for the prompts read, plus at most this for the rest (see planned_at_most)
    planned_at_most: int
    sft: int
    pairs: int
    dropped: int
    cost_usd: Decimal
    calls: int

    @property
    def exact(self) -> bool:
        return self.prompts_read == self.prompts

    @property
    def percent(self) -> int:
        return 100 if not self.planned_at_most else min(100, round(100 * self.done / self.planned_at_most))


def _call_ids(run: TrainingRun) -> set[int]:
    """The LLMCalls behind the run's examples, from what each row records."""
    ids = set()
    for one, many, meta in run.examples.values_list(
        "detail__llm_call", "detail__llm_calls", "line__metadata__llm_calls"
    ):
        ids.add(one)
        for calls in (many, meta):
            ids.update((calls or {}).values() if isinstance(calls, dict) else ())
    return {i for i in ids if isinstance(i, int)}


def training_progress(run: TrainingRun) -> TrainingProgress:
    """How far a run has come: examples made of those planned, kept and
    dropped, and what the model calls recorded on its examples cost. The
    plan is exact once every prompt's contexts are known; before that, a
    prompt not yet read counts as being in every context of the graph."""
    units = {cid: training.units_in_context(run.snapshot, cid) for cid in training.graph_contexts(run)}
    per_unread = sum(units.values())
    known = {c.pk for c in MoralContext.objects.filter(study=run.study)}
    c = training.counts(run)
    read, planned = 0, 0
    for contexts in run.examples.filter(kind=TrainingExample.Kind.DETECT).values_list("detail__contexts", flat=True):
        read += 1
        for cid in contexts or []:
            if cid not in units and cid in known:
                units[cid] = training.units_in_context(run.snapshot, cid)
            planned += units.get(cid, 0)
    at_most = planned + (len(run.prompts) - read) * per_unread
    dropped = sum(c["dropped"].values())
    ids = _call_ids(run)
    totals = LLMCall.objects.filter(pk__in=ids).aggregate(cost=Sum("estimated_cost_usd"), calls=Count("pk"))
    return TrainingProgress(
        prompts=len(run.prompts),
        prompts_read=read,
        done=c["sft"] + c["pairs"] + dropped,
        planned=planned,
        planned_at_most=at_most,
        sft=c["sft"],
        pairs=c["pairs"],
        dropped=dropped,
        cost_usd=totals["cost"] or Decimal("0"),
        calls=totals["calls"],
    )
