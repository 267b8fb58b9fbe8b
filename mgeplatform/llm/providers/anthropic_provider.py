"""Anthropic Messages API, streamed, with prompt caching."""

from __future__ import annotations

import json

import anthropic

from mgeplatform.llm.types import ChatRequest, Done, LLMError, Message, TextDelta, ToolCall, ToolCallEvent, Usage


def _error(err: Exception) -> LLMError:
    if isinstance(err, (anthropic.APITimeoutError, anthropic.APIConnectionError)):
        return LLMError(f"Anthropic: {type(err).__name__}", retryable=True)
    if isinstance(err, anthropic.APIStatusError):
        status = err.status_code
        retryable = status == 429 or status >= 500
        return LLMError(f"Anthropic HTTP {status}: {getattr(err, 'message', '')[:200]}", retryable=retryable,
                        status=status)
    return LLMError(f"Anthropic: {type(err).__name__}: {err}"[:300])


def to_anthropic_messages(messages: list[Message]) -> list[dict]:
    """Our turns → Anthropic's, which must alternate user/assistant: tool
    results are user content blocks, merged with any user text after them."""
    out: list[dict] = []

    def user_blocks() -> list:
        if out and out[-1]["role"] == "user":
            return out[-1]["content"]
        out.append({"role": "user", "content": []})
        return out[-1]["content"]

    for m in messages:
        if m.role == "assistant":
            blocks = [{"type": "text", "text": m.content}] if m.content else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
            out.append({"role": "assistant", "content": blocks or [{"type": "text", "text": "…"}]})
        elif m.role == "tool":
            user_blocks().append({"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content})
        else:
            user_blocks().append({"type": "text", "text": m.content})
    return out


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, api_key: str, http_client=None):
        self.client = anthropic.AsyncAnthropic(api_key=api_key, max_retries=0, http_client=http_client)

    def _params(self, request: ChatRequest) -> dict:
        params = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            # The system prompt is the same for every turn of every interview:
            # cache it (and the tools, which precede it in the cache prefix).
            "system": [{"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}],
            "messages": to_anthropic_messages(request.messages),
        }
        if request.tools:
            tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                     for t in request.tools]
            tools[-1]["cache_control"] = {"type": "ephemeral"}
            params["tools"] = tools
        if request.temperature is not None:
            params["temperature"] = request.temperature
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
        except anthropic.AnthropicError as err:
            raise _error(err) from err
        yield Done(usage=usage, stop_reason=stop_reason)

    async def embed(self, texts, *, model: str, dimensions: int, timeout: float):
        raise LLMError("Anthropic has no embeddings API; choose OpenAI or the local model for embeddings.")
