from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from mgeplatform.llm.types import ChatRequest, StreamEvent


def retry_after_seconds(headers) -> float | None:
    """`retry-after-ms` or `retry-after` (seconds; an HTTP date is not worth parsing here)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) / scale)
            except ValueError:
                continue
    return None


class Provider(Protocol):
    name: str

    def stream_chat(self, request: ChatRequest, *, timeout: float) -> AsyncIterator[StreamEvent]:
        """Yield TextDelta / ToolCallEvent events and finally one Done.

        Raise LLMError (retryable for rate limits, 5xx, timeouts, dropped
        connections) on failure."""
        ...

    async def embed(self, texts: list[str], *, model: str, dimensions: int, timeout: float) -> list[list[float]]: ...
