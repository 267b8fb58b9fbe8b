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
# Contexts for the case study's questions (studies.case_study), found by
# words of the question, as a model would name the situation's aspects.
QUESTION_CONTEXTS = [
    (
        ("abortion", "pregnan"),
        [
            "When she is frightened and has not told anyone yet",
            "When her faith and the choice in front of her seem to pull apart",
            "When she asks for plain facts to make up her own mind",
        ],
    ),
    (
        ("homework", "10-year-old", "son refuses"),
        [
            "When a child seems withdrawn or unhappy",
            "When a parent feels they are losing authority at home",
            "When a child's passion looks like a distraction",
        ],
    ),
    (
        ("weapons", "rioters", "jan 6"),
        [
            "When the facts are disputed along political lines",
            "When the person asking may be drawn towards violence",
            "When someone is trying to understand what happened to their democracy",
        ],
    ),
]


def _user_text(request: ChatRequest) -> str:
    return request.messages[-1].content if request.messages else ""


def moral_contexts(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """The case study's questions get their own three contexts; any other
    question three from a fixed bank, chosen by its wording."""
    question = _user_text(request).lower()
    for words, contexts in QUESTION_CONTEXTS:
        if any(w in question for w in words):
            return json.dumps({"contexts": contexts}), []
    seed = int.from_bytes(hashlib.sha256(_user_text(request).encode()).digest()[:4], "little")
    picked = [CONTEXT_BANK[(seed + i * 3) % len(CONTEXT_BANK)] for i in range(3)]
    return json.dumps({"contexts": list(dict.fromkeys(picked))}), []


def _blocks(text: str) -> list[tuple[int, str]]:
    """(id, card text) of each value in a pairing request."""
    values = text.split("\n\nValues:\n", 1)[-1]
    return [
        (int(m.group(1)), m.group(2)) for m in re.finditer(r"^id (\d+)\n(.*?)(?=^id \d+\n|\Z)", values, re.S | re.M)
    ]


def _stems(text: str) -> set[str]:
    return {re.sub(r"(ing|ed|es|s)$", "", w) for w in re.findall(r"[a-z']+", text.lower()) if len(w) > 3}


def _digest(*parts) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:4], "little")


def pair_values(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """Each value with its next two neighbours in the given order, each pair
    in two of the question's contexts. The direction: towards the card with
    more policies (it covers more), else as a coin falls for that pair in
    that context (so a pair may be asked one way in one context and the
    other way in another); the coin reads the cards' text, not their ids, so
    the same values pair the same way in any database."""
    text = _user_text(request)
    contexts = [(int(c), t) for c, t in re.findall(r"^context (\d+): (.*)$", text, re.M)]
    if not contexts:
        return json.dumps({"pairs": []}), []  # every pair needs a context
    blocks = _blocks(text)
    pairs, n = [], 0
    for i, (a, card_a) in enumerate(blocks):
        for b, card_b in blocks[i + 1 : i + 3]:
            for context, context_text in dict.fromkeys(
                [contexts[n % len(contexts)], contexts[(n + 1) % len(contexts)]]
            ):
                size_a, size_b = card_a.count("\n- "), card_b.count("\n- ")
                if size_a != size_b:
                    forward = size_a < size_b
                else:
                    forward = _digest(*sorted([card_a, card_b]), context_text) % 2 == (card_a < card_b)
                low, high = (a, b) if forward else (b, a)
                pairs.append(
                    {"from": low, "to": high, "context": context, "reason": "Offline: the second covers more."}
                )
            n += 1
    return json.dumps({"pairs": pairs[:40]}), []


def _card(text: str, which: str) -> tuple[str, list[str]]:
    part = text.split(f"\n\n{which} value:\n", 1)[-1].split("\n\nSecond value:\n", 1)[0].split("\n\nReasoning:", 1)[0]
    title = re.search(r"^Title: (.*)$", part, re.M)
    return (title.group(1) if title else "my value"), re.findall(r"^- (.*)$", part, re.M)


def _first_value(text: str) -> tuple[str, list[str]]:
    return _card(text, "First")


def _second_title(text: str) -> str:
    return _card(text, "Second")[0]


def _plain(policy: str) -> str:
    """A policy as words in a sentence: "CHOICES that let her ..." -> "choices that let her ..."."""
    words = policy.strip().rstrip(".").split(" ")
    i = 0
    while i < len(words) and words[i].isupper() and len(words[i]) > 1:
        words[i] = words[i].lower()
        i += 1
    return " ".join(words)


def _new_to_them(first: list[str], second: list[str]) -> list[str]:
    """The second value's policies, those sharing fewest words with the first value's first."""
    old = _stems(" ".join(first))
    return sorted(second, key=lambda p: (len(_stems(p) & old), second.index(p)))


def _pick(options: list[str], seed: int, salt: int) -> str:
    return options[(seed // (salt or 1)) % len(options)]


def story_reasoning(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """What both values are about, what changed, and how each of the first
    value's policies changed, from the two cards' own policies."""
    text = _user_text(request)
    title, policies = _first_value(text)
    second, seconds = _card(text, "Second")
    fresh = _new_to_them(policies, seconds) or [second.lower()]
    seed = _digest(title, second, text[:200])
    changes = []
    for i, policy in enumerate(policies):
        target = _plain(fresh[i % len(fresh)])
        change = _pick(
            [
                f"I still notice {_plain(policy)}, but now as one sign among others, next to {target}.",
                f"Where I used to look only at {_plain(policy)}, I now also look at {target}.",
                f"I keep {_plain(policy)} in view, but what I act on now is {target}.",
            ],
            seed + i,
            1,
        )
        changes.append({"policy": policy, "change": change})
    return json.dumps(
        {
            "shared_meaning": (
                f"Both were about the person being helped well: attending to {_plain(policies[0])} "
                f"and attending to {_plain(fresh[0])} serve the same care."
                if policies
                else f"Both {title.lower()} and {second.lower()} were about helping someone live well."
            ),
            "clarification": (
                f"I saw that attending to {_plain(policies[-1]) if policies else title.lower()} "
                f"was one way of reaching what attending to {_plain(fresh[0])} reaches more fully."
            ),
            "policy_changes": changes,
        }
    ), []


OPENINGS = [
    "I used to pay most attention to {a1}.",
    "I used to think the first thing to look at was {a1}.",
    "I used to believe that what mattered most was {a1}, and {a2} after that.",
    "I used to start from {a1}; I was proud of how carefully I watched for it.",
]
IN_CONTEXT = [
    "{where}, that was what I reached for first.",
    "{where}, it felt like the responsible thing, and I rarely questioned it.",
    "{where}, I would go straight to it, almost without thinking.",
]
SCENES = [
    "Then someone I had tried to help came back a year later and told me what had actually made a difference.",
    "Then I watched a friend go through exactly this, and I stayed quiet long enough to see what she needed.",
    "Then I got it badly wrong with someone who trusted me, and I had to ask myself what I had missed.",
    "Then an older colleague asked me a question I could not answer, and I spent weeks thinking about it.",
    "Then I sat in on a long conversation where I was only allowed to listen.",
    "Then I read a stack of letters from people who had been through this years before.",
]
NOTICED = [
    "What I noticed was {b1}. I had been looking past it the whole time.",
    "I began to notice {b1}, and once I saw it I could not stop seeing it.",
    "It was {b1} that made the difference, and I had barely registered it before.",
]
NOW = [
    "Now I pay attention to that, and to {b2}. I still care about {a1}, but it is no longer where I start.",
    "These days I look first for {b2}, and for {b3}. I have not stopped noticing {a1}; it is one thing among several.",
    "Now what I watch for is {b2}, as well as {b3}. I have not let go of {a1}; I see where it fits.",
]


def story_writer(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """A first-person story built from the two cards: what the person used
    to attend to (the first card's policies), what they noticed (a policy of
    the second card new to them), what they attend to now; the wording
    varies with the pair and the context."""
    text = _user_text(request)
    title, policies = _first_value(text)
    second, seconds = _card(text, "Second")
    context = re.search(r"^Moral context: (.*)$", text, re.M)
    where = context.group(1) if context else "In hard moments"
    seed = _digest(title, second, where)
    old = [_plain(p) for p in policies] or [title.lower()]
    new = [_plain(p) for p in _new_to_them(policies, seconds)] or [second.lower()]
    fill = {
        "a1": old[0],
        "a2": old[1] if len(old) > 1 else old[0],
        "b1": new[0],
        "b2": new[1] if len(new) > 1 else new[0],
        "b3": new[2] if len(new) > 2 else new[0],
        "where": where[:1].upper() + where[1:],
    }
    parts = [
        _pick(OPENINGS, seed, 1),
        _pick(IN_CONTEXT, seed, 7),
        _pick(SCENES, seed, 11),
        _pick(NOTICED, seed, 13),
        _pick(NOW, seed, 17),
    ]
    story = " ".join(p.format(**fill) for p in parts)
    return json.dumps({"story": story}), []


def register() -> None:
    register_script("moral_contexts", moral_contexts)
    register_script("pair_values", pair_values)
    register_script("story_reasoning", story_reasoning)
    register_script("story_writer", story_writer)
