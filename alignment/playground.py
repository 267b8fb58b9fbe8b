"""The wise-response playground (paper Fig. 9): each user turn of a
conversation is answered three ways, side by side: with no values, with a
constitution the coordinator pasted, and with the moral graph, whose winning
value in each of the message's moral contexts guides the reply by its
attentional policies. Every model call goes through the gateway and is kept
as an LLMCall; the conversation is stored as it goes."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from alignment import events, services, targets
from alignment.models import PlaygroundConversation, PlaygroundTurn
from graph import explorer, splits
from graph.selectors import latest_snapshot
from mgeplatform.audit import record_event
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.types import ChatRequest, LLMError, Message
from studies.selectors import budget_spent
from values import selectors as value_selectors

PURPOSE = "alignment.playground"
MAX_MESSAGE = 4_000
MAX_TURNS = 30  # a conversation's turns the model sees, the latest


def may_open(user, study) -> bool:
    """Whoever may see the study's moral graph may open its playground:
    staff to converse (coordinators) or read (auditors), anyone when the graph is public."""
    return explorer.access(user, study) is not None


def start(study, *, snapshot=None, constitution: str = "", user=None, session_key: str = "") -> PlaygroundConversation:
    """A new conversation, guided by `snapshot` (the study's latest moral graph unless given)."""
    return PlaygroundConversation.objects.create(
        study=study,
        snapshot=snapshot or latest_snapshot(study),
        constitution=constitution,
        share_token=secrets.token_urlsafe(32),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        session_key=session_key,
    )


BUDGET_SPENT = (
    "The study's budget for model calls is spent, so the playground takes no new messages from visitors. "
    "The conversations so far can still be read."
)


def public_refusal(study, mine, conversation=None) -> str:
    """Why a public visitor (anyone, when the graph is public) may not send
    a message now, or "" when they may: the study's model budget is spent,
    or they have sent the most messages allowed in this conversation
    (PLAYGROUND_PUBLIC_TURNS_PER_CONVERSATION) or in all their conversations
    (PLAYGROUND_PUBLIC_TURNS_PER_VISITOR; `mine` is theirs). Staff are not
    limited here: their calls count against the study's budget like any job."""
    if budget_spent(study):
        return BUDGET_SPENT
    per_conversation = settings.PLAYGROUND_PUBLIC_TURNS_PER_CONVERSATION
    if conversation is not None and conversation.turns.count() >= per_conversation:
        return (
            f"This conversation has reached the limit of {per_conversation} messages for visitors. "
            "Start a new conversation to go on."
        )
    per_visitor = settings.PLAYGROUND_PUBLIC_TURNS_PER_VISITOR
    if PlaygroundTurn.objects.filter(conversation__in=mine).count() >= per_visitor:
        return (
            f"You have sent the {per_visitor} messages a visitor may send in this playground. "
            "The conversations so far can still be read and shared."
        )
    return ""


def values_text(values: list[dict]) -> str:
    """The winning values as the guided prompt shows them."""
    blocks = []
    for v in values:
        policies = "\n".join(f"- {p}" for p in v["policies"])
        contested = (
            f"{splits.CONTESTED_TEXT}. This is the wisest value for one group ({v['attribute']}: {v['group']}); "
            "the other groups' values follow.\n"
            if v.get("group")
            else ""
        )
        blocks.append(
            f"<value>\nContext: {v['context_text']}\n{contested}Title: {v['title']}\n"
            f"Description: {v['description']}\nAttentional policies:\n{policies}\n</value>"
        )
    return "\n\n".join(blocks)


def winning_values(snapshot, contexts) -> list[dict]:
    """For each context, the graph's winner there (contexts without one are
    left out), with its card as the snapshot stores it. In a split context
    (graph/splits.py), the winner of each group instead, each marked with
    its group: "contested here: wise values by group"."""
    out: list[dict] = []
    if snapshot is None:
        return out
    for context in contexts:
        by_group = splits.group_winners(snapshot, context.pk)
        if by_group:
            out.extend(_group_values(snapshot, context, by_group))
            continue
        winner = targets.winners(snapshot, [context.pk])[context.pk]
        if winner is None:
            continue
        card = (snapshot.values or {}).get(str(winner.id), {})
        out.append(
            {
                "context": context.pk,
                "context_text": context.text,
                "id": winner.id,
                "title": winner.title,
                "description": card.get("description", ""),
                "policies": winner.policies,
                "score": winner.score,
                "rank": winner.position,
                "rank_low": winner.rank_low,
                "rank_high": winner.rank_high,
                "interval_scope": winner.interval_scope,
                "votes": winner.votes,
                "too_few_votes": winner.too_few_votes,
            }
        )
    return out


def _group_values(snapshot, context, rows) -> list[dict]:
    """The winners of each group in a split context, as `winning_values` gives them."""
    attribute = (snapshot.scores.get("splits") or {}).get("attribute", "")
    out = []
    for row in rows:
        card = (snapshot.values or {}).get(str(row["winner"]), {})
        out.append(
            {
                "context": context.pk,
                "context_text": context.text,
                "id": row["winner"],
                "title": card.get("title", f"value {row['winner']}"),
                "description": card.get("description", ""),
                "policies": list(card.get("policies", [])),
                "score": row.get("score"),
                "rank": 1,
                "rank_low": row.get("rank_low"),
                "rank_high": row.get("rank_high"),
                "interval_scope": "group",
                "votes": row.get("votes"),
                "too_few_votes": False,
                "contested": True,
                "attribute": attribute,
                "group": row["group"],
            }
        )
    return out


def _history(conversation, field: str, message: str) -> list[Message]:
    messages = []
    for turn in list(conversation.turns.order_by("-position")[:MAX_TURNS])[::-1]:
        messages.append(Message(role="user", content=turn.message))
        messages.append(Message(role="assistant", content=getattr(turn, field) or "(no reply)"))
    messages.append(Message(role="user", content=message))
    return messages


def _reply(conversation, field: str, prompt_name: str, purpose: str, message: str, content_of=(), **values):
    """(reply text, LLMCall or None). A failed call is kept on its LLMCall;
    the reply then says so. `content_of`: the authors of the values the
    conversation's graph replies were guided by (their words are in the
    request, or in the earlier replies it repeats)."""
    prompt = app_prompt(services.__file__, prompt_name)
    request = ChatRequest(
        model="",
        system=prompt.render(**values),
        messages=_history(conversation, field, message),
        max_tokens=800,
        temperature=0.3,
    )
    try:
        result, record = gateway.complete(
            request,
            gateway.CallContext(purpose=purpose, prompt=prompt, study=conversation.study, content_of=content_of),
        )
    except LLMError as err:
        return f"(The model call failed: {err})", getattr(err, "record", None)
    return result.text.strip(), record


def add_turn(conversation: PlaygroundConversation, message: str, *, user=None, public: bool = False) -> PlaygroundTurn:
    """Answer one user message three ways and store the turn, with its
    event. Model calls are made before the transaction opens."""
    message = message.strip()[:MAX_MESSAGE]
    study = conversation.study
    detection = services.detect_contexts(study, message)
    values = winning_values(conversation.snapshot, detection.contexts)
    authors = value_selectors.authors(
        {v["id"] for t in conversation.turns.all() for v in t.values} | {v["id"] for v in values}
    )
    if values:
        graph_reply, graph_call = _reply(
            conversation,
            "reply_graph",
            "guided_reply",
            f"{PURPOSE}.graph",
            message,
            content_of=authors,
            values=values_text(values),
        )
    else:  # no context applies, or the graph ranks no value in them: answer without values
        graph_reply, graph_call = _reply(
            conversation, "reply_graph", "plain_reply", f"{PURPOSE}.graph", message, content_of=authors
        )
    plain_reply, plain_call = _reply(conversation, "reply_plain", "plain_reply", f"{PURPOSE}.plain", message)
    if conversation.constitution.strip():
        constitution_reply, constitution_call = _reply(
            conversation,
            "reply_constitution",
            "constitution_reply",
            f"{PURPOSE}.constitution",
            message,
            constitution=conversation.constitution.strip(),
        )
    else:
        constitution_reply, constitution_call = "", None
    with transaction.atomic():
        locked = PlaygroundConversation.objects.select_for_update().get(pk=conversation.pk)
        position = (locked.turns.aggregate(n=Max("position"))["n"] or 0) + 1
        turn = PlaygroundTurn.objects.create(
            conversation=locked,
            position=position,
            message=message,
            contexts=[{"id": c.pk, "text": c.text} for c in detection.contexts],
            context_reason=detection.reason,
            context_error=detection.error,
            values=values,
            reply_graph=graph_reply,
            reply_plain=plain_reply,
            reply_constitution=constitution_reply,
            context_call=detection.llm_call,
            graph_call=graph_call,
            plain_call=plain_call,
            constitution_call=constitution_call,
        )
        calls = {
            "contexts": turn.context_call_id,
            "graph": turn.graph_call_id,
            "plain": turn.plain_call_id,
            "constitution": turn.constitution_call_id,
        }
        record_event(
            events.ALIGNMENT_PLAYGROUND_TURN,
            user=user,
            study_slug=study.slug,
            subject=turn,
            payload={
                "conversation": locked.pk,
                "position": position,
                "snapshot": locked.snapshot_id,
                "public": public,
                "contexts": [c.pk for c in detection.contexts],
                "values": [v["id"] for v in values],
                "context_error": bool(detection.error),
                "llm_calls": calls,
                "failed_calls": [
                    k
                    for k, r in (("graph", graph_call), ("plain", plain_call), ("constitution", constitution_call))
                    if r is not None and not r.ok
                ],
            },
        )
        return turn


def export(conversation: PlaygroundConversation) -> dict:
    """The conversation as one JSON object (docs/alignment-target.md, "Playground")."""
    return {
        "conversation": conversation.pk,
        "study": conversation.study.slug,
        "snapshot": conversation.snapshot_id,
        "constitution": conversation.constitution,
        "created_at": conversation.created_at.isoformat(),
        "turns": [
            {
                "position": t.position,
                "message": t.message,
                "contexts": t.contexts,
                "context_reason": t.context_reason,
                "context_error": t.context_error,
                "values": [
                    {
                        **{k: v[k] for k in ("context", "id", "title", "description", "policies")},
                        **({"group": v["group"], "attribute": v.get("attribute", "")} if v.get("group") else {}),
                    }
                    for v in t.values
                ],
                "replies": {"graph": t.reply_graph, "plain": t.reply_plain, "constitution": t.reply_constitution},
                "llm_calls": {
                    "contexts": t.context_call_id,
                    "graph": t.graph_call_id,
                    "plain": t.plain_call_id,
                    "constitution": t.constitution_call_id,
                },
            }
            for t in conversation.turns.all()
        ],
    }
