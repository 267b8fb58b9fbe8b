"""Offline scripts for the graph prompts: deterministic answers derived from
the request alone, in the same shape a model is asked for."""

from __future__ import annotations

import hashlib
import json
import re

from mgeplatform.llm.providers.offline import register_script
from mgeplatform.llm.types import ChatRequest, ToolCall

CONTEXT_BANK = [
    "When advising someone in distress",
    "When someone faces a choice about their own life",
    "When the question touches on deeply held beliefs",
    "When a child's growth is at stake",
    "When someone asks for facts about a painful event",
    "When the person asking may be at risk",
    "When family members disagree",
]


def _user_text(request: ChatRequest) -> str:
    return request.messages[-1].content if request.messages else ""


def moral_contexts(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """Three contexts from a fixed bank, chosen by the scenario's wording."""
    seed = int.from_bytes(hashlib.sha256(_user_text(request).encode()).digest()[:4], "little")
    picked = [CONTEXT_BANK[(seed + i * 3) % len(CONTEXT_BANK)] for i in range(3)]
    return json.dumps({"contexts": list(dict.fromkeys(picked))}), []


def _blocks(text: str) -> list[tuple[int, int]]:
    """(id, number of policies) of each value in a pairing request."""
    values = text.split("\n\nValues:\n", 1)[-1]
    return [(int(m.group(1)), m.group(2).count("\n- ")) for m in
            re.finditer(r"^id (\d+)\n(.*?)(?=^id \d+\n|\Z)", values, re.S | re.M)]


def pair_values(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """Neighbours in the given order, from the value with fewer policies to
    the one with more (ties: lower id first), each in two contexts."""
    text = _user_text(request)
    contexts = [int(c) for c in re.findall(r"^context (\d+):", text, re.M)]
    if not contexts:
        return json.dumps({"pairs": []}), []  # every pair needs a context
    blocks = _blocks(text)
    pairs = []
    for i, ((a, na), (b, nb)) in enumerate(zip(blocks, blocks[1:])):
        low, high = ((a, b) if (na, -a) <= (nb, -b) else (b, a))
        # Each pair in two of the question's contexts (when it has two), as a
        # model finds a transition wise in more than one situation.
        for context in dict.fromkeys([contexts[i % len(contexts)], contexts[(i + 1) % len(contexts)]]):
            pairs.append({"from": low, "to": high, "context": context, "reason": "Offline: the second covers more."})
    return json.dumps({"pairs": pairs}), []


def _first_value(text: str) -> tuple[str, list[str]]:
    first = text.split("\n\nFirst value:\n", 1)[-1].split("\n\nSecond value:\n", 1)[0]
    title = re.search(r"^Title: (.*)$", first, re.M)
    return (title.group(1) if title else "my value"), re.findall(r"^- (.*)$", first, re.M)


def _second_title(text: str) -> str:
    second = text.split("\n\nSecond value:\n", 1)[-1]
    title = re.search(r"^Title: (.*)$", second, re.M)
    return title.group(1) if title else "a new value"


def story_reasoning(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    text = _user_text(request)
    title, policies = _first_value(text)
    second = _second_title(text)
    return json.dumps({
        "shared_meaning": f"Both {title.lower()} and {second.lower()} were about helping someone live well.",
        "clarification": (f"I saw that {title.lower()} was one way of reaching something "
                          f"{second.lower()} reaches more fully."),
        "policy_changes": [{"policy": p, "change": f"I still notice this, as part of {second.lower()}."}
                           for p in policies],
    }), []


def story_writer(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    text = _user_text(request)
    title, _ = _first_value(text)
    second = _second_title(text)
    context = re.search(r"^Moral context: (.*)$", text, re.M)
    where = context.group(1).lower() if context else "in hard moments"
    story = (f"I used to care most about {title.lower()}. {where.capitalize()}, I would reach for it first. "
             f"Then one evening a friend showed me how much more there was to see, and I realised that "
             f"{second.lower()} holds what I cared about all along. Now I pay attention to that.")
    return json.dumps({"story": story}), []


def register() -> None:
    register_script("moral_contexts", moral_contexts)
    register_script("pair_values", pair_values)
    register_script("story_reasoning", story_reasoning)
    register_script("story_writer", story_writer)
