"""Provider adapters against recorded HTTP payloads, through the real SDKs.

The recordings in recordings/ are responses in each API's wire format; an
httpx MockTransport serves them, so the SDK parses real HTTP and we check
both what we send and what we make of the answer. No network is touched.
"""

import json
from pathlib import Path

import httpx2 as httpx  # the HTTP client the anthropic and openai SDKs are built on
import pytest

from interviews.contracts import ShowValuesCardArgs, SubmitValuesCardArgs
from interviews.services import TOOLS as INTERVIEWER_TOOLS
from mgeplatform.llm.contracts import json_schema
from mgeplatform.llm.providers.anthropic_provider import AnthropicProvider
from mgeplatform.llm.providers.openai_provider import OpenAIProvider
from mgeplatform.llm.types import ChatRequest, Done, LLMError, Message, TextDelta, ToolCall, ToolCallEvent, ToolSpec

RECORDINGS = Path(__file__).parent / "recordings"
TOOLS = [ToolSpec("show_values_card", "Show the card.", {"type": "object", "properties": {}})]


class Recorder:
    """Serves one recorded response and keeps the request it answered."""

    def __init__(self, body: str | bytes = b"", status: int = 200, content_type: str = "text/event-stream"):
        self.body = body.encode() if isinstance(body, str) else body
        self.status = status
        self.content_type = content_type
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, content=self.body, headers={"content-type": self.content_type})

    @property
    def sent(self) -> dict:
        return json.loads(self.requests[-1].content)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


def recording(name: str) -> str:
    return (RECORDINGS / name).read_text()


def transcript():
    return [
        Message(role="user", content="Kids need discipline."),
        Message(
            role="assistant",
            content="What good does it protect?",
            tool_calls=[ToolCall(id="call_1", name="show_values_card", arguments={})],
        ),
        Message(role="tool", content="CARD SHOWN: {...}", tool_call_id="call_1"),
        Message(role="user", content="Change the title please."),
    ]


async def collect(stream):
    return [event async for event in stream]


async def test_anthropic_streams_text_and_tool_call_with_cached_usage():
    recorder = Recorder(recording("anthropic_stream_tool_use.sse"))
    provider = AnthropicProvider(api_key="sk-ant-test", http_client=recorder.client())
    request = ChatRequest(
        model="claude-sonnet-4-6", system="You interview.", messages=transcript(), tools=TOOLS, max_tokens=500
    )
    events = await collect(provider.stream_chat(request, timeout=30))

    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert texts == ["Thank you. ", "Let me write ", "that up."]
    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert calls == [ToolCall(id="toolu_01", name="show_values_card", arguments={"change_request": "shorter title"})]
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "tool_use"
    assert (done.usage.input_tokens, done.usage.cached_input_tokens, done.usage.output_tokens) == (1920, 1800, 42)

    sent = recorder.sent
    assert recorder.requests[-1].url.path == "/v1/messages"
    headers = recorder.requests[-1].headers
    assert "sk-ant-test" in headers.get("x-api-key", "") + headers.get("authorization", "")
    assert sent["stream"] is True and sent["model"] == "claude-sonnet-4-6" and sent["max_tokens"] == 500
    # A short prefix is below the model's caching minimum: not marked (it would cache nothing).
    assert sent["system"] == [{"type": "text", "text": "You interview."}]
    assert "cache_control" not in sent["tools"][-1]
    assert sent["tools"][0]["input_schema"] == {"type": "object", "properties": {}}
    assert "temperature" not in sent
    # Alternation: the tool result and the next user text share one user turn.
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert sent["messages"][1]["content"][1] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "show_values_card",
        "input": {},
    }
    assert sent["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "CARD SHOWN: {...}"},
        {"type": "text", "text": "Change the title please."},
    ]


async def test_tool_schemas_on_the_wire_are_the_contracts_schemas():
    anthropic = Recorder(recording("anthropic_stream_tool_use.sse"))
    openai = Recorder(recording("openai_stream_tool_calls.sse"))
    request = ChatRequest(model="m", system="s", messages=transcript(), tools=INTERVIEWER_TOOLS)
    await collect(AnthropicProvider(api_key="k", http_client=anthropic.client()).stream_chat(request, timeout=5))
    await collect(OpenAIProvider(api_key="k", http_client=openai.client()).stream_chat(request, timeout=5))
    expected = [json_schema(ShowValuesCardArgs), json_schema(SubmitValuesCardArgs)]
    assert [t["input_schema"] for t in anthropic.sent["tools"]] == expected
    assert [t["function"]["parameters"] for t in openai.sent["tools"]] == expected
    assert expected[0] == {
        "type": "object",
        "properties": {"change_request": {"type": "string", "description": "What the participant wants changed."}},
    }


@pytest.mark.parametrize("status, retryable", [(429, True), (500, True), (529, True), (400, False), (401, False)])
async def test_anthropic_http_errors_map_to_retryable_or_not(status, retryable):
    body = json.dumps({"type": "error", "error": {"type": "x", "message": "nope"}})
    recorder = Recorder(body, status=status, content_type="application/json")
    provider = AnthropicProvider(api_key="k", http_client=recorder.client())
    request = ChatRequest(model="m", system="s", messages=[Message(role="user", content="hi")])
    with pytest.raises(LLMError) as caught:
        await collect(provider.stream_chat(request, timeout=5))
    assert caught.value.retryable is retryable and caught.value.status == status
    assert str(caught.value) != "k"  # never echoes the key


async def test_anthropic_connection_failure_is_retryable():
    def refuse(request):
        raise httpx.ConnectError("refused")

    provider = AnthropicProvider(api_key="k", http_client=httpx.AsyncClient(transport=httpx.MockTransport(refuse)))
    with pytest.raises(LLMError) as caught:
        await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=[]), timeout=5))
    assert caught.value.retryable


async def test_anthropic_malformed_tool_arguments_raise():
    recorder = Recorder(recording("anthropic_stream_bad_tool_json.sse"))
    provider = AnthropicProvider(api_key="k", http_client=recorder.client())
    with pytest.raises(LLMError, match="malformed tool arguments"):
        await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=[]), timeout=5))


async def test_anthropic_has_no_embeddings():
    with pytest.raises(LLMError, match="no embeddings"):
        await AnthropicProvider(api_key="k").embed(["x"], model="m", dimensions=384, timeout=5)


async def test_openai_streams_text_and_assembles_split_tool_call():
    recorder = Recorder(recording("openai_stream_tool_calls.sse"))
    provider = OpenAIProvider(api_key="sk-test", http_client=recorder.client())
    request = ChatRequest(
        model="gpt-4o", system="You interview.", messages=transcript(), tools=TOOLS, max_tokens=300, temperature=0.2
    )
    events = await collect(provider.stream_chat(request, timeout=30))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Thank you. ", "Here is your card."]
    assert [e.call for e in events if isinstance(e, ToolCallEvent)] == [
        ToolCall(id="call_abc", name="show_values_card", arguments={"change_request": "add faith"})
    ]
    done = events[-1]
    assert done.stop_reason == "tool_calls"
    assert (done.usage.input_tokens, done.usage.cached_input_tokens, done.usage.output_tokens) == (2100, 1920, 31)

    sent = recorder.sent
    assert recorder.requests[-1].url.path == "/v1/chat/completions"
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    # max_completion_tokens, not the deprecated max_tokens; gpt-4o takes a temperature.
    assert sent["temperature"] == 0.2 and sent["max_completion_tokens"] == 300 and "max_tokens" not in sent
    assert sent["messages"][0] == {"role": "system", "content": "You interview."}
    assert sent["messages"][2]["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "show_values_card", "arguments": "{}"}}
    ]
    assert sent["messages"][3] == {"role": "tool", "tool_call_id": "call_1", "content": "CARD SHOWN: {...}"}
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "show_values_card",
                "description": "Show the card.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]


async def test_openai_compatible_server_by_base_url_without_usage():
    recorder = Recorder(recording("openai_stream_no_usage.sse"))
    provider = OpenAIProvider(
        api_key="none", base_url="http://127.0.0.1:11434/v1", name="openai-compatible", http_client=recorder.client()
    )
    events = await collect(
        provider.stream_chat(
            ChatRequest(model="llama3", system="s", messages=[Message(role="user", content="hi")]), timeout=5
        )
    )
    assert str(recorder.requests[-1].url) == "http://127.0.0.1:11434/v1/chat/completions"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello there"
    # No usage chunk: the tokens are counted from the texts, and marked as counted.
    usage = events[-1].usage
    assert usage.estimated and usage.input_tokens > 0 and usage.output_tokens > 0
    assert events[-1].stop_reason == "stop"
    # Compatible servers (vLLM, Ollama, llama.cpp) take the older max_tokens.
    assert recorder.sent["max_tokens"] == 1024 and "max_completion_tokens" not in recorder.sent


@pytest.mark.parametrize("status, retryable", [(429, True), (503, True), (400, False)])
async def test_openai_http_errors_map_to_retryable_or_not(status, retryable):
    recorder = Recorder(
        json.dumps({"error": {"message": "nope", "type": "x"}}), status=status, content_type="application/json"
    )
    provider = OpenAIProvider(api_key="k", http_client=recorder.client())
    with pytest.raises(LLMError) as caught:
        await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=[]), timeout=5))
    assert caught.value.retryable is retryable and caught.value.status == status


async def test_openai_malformed_tool_arguments_raise():
    body = recording("openai_stream_tool_calls.sse").replace('request\\":\\"add faith\\"}', "request")
    provider = OpenAIProvider(api_key="k", http_client=Recorder(body).client())
    with pytest.raises(LLMError, match="malformed tool arguments"):
        await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=[]), timeout=5))


async def test_openai_embeddings_come_back_in_input_order():
    recorder = Recorder(recording("openai_embeddings.json"), content_type="application/json")
    provider = OpenAIProvider(api_key="k", http_client=recorder.client())
    vectors = await provider.embed(["first", "second"], model="text-embedding-3-small", dimensions=3, timeout=5)
    assert vectors == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert recorder.sent == {
        "model": "text-embedding-3-small",
        "input": ["first", "second"],
        "dimensions": 3,
        "encoding_format": recorder.sent.get("encoding_format", "float"),
    }


# --- Conformance with the documented request shapes (capabilities.py) ---------


async def test_anthropic_never_sends_temperature_and_caches_a_prefix_that_reaches_the_minimum():
    recorder = Recorder(recording("anthropic_stream_tool_use.sse"))
    provider = AnthropicProvider(api_key="k", http_client=recorder.client())
    long_system = "You interview people about what they care about. " * 120  # ~1,500 tokens
    request = ChatRequest(
        model="claude-sonnet-4-6", system=long_system, messages=transcript(), tools=TOOLS, temperature=0
    )
    await collect(provider.stream_chat(request, timeout=5))
    sent = recorder.sent
    assert "temperature" not in sent and "top_p" not in sent
    assert sent["system"][-1]["cache_control"] == {"type": "ephemeral"}
    # The same prefix is below Haiku 4.5's 4,096-token minimum: not marked.
    request.model = "claude-haiku-4-5"
    await collect(provider.stream_chat(request, timeout=5))
    assert "cache_control" not in recorder.sent["system"][-1]


async def test_anthropic_honours_the_base_url_and_not_the_environment(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://wrong.invalid")
    recorder = Recorder(recording("anthropic_stream_tool_use.sse"))
    provider = AnthropicProvider(api_key="k", base_url="http://10.0.0.5:8080", http_client=recorder.client())
    await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=transcript()), timeout=5))
    assert str(recorder.requests[-1].url) == "http://10.0.0.5:8080/v1/messages"
    default = Recorder(recording("anthropic_stream_tool_use.sse"))
    await collect(
        AnthropicProvider(api_key="k", http_client=default.client()).stream_chat(
            ChatRequest(model="m", system="s", messages=transcript()), timeout=5
        )
    )
    assert default.requests[-1].url.host == "api.anthropic.com"


async def test_anthropic_counts_cache_writes_apart():
    body = recording("anthropic_stream_tool_use.sse").replace(
        '"cache_creation_input_tokens":0', '"cache_creation_input_tokens":1500'
    )
    provider = AnthropicProvider(api_key="k", http_client=Recorder(body).client())
    events = await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=transcript()), timeout=5))
    usage = events[-1].usage
    assert (usage.input_tokens, usage.cached_input_tokens, usage.cache_write_input_tokens) == (3420, 1800, 1500)


OVERLOADED_IN_STREAM = (
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_02","type":"message",'
    '"role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,'
    '"usage":{"input_tokens":10,"output_tokens":1}}}\n\n'
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
)


async def test_anthropic_overloaded_error_event_in_a_stream_is_retryable():
    provider = AnthropicProvider(api_key="k", http_client=Recorder(OVERLOADED_IN_STREAM).client())
    with pytest.raises(LLMError) as caught:
        await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=transcript()), timeout=5))
    assert caught.value.retryable and caught.value.status == 529
    assert "overloaded_error" in str(caught.value)


async def test_anthropic_invalid_request_error_event_is_not_retryable():
    body = OVERLOADED_IN_STREAM.replace("overloaded_error", "invalid_request_error")
    provider = AnthropicProvider(api_key="k", http_client=Recorder(body).client())
    with pytest.raises(LLMError) as caught:
        await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=transcript()), timeout=5))
    assert not caught.value.retryable


@pytest.mark.parametrize(
    "headers, seconds", [({"retry-after": "7"}, 7.0), ({"retry-after-ms": "1500"}, 1.5), ({}, None)]
)
async def test_rate_limits_carry_the_providers_retry_after(headers, seconds):
    def answer(request):
        return httpx.Response(
            429, json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}, headers=headers
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    with pytest.raises(LLMError) as caught:
        await collect(
            AnthropicProvider(api_key="k", http_client=client).stream_chat(
                ChatRequest(model="m", system="s", messages=transcript()), timeout=5
            )
        )
    assert caught.value.retry_after == seconds
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    with pytest.raises(LLMError) as caught:
        await collect(
            OpenAIProvider(api_key="k", http_client=client).stream_chat(
                ChatRequest(model="m", system="s", messages=transcript()), timeout=5
            )
        )
    assert caught.value.retry_after == seconds and caught.value.status == 429


class DropsMidStream(httpx.AsyncByteStream):
    def __init__(self, first: bytes):
        self.first = first

    async def __aiter__(self):
        yield self.first
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


@pytest.mark.parametrize(
    "provider_class, recording_name",
    [(AnthropicProvider, "anthropic_stream_tool_use.sse"), (OpenAIProvider, "openai_stream_tool_calls.sse")],
)
async def test_a_connection_dropped_mid_stream_is_a_retryable_llm_error(provider_class, recording_name):
    body = recording(recording_name).encode()

    def answer(request):
        return httpx.Response(
            200, stream=DropsMidStream(body[: len(body) // 2]), headers={"content-type": "text/event-stream"}
        )

    provider = provider_class(api_key="k", http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)))
    with pytest.raises(LLMError) as caught:
        await collect(provider.stream_chat(ChatRequest(model="m", system="s", messages=transcript()), timeout=5))
    assert caught.value.retryable and "connection" in str(caught.value).lower()


@pytest.mark.parametrize("model", ["gpt-5", "gpt-5-mini", "o3", "o4-mini"])
async def test_openai_reasoning_models_get_no_temperature(model):
    recorder = Recorder(recording("openai_stream_tool_calls.sse"))
    provider = OpenAIProvider(api_key="k", http_client=recorder.client())
    await collect(
        provider.stream_chat(
            ChatRequest(model=model, system="s", messages=transcript(), temperature=0, max_tokens=300), timeout=5
        )
    )
    assert "temperature" not in recorder.sent and "max_tokens" not in recorder.sent
    assert recorder.sent["max_completion_tokens"] == 300


async def test_openai_base_url_in_the_environment_does_not_redirect_openai(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    recorder = Recorder(recording("openai_stream_tool_calls.sse"))
    await collect(
        OpenAIProvider(api_key="k", http_client=recorder.client()).stream_chat(
            ChatRequest(model="gpt-4o", system="s", messages=transcript()), timeout=5
        )
    )
    assert recorder.requests[-1].url.host == "api.openai.com"


async def test_anthropic_caches_the_conversation_once_it_reaches_the_minimum():
    recorder = Recorder(recording("anthropic_stream_tool_use.sse"))
    provider = AnthropicProvider(api_key="k", http_client=recorder.client())
    short = ChatRequest(model="claude-sonnet-4-6", system="You interview.", messages=transcript(), tools=TOOLS)
    await collect(provider.stream_chat(short, timeout=5))
    assert "cache_control" not in json.dumps(recorder.sent["messages"])  # below 1,024 tokens: marking caches nothing
    long = ChatRequest(
        model="claude-sonnet-4-6",
        system="You interview.",
        tools=TOOLS,
        messages=[*transcript(), Message(role="user", content="When I decide, I think of my family first. " * 100)],
    )
    await collect(provider.stream_chat(long, timeout=5))
    last = recorder.sent["messages"][-1]["content"][-1]
    assert last["cache_control"] == {"type": "ephemeral"} and "family first" in last["text"]
    assert "cache_control" not in recorder.sent["system"][-1]  # the system prompt alone is still below
