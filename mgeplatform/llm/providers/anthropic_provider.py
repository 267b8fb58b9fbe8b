"""Anthropic Messages API, streamed, with prompt caching.

Follows https://docs.anthropic.com/en/api/messages and .../messages-streaming:
no sampling parameters (see capabilities.py), an `event: error` inside a
200 stream carries the same error types as an HTTP error (overloaded_error
is the 529 of a stream), and a 429 or 529 says how long to wait in
`retry-after`.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2

from mgeplatform.llm.adapt import OPENING_TURN
from mgeplatform.llm.capabilities import capabilities
from mgeplatform.llm.providers.base import retry_after_seconds
from mgeplatform.llm.providers.offline import approx_tokens
from mgeplatform.llm.types import ChatRequest, Done, LLMError, Message, TextDelta, ToolCall, ToolCallEvent, Usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
# Error types (docs: "Errors") that a later attempt may not meet, with the HTTP status they stand for.
RETRYABLE_ERROR_TYPES = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429, "timeout_error": 504}


def _error(err: Exception) -> LLMError:
    if isinstance(err, (anthropic.APITimeoutError, anthropic.APIConnectionError)):
        return LLMError(f"Anthropic: {type(err).__name__}", retryable=True)
    if isinstance(err, anthropic.APIStatusError):
        status = err.status_code
        body = err.body if isinstance(err.body, dict) else {}
        error_type = (body.get("error") or {}).get("type", "") if isinstance(body.get("error"), dict) else ""
        if status < 400:  # an error event inside a stream that began with 200
            status = RETRYABLE_ERROR_TYPES.get(error_type, 500 if error_type else status)
            retryable = error_type in RETRYABLE_ERROR_TYPES
        else:
            retryable = status == 429 or status >= 500
        detail = (body.get("error") or {}).get("message", "") if isinstance(body.get("error"), dict) else ""
        label = f" {error_type}" if error_type else ""
        return LLMError(
            f"Anthropic HTTP {status}{label}: {(detail or getattr(err, 'message', ''))[:200]}",
            retryable=retryable,
            status=status,
            retry_after=retry_after_seconds(err.response.headers),
        )
    if isinstance(err, httpx2.RequestError):  # a drop the SDK lets through mid-stream
        return LLMError(f"Anthropic: connection lost ({type(err).__name__})", retryable=True)
    return LLMError(f"Anthropic: {type(err).__name__}: {err}"[:300])


def to_anthropic_messages(messages: list[Message]) -> list[dict]:
    """Our turns → Anthropic's, which must alternate user/assistant: tool
    results are user content blocks, merged with any user text after them."""
    out: list[dict[str, Any]] = []

    def user_blocks() -> list:
        if out and out[-1]["role"] == "user":
            return out[-1]["content"]
        out.append({"role": "user", "content": []})
        return out[-1]["content"]

    for m in messages:
        if m.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
            out.append({"role": "assistant", "content": blocks or [{"type": "text", "text": "…"}]})
        elif m.role == "tool":
            user_blocks().append({"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content})
        else:
            user_blocks().append({"type": "text", "text": m.content})
    if out and out[0]["role"] != "user":
        # The API refuses a conversation that opens with the assistant's turn
        # ("first message must use the user role"); an interview opens with the greeting.
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": OPENING_TURN}]})
    return out


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, api_key: str, base_url: str | None = None, http_client=None):
        # An explicit base URL: the SDK would otherwise take ANTHROPIC_BASE_URL from the environment.
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url or DEFAULT_BASE_URL, max_retries=0, http_client=http_client
        )

    async def aclose(self) -> None:
        await self.client.close()

    def _params(self, request: ChatRequest) -> dict:
        caps = capabilities(self.name, request.model)
        system: list[dict[str, Any]] = [{"type": "text", "text": request.system}]
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "system": system,
            "messages": to_anthropic_messages(request.messages),
        }
        tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools]
        if tools:
            params["tools"] = tools
        # The tools and system prompt are the same for every turn of every
        # interview; they are marked for caching only when they reach the
        # model's minimum, below which marking caches nothing.
        prefix = approx_tokens(request.system) + approx_tokens(json.dumps(tools))
        if prefix >= caps.cache_min_tokens:
            system[-1]["cache_control"] = {"type": "ephemeral"}
        # The conversation so far is resent every turn: a second mark on its
        # last block caches it too once it reaches the minimum, so the next
        # turn reads it (the interviewer's system prompt alone is ~920 tokens,
        # below every minimum; three or four turns take it past 1,024).
        conversation = prefix + sum(
            approx_tokens(m.content or "") + approx_tokens(json.dumps([c.arguments for c in m.tool_calls]))
            for m in request.messages
        )
        turns = params["messages"]
        if turns and conversation >= caps.cache_min_tokens and turns[-1]["content"]:
            turns[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}
        # No temperature: the API refuses sampling parameters (capabilities.py).
        return params

    async def stream_chat(self, request: ChatRequest, *, timeout: float):
        usage = Usage()
        stop_reason = ""
        tools: dict[int, dict] = {}
        try:
            stream = await self.client.messages.create(stream=True, timeout=timeout, **self._params(request))
            async for event in stream:
                if event.type == "message_start":
                    u = event.message.usage
                    cached = getattr(u, "cache_read_input_tokens", 0) or 0
                    created = getattr(u, "cache_creation_input_tokens", 0) or 0
                    usage.input_tokens = (u.input_tokens or 0) + cached + created
                    usage.cached_input_tokens = cached
                    usage.cache_write_input_tokens = created
                    usage.output_tokens = getattr(u, "output_tokens", 0) or 0
                elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                    tools[event.index] = {"id": event.content_block.id, "name": event.content_block.name, "json": ""}
                elif event.type == "content_block_delta":
                    if event.delta.type == "text_delta":
                        yield TextDelta(event.delta.text)
                    elif event.delta.type == "input_json_delta" and event.index in tools:
                        tools[event.index]["json"] += event.delta.partial_json
                elif event.type == "content_block_stop" and event.index in tools:
                    tool = tools.pop(event.index)
                    try:
                        arguments = json.loads(tool["json"]) if tool["json"].strip() else {}
                    except json.JSONDecodeError:
                        raise LLMError("Anthropic returned malformed tool arguments.")
                    yield ToolCallEvent(ToolCall(id=tool["id"], name=tool["name"], arguments=arguments))
                elif event.type == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    if event.usage is not None and event.usage.output_tokens is not None:
                        usage.output_tokens = event.usage.output_tokens
        except (anthropic.AnthropicError, httpx2.RequestError) as err:
            raise _error(err) from err
        yield Done(usage=usage, stop_reason=stop_reason)

    async def embed(self, texts, *, model: str, dimensions: int, timeout: float):
        raise LLMError("Anthropic has no embeddings API; choose OpenAI or the local model for embeddings.")
