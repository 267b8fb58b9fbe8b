"""Requests and answers adapted to servers that are not fully compatible.

Open-weight models behind OpenAI-compatible servers differ from the APIs
the gateway is written against in three ways that stop an interview:

- **No tool calling** (vLLM started without `--enable-auto-tool-choice` /
  `--tool-call-parser`, llama.cpp without `--jinja`): the request is refused.
  The *JSON protocol* sends no `tools`; the actions are described in the
  system prompt, and the model answers an action with one JSON object,
  which is parsed into the same tool call (its arguments then meet the same
  pydantic contract as a native call's).
- **Tool calls written as text** (a server whose parser does not match the
  model): whatever the protocol, an answer that opens with an action in
  JSON, `<tool_call>` or `[TOOL_CALLS]` is held back from the participant
  and parsed into a tool call.
- **Strict turn templates** (Mistral, Gemma): no system role, the first
  turn is the user's and turns alternate. *Strict turns* fold the system
  prompt into a first user turn and merge neighbours of the same role.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

from mgeplatform.llm.types import ChatRequest, Done, LLMError, Message, TextDelta, ToolCall, ToolCallEvent

TEXT_CALL_ID_PREFIX = "textcall_"  # tool calls parsed from text (the probe tells them from native ones)
OPENING_TURN = "(The participant has opened the conversation.)"


def _call_json(call: ToolCall) -> str:
    return json.dumps({"action": call.name, "arguments": call.arguments}, ensure_ascii=False)


def json_protocol(request: ChatRequest) -> ChatRequest:
    """The request without `tools`: actions described in the system prompt,
    earlier calls and their results written as turns of text."""
    if not request.tools:
        return request
    lines = [
        "",
        "## Actions",
        "You cannot call functions. To take one of the actions below, answer with nothing but one JSON object "
        'on its own, exactly of the form {"action": "<name>", "arguments": {...}}, and no other text. '
        "Otherwise answer in plain text, with no JSON.",
        "",
    ]
    for tool in request.tools:
        lines.append(
            f"- {tool.name}: {tool.description} Arguments (JSON schema): "
            f"{json.dumps(tool.parameters, ensure_ascii=False)}"
        )
    names: dict[str | None, str] = {}
    messages: list[Message] = []
    for m in request.messages:
        if m.role == "assistant" and m.tool_calls:
            for call in m.tool_calls:
                names[call.id] = call.name
            text = "\n".join(part for part in [m.content.strip(), *map(_call_json, m.tool_calls)] if part)
            messages.append(Message(role="assistant", content=text))
        elif m.role == "tool":
            name = names.get(m.tool_call_id, "the action")
            messages.append(
                Message(role="user", content=f"[Result of {name}, not written by the participant] {m.content}")
            )
        else:
            messages.append(Message(role=m.role, content=m.content))
    return replace(request, system=request.system + "\n".join(lines), messages=messages, tools=[])


def strict_turns(request: ChatRequest) -> ChatRequest:
    """User first, roles alternating, no system role (folded into the first
    user turn). Tool turns are left alone: templates strict about roles are
    used with the JSON protocol, which has none."""
    messages: list[Message] = []
    for m in request.messages:
        if (
            messages
            and m.role == messages[-1].role
            and m.role in ("user", "assistant")
            and not (m.tool_calls or messages[-1].tool_calls)
        ):
            messages[-1] = Message(role=m.role, content=f"{messages[-1].content}\n\n{m.content}".strip())
        else:
            messages.append(
                Message(role=m.role, content=m.content, tool_calls=m.tool_calls, tool_call_id=m.tool_call_id)
            )
    if not messages or messages[0].role != "user":
        messages.insert(0, Message(role="user", content=OPENING_TURN))
    if request.system:
        messages[0] = Message(role="user", content=f"{request.system}\n\n---\n\n{messages[0].content}")
    return replace(request, system="", messages=messages)


# How an answer that is an action written as text begins (whitespace removed).
_OPENINGS = (
    '{"action"',
    '{"name"',
    '{"tool"',
    '{"function"',
    '[{"name"',
    '[{"action"',
    "<tool_call>",
    "[TOOL_CALLS]",
    "```json{",
    "```json[{",
    "```{",
    "```[{",
)
_STARTS = "{[<`"


def _compact(text: str) -> str:
    return "".join(text[:60].split())


def _opening(text: str) -> str:
    """'yes' if `text` begins with an action, 'maybe' if it may still, 'no'."""
    compact = _compact(text)
    if any(compact.startswith(o) for o in _OPENINGS):
        return "yes"
    if any(o.startswith(compact) for o in _OPENINGS):
        return "maybe"
    return "no"


def parse_text_calls(text: str, tool_names: set[str]) -> list[ToolCall]:
    """The tool calls in an answer written as text; LLMError if it is not one."""
    body = text.strip()
    for tag in ("<tool_call>", "</tool_call>", "[TOOL_CALLS]", "```json", "```"):
        body = body.replace(tag, " ")
    start = min((i for i in (body.find("{"), body.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise LLMError("The model wrote an action as text, but no JSON followed.", retryable=True)
    try:
        value, _end = json.JSONDecoder().raw_decode(body[start:])
    except json.JSONDecodeError as err:
        raise LLMError(f"The model wrote an action as text, but its JSON did not parse: {err}", retryable=True)
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        if not isinstance(item, dict):
            raise LLMError("The model wrote an action as text that is not a JSON object.", retryable=True)
        function = item["function"] if isinstance(item.get("function"), dict) else {}
        name = item.get("action") or item.get("name") or item.get("tool") or function.get("name")
        arguments = item.get("arguments", item.get("parameters", function.get("arguments", {})))
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError:
                raise LLMError("The model wrote an action whose arguments did not parse.", retryable=True)
        if name not in tool_names or not isinstance(arguments, dict):
            raise LLMError(f"The model wrote an unknown action as text ({str(name)[:40]!r}).", retryable=True)
        calls.append(ToolCall(id=f"{TEXT_CALL_ID_PREFIX}{uuid.uuid4().hex[:12]}", name=name, arguments=arguments))
    return calls


class TextCallFilter:
    """Passes a provider's events on, holding back any text that is an
    action written as text, so a participant never sees raw JSON; at the
    end the held text becomes tool calls (or a retryable error, since none
    of it reached the participant). `raw_text` keeps all the model wrote."""

    def __init__(self, tool_names: set[str]):
        self.tool_names = tool_names
        self.pending = ""  # text not yet passed on: it may begin an action
        self.captured: str | None = None  # an action's text, held to the end
        self.raw_text = ""

    def _release(self) -> str:
        """Text of `pending` that can no longer begin an action."""
        out = []
        while self.pending:
            starts = [i for i, ch in enumerate(self.pending) if ch in _STARTS]
            if not starts:
                out.append(self.pending)
                self.pending = ""
                break
            i = starts[0]
            out.append(self.pending[:i])
            self.pending = self.pending[i:]
            verdict = _opening(self.pending)
            if verdict == "yes":
                self.captured, self.pending = self.pending, ""
                break
            if verdict == "maybe":
                break
            out.append(self.pending[0])
            self.pending = self.pending[1:]
        return "".join(out)

    def feed(self, event):
        """Events to pass on for one event from the provider."""
        if isinstance(event, TextDelta):
            self.raw_text += event.text
            if self.captured is not None:
                self.captured += event.text
                return []
            self.pending += event.text
            text = self._release()
            return [TextDelta(text)] if text else []
        if isinstance(event, Done):
            out = []
            if self.captured is not None:
                out += [ToolCallEvent(call) for call in parse_text_calls(self.captured, self.tool_names)]
            elif self.pending:
                out.append(TextDelta(self.pending))
            self.pending = ""
            return [*out, event]
        return [event]
