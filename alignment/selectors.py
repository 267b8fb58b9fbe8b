"""Reads of the alignment app: an audit as the command writes it and the
admin shows it."""

from __future__ import annotations

from alignment.models import AnswerAudit


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
        "judgements": [{
            "context": i.context_id, "value": i.value_id, "title": i.value_title, "position": i.position,
            "winner": i.position == 1, "context_score": i.context_score,
            "rank_interval": None if i.rank_low is None else [i.rank_low, i.rank_high],
            "adherence": i.adherence, "judge_failed": i.judge_failed, "error": i.error, "quotes": i.quotes,
            "llm_call": i.llm_call_id,
        } for i in items],
        "verdicts": [{**v, "context_text": contexts.get(v["context"], "")} for v in audit.verdicts],
    }
