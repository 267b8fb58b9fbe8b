"""The offline interviewer: follows the prompt's strategy sequence and asks for a card in time."""

from __future__ import annotations

import hashlib
import json
import re

from interviews.offline.phrases import APPROVAL, SLOGAN_WORDS, is_filler
from interviews.offline.revisions import requested_changes
from mgeplatform.llm.types import ChatRequest, ToolCall

DONT_KNOW = re.compile(r"\b(don'?t know|not sure|can'?t think|no idea|nothing comes|never had)\b", re.I)
# After the card is shown, answers that neither approve it nor ask for a change get this many explanations;
# the next one submits the card as it is (the participant can always press Submit themselves).
MAX_NUDGES_AFTER_CARD = 2


HOW_TO_CHANGE = (
    "You can give it a new title (\u201ccall it \u2026\u201d), drop a point (\u201cdrop the second "
    "point\u201d) or add one (\u201cadd \u2026\u201d)."
)


def _user_turns(request: ChatRequest) -> list[str]:
    return [m.content for m in request.messages if m.role == "user" and m.content.strip()]


def _last_tool_result(request: ChatRequest):
    for message in reversed(request.messages):
        if message.role == "tool":
            return message
        if message.role == "user":
            return None
    return None


def _call(request: ChatRequest, name: str, **arguments) -> ToolCall:
    """A tool call whose id is unique in the conversation: it is derived from the transcript so far, which
    grows every turn (the id was once the arguments' length, the same for every argument-less call)."""
    seen = json.dumps([[m.role, m.content, m.tool_call_id] for m in request.messages])
    digest = hashlib.sha256(f"{name}\n{len(request.messages)}\n{seen}".encode()).hexdigest()[:16]
    return ToolCall(id=f"offline_{name}_{len(request.messages)}_{digest}", name=name, arguments=arguments)


def _nudges_since_card(request: ChatRequest) -> int:
    """How often the interviewer has explained how to change the card since it was last shown."""
    count = 0
    for message in reversed(request.messages):
        if message.role == "tool" and message.content.startswith("CARD SHOWN"):
            break
        if message.role == "assistant" and message.content.startswith(HOW_TO_CHANGE):
            count += 1
    return count


def interviewer(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    users = _user_turns(request)
    last_tool = _last_tool_result(request)
    card_shown = any(m.role == "tool" and m.content.startswith("CARD SHOWN") for m in request.messages)
    attempts = sum(
        1 for m in request.messages if m.role == "assistant" and any(c.name == "show_values_card" for c in m.tool_calls)
    )

    if last_tool is not None:
        if last_tool.content.startswith("CARD SHOWN"):
            title = re.search(r'"title":\s*"([^"]*)"', last_tool.content)
            name = title.group(1) if title else "your value"
            return (
                f"This card, titled \u201c{name}\u201d, is my attempt to capture what you've shared about what "
                "you pay attention to. Does it fit what you care about, or is there anything you would change? "
                f"{HOW_TO_CHANGE}"
            ), []
        if last_tool.content.startswith("SUBMITTED"):
            return (
                "Thank you for submitting your value. Your input helps us understand how an assistant should respond."
            ), []
        return (
            "I'd like to understand a little more before writing this up. "
            "When you faced a choice like this, what did you look for or notice first?"
        ), []

    last = users[-1] if users else ""
    if card_shown:
        # "Yes, but call it ..." is a change first; the card is shown again before it is submitted.
        changes = requested_changes(last)
        if APPROVAL.match(last) and not changes:
            return "Wonderful, I'll submit your card now.", [_call(request, "submit_values_card")]
        if not changes and _nudges_since_card(request) >= MAX_NUDGES_AFTER_CARD:
            # Never a loop: after a few turns with no change asked for, the card goes in as it stands.
            return ("Thank you. I'll submit the card as it stands now."), [_call(request, "submit_values_card")]
        if not changes:  # a script cannot guess what to change: ask, rather than show the same card again
            return (f"{HOW_TO_CHANGE} Or, if the card fits, just say so and I'll submit it."), []
        return "Thank you, let me change the card.", [_call(request, "show_values_card", change_request=last)]

    turn = len(users)
    if turn <= 1:
        if SLOGAN_WORDS.search(last) or len(last.split()) < 12:
            return (
                "Thank you for sharing that. What is the good thing you want to protect here? "
                "If you imagine getting this right, what would you be paying attention to?"
            ), []
        return (
            "Thank you. When you yourself face a choice like this, what do you pay attention to in deciding what to do?"
        ), []
    if turn == 2:
        return (
            "That helps. Could you tell me about a time in your own life when you made a choice like this? "
            "What did you notice or look for then?"
        ), []
    if turn == 3:
        if DONT_KNOW.search(last) or is_filler(last):
            return (
                "That's all right. Is there someone you admire for how they handle choices like this? "
                "What would they pay attention to?"
            ), []
        return "When you think back on that, what stood out to you as most important?", []
    if attempts:  # the card writer asked for more once; from this turn on it always writes a card
        return ("Thank you, that is enough for me to write a card from what you've said so far."), [
            _call(request, "show_values_card")
        ]
    return ("Thank you, I think I have a picture of what matters to you. Let me write it up as a card."), [
        _call(request, "show_values_card")
    ]
