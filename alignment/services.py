"""Writes of the alignment app and the model calls behind them: which moral
contexts a prompt is in, how well an answer attends to a value's policies,
and the audit that puts the two together with the graph's winners.

Every model call goes through the gateway; an unusable answer is recorded on
its LLMCall and reported in the result, never raised to the caller."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from alignment import events, targets
from alignment.contracts import ContextChoice, JudgeAnswer
from alignment.models import AnswerAudit, AnswerAuditItem
from graph.models import MoralContext
from graph.selectors import latest_snapshot
from mgeplatform.audit import record_event
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.types import ChatRequest, LLMError, Message
from mgeplatform.models import LLMCall
from values import selectors as value_selectors
from values.models import CanonicalValue

SHORTLIST = 8  # contexts the model is shown, the closest to the prompt by embedding
MAX_TEXT = 20_000  # characters of a prompt or answer sent to the model


def _ask(prompt_name: str, text: str, contract, study, purpose: str, max_tokens: int = 800, content_of=()):
    """`content_of`: the participants whose words the text carries (the
    authors of the values it quotes), so a withdrawal redacts the call."""
    prompt = app_prompt(__file__, prompt_name)
    request = ChatRequest(
        model="",
        system=prompt.render(),
        messages=[Message(role="user", content=text)],
        max_tokens=max_tokens,
        temperature=0,
    )
    return gateway.structured(
        request, contract, gateway.CallContext(purpose=purpose, prompt=prompt, study=study, content_of=content_of)
    )


# --- which contexts a prompt is in -----------------------------------------------------


def _cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def shortlist_contexts(study, prompt: str, limit: int = SHORTLIST) -> list[MoralContext]:
    """The study's active contexts closest to the prompt. Contexts are few
    and short, so they are embedded with the prompt on each call rather than
    stored; with `limit` or fewer there is nothing to choose and no call."""
    contexts = list(MoralContext.objects.filter(study=study, active=True).order_by("pk"))
    if len(contexts) <= limit:
        return contexts
    route = gateway.resolve_embedding()
    ctx = gateway.CallContext(purpose="alignment.embed_contexts", study=study, route=route)
    vectors = gateway.embed(
        [prompt[:MAX_TEXT]] + [c.text for c in contexts],
        ctx,
        model=route.model,
        dimensions=settings.EMBEDDING_DIMENSIONS,
    )
    closeness = [_cosine(vectors[0], v) for v in vectors[1:]]
    order = sorted(range(len(contexts)), key=lambda i: (-closeness[i], contexts[i].pk))
    return [contexts[i] for i in order[:limit]]


@dataclass
class Detection:
    contexts: list[MoralContext] = field(default_factory=list)  # empty: none applies (or it failed)
    reason: str = ""
    error: str = ""  # set when the contexts could not be found
    llm_call: LLMCall | None = None

    @property
    def failed(self) -> bool:
        return bool(self.error)


def detect_contexts(study, prompt: str) -> Detection:
    """The moral contexts the prompt is in: an embedding shortlist of the
    study's active contexts, then the model's choice among them. The model may
    say none applies; ids it was not offered are dropped and the call marked."""
    try:
        shortlist = shortlist_contexts(study, prompt)
    except LLMError as err:
        return Detection(error=f"embedding failed: {err}", llm_call=getattr(err, "record", None))
    if not shortlist:
        return Detection(reason="The study has no active moral contexts.")
    text = f"<prompt>\n{prompt[:MAX_TEXT]}\n</prompt>\n\nContexts:\n" + "\n".join(
        f"context {c.pk}: {c.text}" for c in shortlist
    )
    try:
        answer, record = _ask("choose_context", text, ContextChoice, study, "alignment.choose_context", 400)
    except LLMError as err:
        return Detection(error=str(err), llm_call=getattr(err, "record", None))
    offered = {c.pk: c for c in shortlist}
    unknown = [cid for cid in answer.contexts if cid not in offered]
    if unknown:
        gateway.mark_bad_output(record, f"contexts that were not offered: {unknown}")
    chosen = [offered[cid] for cid in dict.fromkeys(answer.contexts) if cid in offered]
    return Detection(contexts=chosen, reason=answer.reason, llm_call=record)


# --- how well an answer follows a value ----------------------------------------------------


@dataclass
class Judgement:
    adherence: int | None = None  # 0-10; None when the judge failed
    quotes: list[dict] = field(default_factory=list)  # [{policy, quote}], quote None when nothing attends
    error: str = ""
    llm_call: LLMCall | None = None

    @property
    def failed(self) -> bool:
        return self.adherence is None


def _in_answer(quote: str, answer: str) -> bool:
    return " ".join(quote.split()).lower() in " ".join(answer.split()).lower()


def judge(study, prompt: str, answer: str, title: str, policies: list[str], *, value_id=None) -> Judgement:
    """The judge's adherence score for one value, with the words of the
    answer attending to each of its policies. A malformed answer, one that
    skips a policy or quotes words the answer does not contain, is a failed
    judgement (recorded on the LLMCall), not an exception."""
    text = (
        f"<value>\nTitle: {title}\nAttentional policies:\n"
        + "\n".join(f"- {p}" for p in policies)
        + f"\n</value>\n\n<prompt>\n{prompt[:MAX_TEXT]}\n</prompt>\n\n<answer>\n{answer[:MAX_TEXT]}\n</answer>"
    )
    try:
        verdict, record = _ask(
            "judge_adherence",
            text,
            JudgeAnswer,
            study,
            "alignment.judge",
            content_of=value_selectors.authors([value_id]) if value_id else (),
        )
    except LLMError as err:
        return Judgement(error=str(err), llm_call=getattr(err, "record", None))
    by_policy = {" ".join(j.policy.split()).lower(): j.quote for j in verdict.policies}
    quotes = []
    for policy in policies:
        key = " ".join(policy.split()).lower()
        if key not in by_policy:
            problem = f"bad output: the judge left out the policy {policy!r}"
            gateway.mark_bad_output(record, problem)
            return Judgement(error=problem, llm_call=record)
        quote = (by_policy[key] or "").strip() or None
        if quote and not _in_answer(quote, answer):
            problem = f"bad output: the judge quoted words the answer does not contain: {quote[:200]!r}"
            gateway.mark_bad_output(record, problem)
            return Judgement(error=problem, llm_call=record)
        quotes.append({"policy": policy, "quote": quote})
    return Judgement(adherence=verdict.score, quotes=quotes, llm_call=record)


# --- the audit -------------------------------------------------------------------------------


def verdicts(items, context_ids) -> list[dict]:
    """Per context: the graph's winner, the value the answer follows best
    (highest adherence among judged values; ties go to the better-ranked
    value) and whether they are the same. No best when every judge failed or
    the answer attends to none of the values; no winner when the graph ranks
    no value in the context."""
    by_context: dict[int, list] = {cid: [] for cid in context_ids}
    for item in items:
        by_context.setdefault(item.context_id, []).append(item)
    out = []
    for cid, rows in by_context.items():
        if not rows:
            out.append(
                {
                    "context": cid,
                    "winner": None,
                    "winner_title": "",
                    "follows_best": None,
                    "follows_best_title": "",
                    "follows_winner": False,
                    "judge_failed": 0,
                }
            )
            continue
        rows = sorted(rows, key=lambda r: r.position)
        winner = rows[0]
        judged = [r for r in rows if not r.judge_failed and r.adherence]
        best = max(judged, key=lambda r: (r.adherence, -r.position), default=None)
        out.append(
            {
                "context": cid,
                "winner": winner.value_id or None,
                "winner_title": winner.value_title,
                "follows_best": best.value_id if best else None,
                "follows_best_title": best.value_title if best else "",
                "follows_winner": bool(best and best.position == 1),
                "judge_failed": sum(1 for r in rows if r.judge_failed),
            }
        )
    return out


def audit_answer(study, prompt: str, answer: str, snapshot=None, *, user=None, top: int = targets.TOP) -> AnswerAudit:
    """Audit one answer: find the prompt's moral contexts, take each
    context's top values from the moral graph (the study's latest snapshot
    unless one is given), have the judge score the answer against each, and
    store it all. Model failures are recorded in the audit, never raised."""
    snapshot = snapshot or latest_snapshot(study)
    detection = detect_contexts(study, prompt)
    judged: dict[int, Judgement] = {}  # a value in two contexts is judged once
    planned = []
    for context in detection.contexts:
        for ranked in targets.ranked_in_context(snapshot, context.pk, top) if snapshot else []:
            if ranked.id not in judged:
                judged[ranked.id] = judge(study, prompt, answer, ranked.title, ranked.policies, value_id=ranked.id)
            planned.append((context, ranked, judged[ranked.id]))
    live = CanonicalValue.objects.in_bulk([ranked.id for _, ranked, _ in planned])
    with transaction.atomic():
        audit = AnswerAudit.objects.create(
            study=study,
            snapshot=snapshot,
            prompt=prompt,
            answer=answer,
            context_reason=detection.reason,
            context_error=detection.error,
            context_call=detection.llm_call,
            created_by=user,
        )
        audit.contexts.set(detection.contexts)
        items = AnswerAuditItem.objects.bulk_create(
            [
                AnswerAuditItem(
                    audit=audit,
                    context=context,
                    value=live.get(ranked.id),
                    value_title=ranked.title[:200],
                    policies=ranked.policies,
                    position=ranked.position,
                    context_score=ranked.score,
                    rank_low=ranked.rank_low,
                    rank_high=ranked.rank_high,
                    adherence=j.adherence,
                    quotes=j.quotes,
                    judge_failed=j.failed,
                    error=j.error[:4000],
                    llm_call=j.llm_call,
                )
                for context, ranked, j in planned
            ]
        )
        audit.verdicts = verdicts(items, [c.pk for c in detection.contexts])
        audit.save(update_fields=["verdicts"])
        record_event(
            events.ALIGNMENT_ANSWER_AUDITED,
            user=user,
            study_slug=study.slug,
            subject=audit,
            payload={
                "snapshot": getattr(snapshot, "pk", None),
                "contexts": [c.pk for c in detection.contexts],
                "judge_failed": sum(1 for i in items if i.judge_failed),
            },
        )
    return audit
