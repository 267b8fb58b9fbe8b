"""Offline scripts for the alignment prompts: deterministic answers from the
request alone, by word overlap, in the shape a model is asked for."""

from __future__ import annotations

import json
import re

from mgeplatform.llm.providers.offline import register_script
from mgeplatform.llm.types import ChatRequest, ToolCall

# Words too common to say two texts are about the same thing.
STOPWORDS = set(
    """
when what where which while with without about above after again against also because been before being
below between both could does doing down during each from further have having here into itself just more most
other over same should some such than that their them then there these they this those through under until very
your yours yourself would will shall might must ought make makes made someone something anyone anything thing
things person people just like want wants need needs help helps know tell said says sure really
""".split()
)


def stems(text: str) -> set[str]:
    """Content words, cut to five letters: a crude stem, so "children" meets
    "child" and "choices" meets "choice"."""
    return {w[:5] for w in re.findall(r"[a-z']+", text.lower()) if len(w) >= 4 and w not in STOPWORDS}


def _user_text(request: ChatRequest) -> str:
    return request.messages[-1].content if request.messages else ""


def _tagged(text: str, tag: str) -> str:
    start, end = text.find(f"<{tag}>"), text.rfind(f"</{tag}>")
    return text[start + len(tag) + 2 : end].strip() if start >= 0 and end > start else ""


def choose_context(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """The offered contexts sharing a content word with the prompt, most
    shared first (ties: the order offered), at most three; none when none do."""
    text = _user_text(request)
    prompt_words = stems(_tagged(text, "prompt"))
    offered = [(int(m.group(1)), m.group(2)) for m in re.finditer(r"^context (\d+): (.*)$", text, re.M)]
    overlaps = [(len(prompt_words & stems(words)), i, cid) for i, (cid, words) in enumerate(offered)]
    chosen = [cid for n, _, cid in sorted(overlaps, key=lambda t: (-t[0], t[1])) if n > 0][:3]
    reason = (
        "Offline: these contexts share words with the prompt."
        if chosen
        else "Offline: no context shares a word with the prompt, so none applies."
    )
    return json.dumps({"contexts": chosen, "reason": reason}), []


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def judge_adherence(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """For each policy, the answer's sentence sharing most content words with
    it (none when no sentence shares one); the score is the share of
    policies with a quote, out of 10."""
    text = _user_text(request)
    policies = re.findall(r"^- (.*)$", _tagged(text, "value"), re.M)
    answer = sentences(_tagged(text, "answer"))
    judged = []
    for policy in policies:
        words = stems(policy)
        best = max(answer, key=lambda s: len(words & stems(s)), default="")
        judged.append({"policy": policy, "quote": best if best and words & stems(best) else None})
    attended = sum(1 for j in judged if j["quote"])
    score = round(10 * attended / len(judged)) if judged else 0
    return json.dumps({"policies": judged, "score": score}), []


def guided_completion(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """One sentence per attentional policy of the value in the system
    prompt, so the judge finds each policy attended to; the user's prompt is
    not echoed, so an answer attends only to its own value's policies."""
    policies = re.findall(r"^- (.*)$", request.system, re.M)
    said = [f"I would pay attention to {p.strip().rstrip('.').lower()}." for p in policies]
    return " ".join(said) or "I would think this through with you.", []


def register() -> None:
    register_script("choose_context", choose_context)
    register_script("judge_adherence", judge_adherence)
    register_script("guided_completion", guided_completion)
    register_script("guided_reply", guided_reply)
    register_script("plain_reply", plain_reply)
    register_script("constitution_reply", constitution_reply)


# --- the playground's replies -------------------------------------------------------------


def _last_user(request: ChatRequest) -> str:
    users = [m.content for m in request.messages if m.role == "user"]
    return users[-1] if users else ""


def guided_reply(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """Names the policies the reply attends to, so a reader sees the graph's guidance."""
    policies = re.findall(r"^- (.*)$", request.system, re.M)
    return (
        f'(Offline reply, no model was called.) On "{_last_user(request)[:80]}": attending to '
        + "; ".join(policies)
        + "."
    ), []


def plain_reply(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    return f'(Offline reply without values, no model was called.) On "{_last_user(request)[:80]}".', []


def constitution_reply(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    first = next((line.strip() for line in _tagged(request.system, "constitution").splitlines() if line.strip()), "")
    return (
        f'(Offline reply, no model was called.) On "{_last_user(request)[:80]}", '
        f"following the constitution: {first[:120]}"
    ), []
