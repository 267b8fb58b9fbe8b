"""Offline script for the deduplicator prompt: cards match when their
attentional policies share most of their words. Cautious, like the prompt."""

from __future__ import annotations

import json
import re

from mgeplatform.llm import offline_translation
from mgeplatform.llm.providers.offline import register_script
from mgeplatform.llm.types import ChatRequest, ToolCall

MATCH_THRESHOLD = 0.6


def _words(policies: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", policies.lower()) if len(w) > 3}


def _policies(block: str) -> str:
    return " ".join(line[2:] for line in block.splitlines() if line.startswith("- "))


def deduplicator(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    text = request.messages[-1].content if request.messages else ""
    new_block, _, rest = text.partition("\n\nCanonical values:\n")
    new = _words(_policies(new_block))
    best, best_score = None, 0.0
    for block in rest.split("\n\nid ")[0:]:
        match = re.match(r"(?:id )?(\d+)\n", block)
        if not match:
            continue
        other = _words(_policies(block))
        score = len(new & other) / max(1, len(new | other))
        if score > best_score:
            best, best_score = int(match.group(1)), score
    if best is not None and best_score >= MATCH_THRESHOLD:
        return json.dumps({"match": best, "reason": f"Offline: {best_score:.0%} of policy words shared."}), []
    return json.dumps({"match": None, "reason": f"Offline: at most {best_score:.0%} of policy words shared."}), []


def best_card(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """Offline: the card with the most attentional policies (ties: lowest id)."""
    text = request.messages[-1].content if request.messages else ""
    blocks = re.findall(r"^id (\d+)\n(.*?)(?=^id \d+\n|\Z)", text, re.S | re.M)
    if not blocks:
        return json.dumps({"best": None}), []
    best = max(blocks, key=lambda b: (b[1].count("\n- "), -int(b[0])))
    return json.dumps({"best": int(best[0]), "reason": "Offline: the most complete card."}), []


def register() -> None:
    register_script("translator", offline_translation.translator)
    register_script("deduplicator", deduplicator)
    register_script("best_card", best_card)
