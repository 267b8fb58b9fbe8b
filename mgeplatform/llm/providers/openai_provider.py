"""OpenAI Chat Completions, streamed; also any OpenAI-compatible server."""

from __future__ import annotations

import json

import openai

from mgeplatform.llm.types import ChatRequest, Done, LLMError, Message, TextDelta, ToolCall, ToolCallEvent, Usage


def _error(err: Exception, name: str) -> LLMError:
    if isinstance(err, (openai.APITimeoutError, openai.APIConnectionError)):
        return LLMError(f"{name}: {type(err).__name__}", retryable=True)
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        return LLMError(f"{name} HTTP {status}: {getattr(err, 'message', '')[:200]}",
                        retryable=status == 429 or status >= 500, status=status)
    return LLMError(f"{name}: {type(err).__name__}: {err}"[:300])


def to_openai_messages(system: str, messages: list[Message]) -> list[dict]:
    out: list[dict] = [{"role": "system", "content": system}]
    for m in messages:
        if m.role == "assistant":
            item: dict = {"role": "assistant", "content": m.content or None}
            if m.tool_calls:
                item["tool_calls"] = [{"id": c.id, "type": "function",
                                       "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                                      for c in m.tool_calls]
            out.append(item)
        elif m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
        else:
            out.append({"role": "user", "content": m.content})
    return out


class OpenAIProvider:
    def __init__(self, api_key: str, base_url: str | None = None, name: str = "openai", http_client=None):
        self.name = name
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url or None, max_retries=0,
                                         http_client=http_client)

    async def stream_chat(self, request: ChatRequest, *, timeout: float):
        params: dict = {
            "model": request.model,
            "messages": to_openai_messages(request.system, request.messages),
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            params["tools"] = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                                 "parameters": t.parameters}} for t in request.tools]
        if request.temperature is not None:
            params["temperature"] = request.temperature
        usage = Usage()
        stop_reason = ""
        calls: dict[int, dict] = {}
        try:
            stream = await self.client.chat.completions.create(timeout=timeout, **params)
            async for chunk in stream:
                if chunk.usage is not None:
                    details = getattr(chunk.usage, "prompt_tokens_details", None)
                    usage = Usage(input_tokens=chunk.usage.prompt_tokens or 0,
                                  cached_input_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
                                  output_tokens=chunk.usage.completion_tokens or 0)
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        yield TextDelta(delta.content)
                    for fragment in (delta.tool_calls or []) if delta is not None else []:
                        call = calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": ""})
                        call["id"] = fragment.id or call["id"]
                        if fragment.function is not None:
                            call["name"] = fragment.function.name or call["name"]
                            call["arguments"] += fragment.function.arguments or ""
                    if choice.finish_reason:
                        stop_reason = choice.finish_reason
        except openai.OpenAIError as err:
            raise _error(err, self.name) from err
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
            response = await self.client.embeddings.create(model=model, input=texts, dimensions=dimensions,
                                                           timeout=timeout)
        except openai.OpenAIError as err:
            raise _error(err, self.name) from err
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
