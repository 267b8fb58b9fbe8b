from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from mgeplatform.llm.types import ChatRequest, StreamEvent


class Provider(Protocol):
    name: str

    def stream_chat(self, request: ChatRequest, *, timeout: float) -> AsyncIterator[StreamEvent]:
        """Yield TextDelta / ToolCallEvent events and finally one Done.

        Raise LLMError (retryable for rate limits, 5xx, timeouts, dropped
        connections) on failure."""
        ...

    async def embed(self, texts: list[str], *, model: str, dimensions: int, timeout: float) -> list[list[float]]:
        ...
