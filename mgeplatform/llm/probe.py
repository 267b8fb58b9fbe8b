"""A capability check of a model before participants meet it.

Four short calls through the gateway (each an LLM-call row with purpose
`probe.*`, counted in the study's budget): a streamed answer (and whether
it reports usage), a tool call (native, written as text, or refused), a
conversation that begins with the assistant's turn, and one embedding of
the platform's size. The report recommends a tool protocol and turn order
(adapt.py), which a study set to "auto" follows.
"""

from __future__ import annotations

from dataclasses import replace

from django.utils import timezone
from pydantic import BaseModel, Field

from mgeplatform.llm import adapt, gateway
from mgeplatform.llm.types import ChatRequest, LLMError, Message, ToolSpec

PROBE_TOOL = ToolSpec(
    "record_colour",
    "Record the colour the user names.",
    {"type": "object", "properties": {"colour": {"type": "string"}}, "required": ["colour"]},
)
SYSTEM = "You are checking a connection. Follow the user's instruction exactly and briefly."


class Recommended(BaseModel):
    tool_protocol: str = "native"
    strict_turns: bool = False


class ProbeReport(BaseModel):
    provider: str
    model: str
    base_url: str = ""
    checked_at: str = ""
    streams: bool = False
    usage_reported: bool = False
    tools: str = "untested"  # native | as_text | refused | none (answered without calling)
    system_role: bool = True
    assistant_first: bool = True
    embedding_dimensions: int | None = None
    errors: dict[str, str] = Field(default_factory=dict)
    recommended: Recommended = Field(default_factory=Recommended)

    @property
    def usable(self) -> bool:
        return self.streams

    def problems(self) -> list[str]:
        out = []
        if not self.streams:
            out.append(f"the model did not answer: {self.errors.get('stream', 'no answer')}")
        if self.streams and not self.usage_reported:
            out.append("the server reports no token usage; tokens are estimated from the texts")
        if self.tools in ("refused", "as_text", "none"):
            out.append(
                {
                    "refused": "the server refuses tool calls",
                    "as_text": "the model writes tool calls as text",
                    "none": "the model did not call the tool when asked",
                }[self.tools]
                + "; the interviewer uses actions as JSON in the text"
            )
        if not (self.system_role and self.assistant_first):
            out.append("the chat template needs the user's turn first and no system role; turns are adapted")
        if self.embedding_dimensions is None and "embedding" in self.errors:
            out.append(f"embeddings failed: {self.errors['embedding']}")
        return out


async def _ask(route, study, purpose: str, request: ChatRequest):
    ctx = gateway.CallContext(purpose=purpose, study=study, route=route)
    return await gateway.complete_async(request, ctx)


async def probe_async(route: gateway.Route, study=None, *, embedding_dimensions: int | None = None) -> ProbeReport:
    """Check `route` as it is configured (native tools, turns as they are)."""
    route = replace(route, tool_protocol="native", strict_turns=False)
    report = ProbeReport(
        provider=route.provider,
        model=route.model,
        base_url=route.base_url,
        checked_at=timezone.now().isoformat(timespec="seconds"),
    )
    ask = [Message(role="user", content="Reply with the single word OK.")]
    try:
        _result, record = await _ask(
            route, study, "probe.stream", ChatRequest(model="", system=SYSTEM, messages=ask, max_tokens=16)
        )
        report.streams, report.usage_reported = True, not record.usage_estimated
    except LLMError as err:
        report.errors["stream"] = str(err)[:300]
        # A template without a system role refuses the request above; try again without one.
        try:
            await _ask(
                route,
                study,
                "probe.stream",
                adapt.strict_turns(ChatRequest(model="", system=SYSTEM, messages=ask, max_tokens=16)),
            )
            report.streams, report.system_role = True, False
            report.errors.pop("stream")
        except LLMError:
            pass
    if report.streams:
        strict = replace(route, strict_turns=not report.system_role)
        try:
            result, _record = await _ask(
                strict,
                study,
                "probe.tools",
                ChatRequest(
                    model="",
                    system=SYSTEM,
                    tools=[PROBE_TOOL],
                    max_tokens=120,
                    messages=[
                        Message(
                            role="user", content="My favourite colour is green. Record it with the record_colour tool."
                        )
                    ],
                ),
            )
            calls = [c for c in result.tool_calls if c.name == PROBE_TOOL.name]
            report.tools = (
                "none" if not calls else "as_text" if calls[0].id.startswith(adapt.TEXT_CALL_ID_PREFIX) else "native"
            )
        except LLMError as err:
            report.tools = "refused"
            report.errors["tools"] = str(err)[:300]
        if report.system_role:
            try:
                await _ask(
                    route,
                    study,
                    "probe.turns",
                    ChatRequest(
                        model="",
                        system=SYSTEM,
                        max_tokens=16,
                        messages=[
                            Message(role="assistant", content="Hello! What would you like to talk about?"),
                            Message(role="user", content="Reply with the single word OK."),
                        ],
                    ),
                )
            except LLMError as err:
                report.assistant_first = False
                report.errors["turns"] = str(err)[:300]
    if embedding_dimensions:
        embedding_route = gateway.resolve_embedding()
        try:
            vectors = await gateway.embed_async(
                ["a values card"],
                gateway.CallContext(purpose="probe.embedding", study=study, route=embedding_route),
                model=embedding_route.model,
                dimensions=embedding_dimensions,
            )
            report.embedding_dimensions = len(vectors[0])
        except LLMError as err:
            report.errors["embedding"] = str(err)[:300]
    report.recommended = Recommended(
        tool_protocol="native" if report.tools == "native" else "json",
        strict_turns=not (report.system_role and report.assistant_first),
    )
    return report


probe = gateway.sync_entry(probe_async)
