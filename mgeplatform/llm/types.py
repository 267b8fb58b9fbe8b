"""Provider-neutral request and event types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict  # JSON schema of the arguments


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict


@dataclass
class Message:
    """One turn. `tool_calls` on assistant turns; `tool_call_id` on tool results."""

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None


@dataclass
class Usage:
    input_tokens: int = 0
    cached_input_tokens: int = 0  # read from the provider's prompt cache
    output_tokens: int = 0
    cache_write_input_tokens: int = 0  # written to the cache (Anthropic prices these above plain input)
    estimated: bool = False  # the provider reported no usage; counted from the texts


@dataclass
class ChatRequest:
    model: str
    system: str
    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    max_tokens: int = 1024
    temperature: float | None = None
    # For the offline provider, which plays a part instead of calling a model.
    role_hint: str = ""


@dataclass
class TextDelta:
    text: str
    type: Literal["text"] = "text"


@dataclass
class ToolCallEvent:
    call: ToolCall
    type: Literal["tool_call"] = "tool_call"


@dataclass
class Done:
    usage: Usage
    stop_reason: str = ""
    raw: Any = None
    type: Literal["done"] = "done"


StreamEvent = TextDelta | ToolCallEvent | Done


@dataclass
class ChatResult:
    text: str
    tool_calls: list[ToolCall]
    usage: Usage
    stop_reason: str = ""


class LLMError(Exception):
    """A provider call failed. `retryable` errors are retried with backoff."""

    record: Any  # the LLMCall row, set by the gateway once written (callers read it with getattr)

    def __init__(
        self, message: str, *, retryable: bool = False, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after  # seconds the provider asked us to wait (retry-after)


class LLMOutputError(LLMError):
    """The model answered, but not in the shape we asked for."""
