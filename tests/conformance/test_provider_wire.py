"""The gateway against servers that speak each provider's documented wire
format over real sockets (tests/conformance/wire.py), with bodies cut at
awkward byte offsets, error events, rate limits and dropped connections.

Followed:
- Anthropic Messages API, https://docs.anthropic.com/en/api/messages ; streaming events
  (message_start, content_block_start/delta/stop with text_delta and input_json_delta,
  message_delta, message_stop, ping, error), https://docs.anthropic.com/en/docs/build-with-claude/streaming ;
  errors and retry-after, https://docs.anthropic.com/en/api/errors and .../rate-limits ;
  prompt caching minimums, https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching .
- OpenAI Chat Completions, https://platform.openai.com/docs/api-reference/chat/create (max_completion_tokens;
  max_tokens deprecated; reasoning models) and the chat.completion.chunk object with
  stream_options.include_usage, https://platform.openai.com/docs/api-reference/chat-streaming .
"""

from __future__ import annotations

import pytest
from django.test import override_settings
from pydantic import Field

from mgeplatform.llm import gateway
from mgeplatform.llm.contracts import Contract
from mgeplatform.llm.types import ChatRequest, LLMError, Message, ToolSpec
from mgeplatform.models import LLMCall
from tests.conformance import wire

pytestmark = pytest.mark.django_db

TEXT = "¿Qué te importa más — la niña o el deber? Café, 日本語."
TOOL = {"id": "toolu_01A", "name": "show_values_card", "input": {"change_request": "más corto, por favor"}}
TOOLS = [
    ToolSpec(
        "show_values_card", "Show the card.", {"type": "object", "properties": {"change_request": {"type": "string"}}}
    )
]


@pytest.fixture
def server():
    with wire.FakeServer() as fake, override_settings(ANTHROPIC_API_KEY="sk-ant-fake", OPENAI_API_KEY="sk-fake"):
        yield fake


PROVIDERS = {
    "anthropic": {
        "model": "claude-sonnet-4-6",
        "path": "/v1/messages",
        "suffix": "",
        "ok": lambda text, tool=None: wire.Reply(body=wire.anthropic_text_and_tool(text, tool)),
        "overloaded": lambda: wire.Reply(body=wire.anthropic_error_event("overloaded_error")),
        "rate_limited": lambda after: wire.anthropic_http_error(429, "rate_limit_error", after),
    },
    "openai": {
        "model": "gpt-4o",
        "path": "/v1/chat/completions",
        "suffix": "/v1",
        "ok": lambda text, tool=None: wire.Reply(body=wire.openai_chunks(text, tool)),
        "overloaded": lambda: wire.openai_http_error(503),
        "rate_limited": lambda after: wire.openai_http_error(429, after),
    },
}


def ctx(server, name, purpose="interview.reply"):
    spec = PROVIDERS[name]
    return gateway.CallContext(
        purpose=purpose, route=gateway.Route(name, spec["model"], base_url=server.url + spec["suffix"])
    )


def request(**kwargs):
    return ChatRequest(
        model="",
        system="You interview.",
        tools=TOOLS,
        max_tokens=700,
        temperature=0,
        messages=[Message(role="user", content="Los niños necesitan disciplina.")],
        **kwargs,
    )


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_turn_with_text_and_a_tool_call_arrives_whole_through_awkward_chunks(server, name):
    server.queue(PROVIDERS[name]["ok"](TEXT, TOOL))
    result, record = gateway.complete(request(), ctx(server, name))
    assert result.text.strip() == TEXT
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [(TOOL["id"], TOOL["name"], TOOL["input"])]
    record.refresh_from_db()
    assert record.ok and record.attempts == 1 and record.input_tokens > 0 and record.output_tokens > 0
    assert record.estimated_cost_usd > 0  # the default models are priced
    sent = server.received[-1]
    assert sent.path == PROVIDERS[name]["path"]
    if name == "anthropic":
        # The API refuses sampling parameters: none is sent, though the caller asked for temperature 0.
        assert "temperature" not in sent.body and sent.body["max_tokens"] == 700
        assert "sk-ant-fake" in sent.headers.get("x-api-key", "") + sent.headers.get("authorization", "")
    else:
        assert sent.body["max_completion_tokens"] == 700 and "max_tokens" not in sent.body
        assert sent.body["temperature"] == 0 and sent.body["stream_options"] == {"include_usage": True}


class CardAnswer(Contract):
    title: str = Field(max_length=80)
    policies: list[str]


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_structured_answer_is_validated_by_its_contract(server, name):
    server.queue(
        PROVIDERS[name]["ok"](
            '{"title": "Cuidar sin sofocar", "policies": ["MOMENTOS en que el niño elige por sí mismo"]}'
        )
    )
    answer, record = gateway.structured(request(), CardAnswer, ctx(server, name, "interview.articulate"))
    assert answer.title == "Cuidar sin sofocar" and answer.policies[0].startswith("MOMENTOS")
    server.queue(PROVIDERS[name]["ok"]("I would rather not answer in JSON."))
    with pytest.raises(LLMError, match="JSON"):
        gateway.structured(request(), CardAnswer, ctx(server, name, "interview.articulate"))
    bad = LLMCall.objects.order_by("-id").first()
    assert not bad.ok and "bad output" in bad.error and "rather not" in bad.response_text


@pytest.mark.parametrize("name", PROVIDERS)
def test_an_overloaded_provider_before_any_text_is_retried(server, name):
    server.queue(PROVIDERS[name]["overloaded"](), PROVIDERS[name]["ok"]("Back again."))
    result, record = gateway.complete(request(), ctx(server, name))
    assert result.text.strip() == "Back again." and len(server.received) == 2
    record.refresh_from_db()
    assert record.ok and record.attempts == 2


@pytest.mark.parametrize("name", PROVIDERS)
def test_retry_after_on_a_rate_limit_is_honoured(server, name):
    server.queue(PROVIDERS[name]["rate_limited"]("1"), PROVIDERS[name]["ok"]("Thanks for waiting."))
    result, record = gateway.complete(request(), ctx(server, name))
    assert result.text.strip() == "Thanks for waiting."
    first, second = server.received
    # LLM_RETRY_BASE_SECONDS is 0.01 in tests: the wait comes from the server's retry-after.
    assert second.at - first.at >= 0.95


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_connection_dropped_after_text_fails_clearly_with_a_record(server, name):
    body = PROVIDERS[name]["ok"]("Esto se corta a la mitad de la respuesta, lo siento mucho.").body
    server.queue(wire.Reply(body=body, drop_after=len(body) * 2 // 3))
    with pytest.raises(LLMError) as caught:
        gateway.complete(request(), ctx(server, name))
    assert caught.value.retryable
    # Text had reached the caller: no second attempt (a participant would read it twice).
    assert len(server.received) == 1
    row = LLMCall.objects.get()
    assert not row.ok and row.error and "Esto se corta" in row.response_text and caught.value.record == row


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_connection_dropped_before_any_text_is_retried(server, name):
    body = PROVIDERS[name]["ok"]("Hola.").body
    server.queue(wire.Reply(body=body, drop_after=20), PROVIDERS[name]["ok"]("Hola otra vez."))
    result, record = gateway.complete(request(), ctx(server, name))
    assert result.text.strip() == "Hola otra vez." and record.attempts == 2


def test_a_compatible_server_without_a_usage_chunk_is_counted_not_free(server):
    server.queue(wire.Reply(body=wire.openai_chunks("Hello from a local model.", usage=False)))
    route = gateway.Route("openai-compatible", "llama3.1:8b", base_url=server.url + "/v1")
    _, record = gateway.complete(request(), gateway.CallContext(purpose="interview.reply", route=route))
    record.refresh_from_db()
    assert record.usage_estimated and record.input_tokens > 0 and record.output_tokens > 0
    # Compatible servers take the older max_tokens.
    assert server.received[-1].body["max_tokens"] == 700


def test_anthropic_cache_reads_and_writes_are_recorded_and_priced(server):
    usage = {"input_tokens": 30, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 0, "output_tokens": 1}
    server.queue(wire.Reply(body=wire.anthropic_text_and_tool("First turn.", usage=usage)))
    usage_read = dict(usage, cache_creation_input_tokens=0, cache_read_input_tokens=2000)
    server.queue(wire.Reply(body=wire.anthropic_text_and_tool("Second turn.", usage=usage_read)))
    _, first = gateway.complete(request(), ctx(server, "anthropic"))
    _, second = gateway.complete(request(), ctx(server, "anthropic"))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.input_tokens, first.cache_write_input_tokens, first.cached_input_tokens) == (2030, 2000, 0)
    assert (second.input_tokens, second.cache_write_input_tokens, second.cached_input_tokens) == (2030, 0, 2000)
    # A cache write costs more than the read that follows it.
    assert first.estimated_cost_usd > second.estimated_cost_usd
