"""OpenAI Chat Completions, streamed; also any OpenAI-compatible server.

Follows https://platform.openai.com/docs/api-reference/chat/create and its
streaming section: `max_completion_tokens` (the deprecated `max_tokens` only
for compatible servers), no `temperature` for reasoning models
(capabilities.py), usage in a last chunk with empty `choices` when
`stream_options.include_usage` is set, and `retry-after` on 429.
"""

from __future__ import annotations

import json

import httpx2
import openai

from mgeplatform.llm.capabilities import capabilities
from mgeplatform.llm.providers.base import retry_after_seconds
from mgeplatform.llm.providers.offline import approx_tokens
from mgeplatform.llm.types import ChatRequest, Done, LLMError, Message, TextDelta, ToolCall, ToolCallEvent, Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _error(err: Exception, name: str) -> LLMError:
    if isinstance(err, (openai.APITimeoutError, openai.APIConnectionError)):
        return LLMError(f"{name}: {type(err).__name__}", retryable=True)
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        return LLMError(
            f"{name} HTTP {status}: {getattr(err, 'message', '')[:200]}",
            retryable=status == 429 or status >= 500,
            status=status,
            retry_after=retry_after_seconds(err.response.headers),
        )
    if isinstance(err, httpx2.RequestError):  # a drop the SDK lets through mid-stream
        return LLMError(f"{name}: connection lost ({type(err).__name__})", retryable=True)
    return LLMError(f"{name}: {type(err).__name__}: {err}"[:300])


def to_openai_messages(system: str, messages: list[Message]) -> list[dict]:
    # No system turn when there is no system prompt: strict templates refuse the role (adapt.strict_turns).
    out: list[dict] = [{"role": "system", "content": system}] if system else []
    for m in messages:
        if m.role == "assistant":
            item: dict = {"role": "assistant", "content": m.content or None}
            if m.tool_calls:
                item["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                    for c in m.tool_calls
                ]
            out.append(item)
        elif m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
        else:
            out.append({"role": "user", "content": m.content})
    return out


class OpenAIProvider:
    def __init__(self, api_key: str, base_url: str | None = None, name: str = "openai", http_client=None):
        self.name = name
        # An explicit base URL: the SDK would otherwise take OPENAI_BASE_URL
        # from the environment, sending "openai" calls to a local server.
        self.client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url or DEFAULT_BASE_URL, max_retries=0, http_client=http_client
        )

    async def aclose(self) -> None:
        await self.client.close()

    def params(self, request: ChatRequest) -> dict:
        caps = capabilities(self.name, request.model)
        params: dict = {
            "model": request.model,
            "messages": to_openai_messages(request.system, request.messages),
            caps.token_limit_param: request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in request.tools
            ]
        if request.temperature is not None and caps.sampling:
            params["temperature"] = request.temperature
        return params

    async def stream_chat(self, request: ChatRequest, *, timeout: float):
        params = self.params(request)
        text_parts: list[str] = []
        usage = Usage()
        stop_reason = ""
        calls: dict[int, dict] = {}
        try:
            stream = await self.client.chat.completions.create(timeout=timeout, **params)
            async for chunk in stream:
                if chunk.usage is not None:
                    details = getattr(chunk.usage, "prompt_tokens_details", None)
                    usage = Usage(
                        input_tokens=chunk.usage.prompt_tokens or 0,
                        cached_input_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
                        output_tokens=chunk.usage.completion_tokens or 0,
                    )
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        text_parts.append(delta.content)
                        yield TextDelta(delta.content)
                    for fragment in (delta.tool_calls or []) if delta is not None else []:
                        call = calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": ""})
                        call["id"] = fragment.id or call["id"]
                        if fragment.function is not None:
                            call["name"] = fragment.function.name or call["name"]
                            call["arguments"] += fragment.function.arguments or ""
                    if choice.finish_reason:
                        stop_reason = choice.finish_reason
        except (openai.OpenAIError, httpx2.RequestError) as err:
            raise _error(err, self.name) from err
        if usage == Usage():
            # Some servers send no usage chunk: count from the texts rather
            # than record a call as free, and say it was counted.
            sent = approx_tokens(request.system) + sum(approx_tokens(m.content or "") for m in request.messages)
            answered = approx_tokens("".join(text_parts)) + sum(approx_tokens(c["arguments"]) for c in calls.values())
            usage = Usage(input_tokens=sent, output_tokens=answered, estimated=True)
        for index in sorted(calls):
            call = calls[index]
            try:
                arguments = json.loads(call["arguments"]) if call["arguments"].strip() else {}
            except json.JSONDecodeError:
                raise LLMError(f"{self.name} returned malformed tool arguments.")
            yield ToolCallEvent(ToolCall(id=call["id"], name=call["name"], arguments=arguments))
        yield Done(usage=usage, stop_reason=stop_reason)

    async def embed(self, texts, *, model: str, dimensions: int, timeout: float):
        try:
            response = await self.client.embeddings.create(
                model=model, input=texts, dimensions=dimensions, timeout=timeout
            )
        except (openai.OpenAIError, httpx2.RequestError) as err:
            raise _error(err, self.name) from err
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
