"""A model behind the fake servers that can play every prompt of the platform.

The server reads a request in the provider's own wire format, tells which
prompt it is from the system prompt (each prompt file's longest fixed
passage), has the offline provider's script for that prompt answer it, and
sends the answer back in the provider's streaming format (wire.py), cut at
awkward byte offsets. It also refuses, as the real API does, what the API
documents as invalid: for Anthropic, sampling parameters, a conversation
opening with the assistant's turn, and a `tool_use` not answered by a
`tool_result` in the next turn; for OpenAI, `max_tokens`, and a tool call
without its result.
"""

from __future__ import annotations

import asyncio
import json
from functools import cache
from pathlib import Path

from mgeplatform.llm.adapt import OPENING_TURN
from mgeplatform.llm.prompts import _PLACEHOLDER, load
from mgeplatform.llm.providers.offline import OfflineProvider
from mgeplatform.llm.types import ChatRequest, Message, TextDelta, ToolCall, ToolCallEvent, ToolSpec
from tests.conformance import wire

ROOT = Path(__file__).resolve().parents[2]


@cache
def _passages() -> list[tuple[str, str]]:
    """(longest fixed passage, prompt name), longest first."""
    out = []
    for path in ROOT.glob("*/prompts/*.md"):
        prompt = load(path)
        fixed = max(_PLACEHOLDER.split(prompt.body)[::2], key=len).strip()
        out.append((fixed[:400], prompt.name))
    return sorted(out, key=lambda item: -len(item[0]))


def prompt_name(system: str) -> str:
    return next((name for passage, name in _passages() if passage and passage in system), "")


def _anthropic_request(body: dict) -> tuple[ChatRequest, str]:
    system = body.get("system") or ""
    if isinstance(system, list):
        system = "".join(block.get("text", "") for block in system)
    messages: list[Message] = []
    for turn in body["messages"]:
        blocks = turn["content"] if isinstance(turn["content"], list) else [{"type": "text", "text": turn["content"]}]
        text = "".join(b.get("text", "") for b in blocks if b["type"] == "text")
        if turn["role"] == "assistant":
            calls = [ToolCall(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
            messages.append(Message(role="assistant", content=text, tool_calls=calls))
            continue
        if turn is body["messages"][0] and text == OPENING_TURN:
            continue  # added by the provider for the API's sake; the script never sent it
        for b in blocks:
            if b["type"] == "tool_result":
                messages.append(Message(role="tool", content=str(b.get("content", "")), tool_call_id=b["tool_use_id"]))
        if text:
            messages.append(Message(role="user", content=text))
    tools = [ToolSpec(t["name"], t.get("description", ""), t["input_schema"]) for t in body.get("tools", [])]
    return ChatRequest(model=body["model"], system=system, messages=messages, tools=tools), system


def _openai_request(body: dict) -> tuple[ChatRequest, str]:
    system = "".join(m["content"] for m in body["messages"] if m["role"] == "system")
    messages = []
    for m in body["messages"]:
        if m["role"] == "assistant":
            calls = [
                ToolCall(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"] or "{}"))
                for c in m.get("tool_calls") or []
            ]
            messages.append(Message(role="assistant", content=m.get("content") or "", tool_calls=calls))
        elif m["role"] == "tool":
            messages.append(Message(role="tool", content=m["content"], tool_call_id=m["tool_call_id"]))
        elif m["role"] == "user":
            messages.append(Message(role="user", content=m["content"]))
    tools = [
        ToolSpec(t["function"]["name"], t["function"].get("description", ""), t["function"]["parameters"])
        for t in body.get("tools", [])
    ]
    return ChatRequest(model=body["model"], system=system, messages=messages, tools=tools), system


def anthropic_violations(body: dict) -> list[str]:
    problems = [f"sampling parameter {name!r}" for name in ("temperature", "top_p", "top_k") if name in body]
    turns = body["messages"]
    if not turns or turns[0]["role"] != "user":
        problems.append('messages: first message must use the "user" role')
    for i, turn in enumerate(turns):
        blocks = turn["content"] if isinstance(turn["content"], list) else []
        ids = {b["id"] for b in blocks if b.get("type") == "tool_use"}
        if ids:
            following = turns[i + 1]["content"] if i + 1 < len(turns) else []
            answered = {b.get("tool_use_id") for b in following if isinstance(b, dict)}
            if ids - answered:
                problems.append("tool_use ids were found without tool_result blocks immediately after")
    return problems


def openai_violations(body: dict) -> list[str]:
    problems = ["max_tokens is deprecated; use max_completion_tokens"] if "max_tokens" in body else []
    pending: set[str] = set()
    for m in body["messages"]:
        if m["role"] == "tool":
            pending.discard(m["tool_call_id"])
        elif pending:
            problems.append("an assistant message with 'tool_calls' must be followed by tool messages")
            pending = set()
        if m["role"] == "assistant":
            pending = {c["id"] for c in m.get("tool_calls") or []}
    return problems


def _play(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    async def run():
        text, calls = [], []
        async for event in OfflineProvider(delay=0).stream_chat(request, timeout=30):
            if isinstance(event, TextDelta):
                text.append(event.text)
            elif isinstance(event, ToolCallEvent):
                calls.append(event.call)
        return "".join(text), calls

    return asyncio.run(run())


def _anthropic_body(text: str, calls: list[ToolCall]) -> bytes:
    events: list[tuple[str | None, dict]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_j",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-6",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 120,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "output_tokens": 1,
                    },
                },
            },
        )
    ]
    index = 0
    if text:
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            )
        )
        for start in range(0, len(text), 11):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": text[start : start + 11]},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        index = 1
    for offset, call in enumerate(calls):
        arguments = json.dumps(call.arguments, ensure_ascii=False)
        i = index + offset
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": i,
                    "content_block": {
                        "type": "tool_use",
                        "id": f"toolu_{i}_{abs(hash(arguments)) % 10**8}",
                        "name": call.name,
                        "input": {},
                    },
                },
            )
        )
        for start in range(0, len(arguments), 9):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": arguments[start : start + 9]},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use" if calls else "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 40},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return wire.sse(events)


def _openai_body(text: str, calls: list[ToolCall]) -> bytes:
    def chunk(delta, finish=None):
        return (
            None,
            {
                "id": "chatcmpl-j",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-4o",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            },
        )

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": text[start : start + 11]}) for start in range(0, len(text), 11)]
    for i, call in enumerate(calls):
        arguments = json.dumps(call.arguments, ensure_ascii=False)
        events.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": f"call_{i}_{abs(hash(arguments)) % 10**8}",
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
        )
        for start in range(0, len(arguments), 9):
            events.append(
                chunk({"tool_calls": [{"index": i, "function": {"arguments": arguments[start : start + 9]}}]})
            )
    events.append(chunk({}, "tool_calls" if calls else "stop"))
    events.append(
        (
            None,
            {
                "id": "chatcmpl-j",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-4o",
                "choices": [],
                "usage": {
                    "prompt_tokens": 120,
                    "completion_tokens": 40,
                    "total_tokens": 160,
                    "prompt_tokens_details": {"cached_tokens": 0},
                },
            },
        )
    )
    return wire.sse(events) + b"data: [DONE]\n\n"


def responder(provider: str, seen: list[str]):
    """The fake server's answer; `seen` collects the prompt names it played."""

    def respond(received: wire.Received) -> wire.Reply:
        body = received.body
        if provider == "anthropic":
            problems, (request, system) = anthropic_violations(body), _anthropic_request(body)
        else:
            problems, (request, system) = openai_violations(body), _openai_request(body)
        if problems:
            error = {"type": "error", "error": {"type": "invalid_request_error", "message": "; ".join(problems)}}
            return wire.Reply(400, json.dumps(error).encode(), "application/json")
        request.role_hint = prompt_name(system)
        seen.append(request.role_hint)
        text, calls = _play(request)
        encode = _anthropic_body if provider == "anthropic" else _openai_body
        return wire.Reply(body=encode(text, calls))

    return respond
