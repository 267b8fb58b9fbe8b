"""The offline provider: no key, no network, deterministic.

It does not imitate a language model in general. Each prompt that the
platform sends (named by `ChatRequest.role_hint`, the prompt's name) has a
script registered by the app that owns the prompt, which plays that part
from the request alone. Replies stream word by word, like a real model.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import math
import re
from collections.abc import Callable

from django.conf import settings

from mgeplatform.llm.types import ChatRequest, Done, LLMError, TextDelta, ToolCall, ToolCallEvent, Usage

# A script returns the reply text and any tool calls.
Script = Callable[[ChatRequest], tuple[str, list[ToolCall]]]
_SCRIPTS: dict[str, Script] = {}


def register_script(role: str, script: Script) -> None:
    _SCRIPTS[role] = script


def approx_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _request_tokens(request: ChatRequest) -> int:
    return approx_tokens(request.system) + sum(approx_tokens(m.content) for m in request.messages)


# Pacing stands in for a model's speed in front of a reader; scripted
# participants (simulations) read nothing, so they switch it off.
_paced: contextvars.ContextVar[bool] = contextvars.ContextVar("offline_paced", default=True)


@contextlib.contextmanager
def unpaced():
    token = _paced.set(False)
    try:
        yield
    finally:
        _paced.reset(token)


class OfflineProvider:
    name = "offline"

    def __init__(self, delay: float | None = None, first_token: float | None = None):
        self.delay = settings.LLM_OFFLINE_STREAM_DELAY if delay is None else delay
        # Benchmarks set a first-token latency to stand in for a real model.
        self.first_token = settings.LLM_OFFLINE_FIRST_TOKEN_SECONDS if first_token is None else first_token

    async def stream_chat(self, request: ChatRequest, *, timeout: float):
        script = _SCRIPTS.get(request.role_hint)
        if script is None:
            raise LLMError(f"The offline provider has no script for prompt {request.role_hint!r}.")
        text, tool_calls = script(request)
        paced = _paced.get()
        if self.first_token and paced:
            await asyncio.sleep(self.first_token)
        for i, chunk in enumerate(re.findall(r"\S+\s*|\s+", text)):
            if self.delay and i and paced:
                await asyncio.sleep(self.delay)
            yield TextDelta(chunk)
        for call in tool_calls:
            yield ToolCallEvent(call)
        yield Done(
            usage=Usage(input_tokens=_request_tokens(request), output_tokens=approx_tokens(text)),
            stop_reason="tool_use" if tool_calls else "end_turn",
        )

    async def embed(self, texts, *, model: str, dimensions: int, timeout: float):
        """Hashed bag of words: similar wording gives similar vectors. Words are letters of any script
        ("dignidad", "más"), so non-English cards are not reduced to their ASCII fragments."""
        vectors = []
        for text in texts:
            vector = [0.0] * dimensions
            for word in re.findall(r"(?:[^\W\d_]|')+", text.lower()):
                digest = hashlib.sha256(word.encode()).digest()
                index = int.from_bytes(digest[:4], "little") % dimensions
                vector[index] += 1.0 if digest[4] % 2 else -1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors
