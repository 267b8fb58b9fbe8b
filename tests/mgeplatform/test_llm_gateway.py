"""The gateway: routing, retries, timeouts, validation, prompts, records."""

import asyncio
import contextlib
import json
from decimal import Decimal

import pytest
from django.test import override_settings
from pydantic import Field

from mgeplatform.llm import gateway, pricing
from mgeplatform.llm.contracts import Contract
from mgeplatform.llm.prompts import load
from mgeplatform.llm.types import (
    ChatRequest,
    Done,
    LLMError,
    LLMOutputError,
    Message,
    TextDelta,
    ToolCall,
    Usage,
)
from mgeplatform.models import LLMCall
from tests.factories import Replies


class Flaky:
    def __init__(self, script):
        self.script = list(script)  # items: "fail", "fail-after-text", "hang", "ok", "garbage"
        self.calls = 0

    async def stream_chat(self, request, *, timeout):
        self.calls += 1
        step = self.script.pop(0)
        if step == "fail":
            raise LLMError("429 rate limited", retryable=True, status=429)
        if step == "bad-request":
            raise LLMError("400 bad request", retryable=False, status=400)
        if step == "hang":
            await asyncio.sleep(10)
        if step == "fail-after-text":
            yield TextDelta("Hel")
            raise LLMError("connection dropped", retryable=True)
        text = '{"answer": 3}' if step == "ok" else "no json here"
        yield TextDelta(text)
        yield Done(usage=Usage(input_tokens=1000, cached_input_tokens=200, output_tokens=50), stop_reason="end_turn")


@pytest.fixture
def flaky():
    holder = {}

    def install(script):
        holder["p"] = Flaky(script)
        return holder["p"]

    with gateway.override_provider("flaky", lambda route: holder["p"]):
        yield install


def _ctx(purpose="test.call"):
    return gateway.CallContext(purpose=purpose, route=gateway.Route("flaky", "gpt-4o-mini"))


def _request():
    return ChatRequest(model="", system="s", messages=[Message(role="user", content="hi")])


class Answer(Contract):
    answer: int = Field(le=5)


def test_retries_transient_errors_then_records_one_call(db, flaky):
    provider = flaky(["fail", "fail", "ok"])
    answer, record = gateway.structured(_request(), Answer, _ctx())
    assert answer == Answer(answer=3) and provider.calls == 3
    record.refresh_from_db()
    assert record.attempts == 3 and record.ok
    assert (record.input_tokens, record.cached_input_tokens, record.output_tokens) == (1000, 200, 50)
    # gpt-4o-mini: 800 uncached * 0.15 + 200 cached * 0.075 + 50 * 0.60, per million
    assert record.estimated_cost_usd == Decimal("0.000165")
    assert LLMCall.objects.count() == 1


def test_gives_up_after_max_attempts_and_records_the_error(db, flaky):
    flaky(["fail", "fail", "fail"])
    with pytest.raises(LLMError):
        gateway.complete(_request(), _ctx())
    call = LLMCall.objects.get()
    assert not call.ok and "429" in call.error and call.attempts == 3


def test_client_errors_are_not_retried(db, flaky):
    provider = flaky(["bad-request", "ok"])
    with pytest.raises(LLMError):
        gateway.complete(_request(), _ctx())
    assert provider.calls == 1


def test_a_stream_that_already_showed_text_is_not_retried(db, flaky):
    provider = flaky(["fail-after-text", "ok"])
    with pytest.raises(LLMError, match="dropped"):
        gateway.complete(_request(), _ctx())
    assert provider.calls == 1
    assert LLMCall.objects.get().response_text == "Hel"


@override_settings(LLM_TIMEOUT_SECONDS=0.2)
def test_timeout_counts_as_retryable_failure(db, flaky):
    provider = flaky(["hang", "ok"])
    result, _ = gateway.complete(_request(), _ctx())
    assert provider.calls == 2 and result.text == '{"answer": 3}'


def test_garbage_answer_raises_output_error_and_is_marked(db, flaky):
    flaky(["garbage"])
    with pytest.raises(LLMOutputError):
        gateway.structured(_request(), Answer, _ctx())
    call = LLMCall.objects.get()
    assert not call.ok and call.error.startswith("bad output") and call.response_text == "no json here"


def test_the_record_keeps_what_was_sent_even_when_the_call_fails(db, flaky):
    flaky(["ok", "bad-request"])
    request = ChatRequest(
        model="",
        system="You are a careful interviewer.",
        messages=[
            Message(role="user", content="I care about honesty."),
            Message(
                role="assistant", content="", tool_calls=[ToolCall("t1", "show_values_card", {"title": "Honesty"})]
            ),
            Message(role="tool", content="shown", tool_call_id="t1"),
        ],
    )
    _, record = gateway.complete(request, _ctx())
    assert record.request_system == "You are a careful interviewer."
    assert [m["role"] for m in record.request_messages] == ["user", "assistant", "tool"]
    assert record.request_messages[0]["content"] == "I care about honesty."
    assert record.request_messages[1]["tool_calls"][0]["name"] == "show_values_card"
    assert record.request_messages[2]["tool_call_id"] == "t1"
    with pytest.raises(LLMError):
        gateway.complete(_request(), _ctx())
    failed = LLMCall.objects.filter(ok=False).get()
    assert failed.request_system == "s" and failed.request_messages == [{"role": "user", "content": "hi"}]


def test_long_requests_are_recorded_shortened_with_both_ends(db, flaky):
    flaky(["ok"])
    turns = [Message(role="user", content=f"turn {i} " + "x" * 20_000) for i in range(100)]
    _, record = gateway.complete(ChatRequest(model="", system="s" * 100_000, messages=turns), _ctx())
    kept = record.request_messages
    assert len(kept) == gateway.RECORDED_HEAD_MESSAGES + 1 + gateway.RECORDED_TAIL_MESSAGES
    assert kept[0]["content"].startswith("turn 0 ") and kept[-1]["content"].startswith("turn 99 ")
    assert "messages left out" in kept[gateway.RECORDED_HEAD_MESSAGES]["content"]
    assert all(len(m["content"]) < gateway.MAX_RECORDED_TEXT + 100 for m in kept)
    assert len(record.request_system) < gateway.MAX_RECORDED_SYSTEM + 100 and "left out" in record.request_system


@pytest.mark.parametrize(
    "value, ok",
    [
        ({"answer": 3}, True),
        ({"answer": 9}, False),
        ({"answer": "3"}, False),
        ({}, False),
        ({"answer": True}, False),
    ],
)
def test_schema_validation(db, value, ok):
    ctx = gateway.CallContext(purpose="test.call", route=gateway.Route("replies", "m"))
    with gateway.override_provider("replies", lambda route: Replies([json.dumps(value)])):
        if ok:
            assert gateway.structured(_request(), Answer, ctx)[0].answer == value["answer"]
        else:
            with pytest.raises(LLMOutputError, match=r"\$\.answer"):
                gateway.structured(_request(), Answer, ctx)


def test_json_is_found_inside_code_fences():
    assert gateway.parse_json_answer('Here:\n```json\n{"critique": "ask more"}\n```') == {"critique": "ask more"}
    with pytest.raises(LLMOutputError):
        gateway.parse_json_answer("{not json}")


@override_settings(LLM_DEFAULT_PROVIDER="anthropic", ANTHROPIC_API_KEY="")
def test_missing_key_falls_back_to_offline_and_says_why():
    route = gateway.resolve(None)
    assert route.offline and "ANTHROPIC_API_KEY" in route.fallback_reason


@override_settings(LLM_DEFAULT_PROVIDER="offline", OPENAI_API_KEY="sk-test", ANTHROPIC_API_KEY="sk-ant")
def test_study_settings_choose_provider_and_model():
    class StudyLike:
        llm_provider, llm_model, llm_base_url = "anthropic", "claude-haiku-4-5", ""

    assert gateway.resolve(StudyLike()) == gateway.Route("anthropic", "claude-haiku-4-5")
    StudyLike.llm_provider, StudyLike.llm_model = "openai", ""
    assert gateway.resolve(StudyLike()).model == "gpt-4o"
    StudyLike.llm_provider = "openai-compatible"
    assert gateway.resolve(StudyLike()).offline  # no base URL anywhere
    StudyLike.llm_base_url, StudyLike.llm_model = "http://127.0.0.1:11434/v1", "llama3"
    assert gateway.resolve(StudyLike()) == gateway.Route("openai-compatible", "llama3", "http://127.0.0.1:11434/v1")


def test_prompt_files_have_name_version_and_hash(tmp_path):
    path = tmp_path / "p.md"
    path.write_text("---\nname: demo\nversion: 2\n---\nAnswer about {{ topic }}.\n")
    prompt = load(path)
    assert (prompt.name, prompt.version, len(prompt.sha256)) == ("demo", "2", 64)
    assert prompt.render(topic="parenting") == "Answer about parenting.\n"
    with pytest.raises(KeyError):
        prompt.render()
    bad = tmp_path / "bad.md"
    bad.write_text("no header")
    with pytest.raises(ValueError):
        load(bad)


def test_shipped_prompts_load():
    from interviews import grading
    from interviews import services as interview_services

    for prompt in (
        interview_services.interviewer_prompt(),
        interview_services.articulator_prompt(),
        grading.grader_prompt(),
    ):
        assert prompt.version and "{{" not in prompt.render(
            scenario_prompt="Q?", language="es", language_name="Spanish"
        )


def test_pricing_of_dated_model_names_and_unknown_models():
    assert pricing.estimate_cost("claude-sonnet-4-5-20250929", 1_000_000, 0, 0) == Decimal("3.000000")
    # The default Anthropic model is priced, and cache writes cost more than plain input, reads less.
    assert pricing.is_priced("claude-sonnet-4-6")
    plain = pricing.estimate_cost("claude-sonnet-4-6", 1_000_000, 0, 0)
    written = pricing.estimate_cost("claude-sonnet-4-6", 1_000_000, 0, 0, cache_write_tokens=1_000_000)
    read = pricing.estimate_cost("claude-sonnet-4-6", 1_000_000, 1_000_000, 0)
    assert (read, plain, written) == (Decimal("0.300000"), Decimal("3.000000"), Decimal("3.750000"))
    # An unknown model is counted at the stated fallback price, never as free.
    assert not pricing.is_priced("mystery-model")
    in_price, _, out_price, _ = pricing.FALLBACK_PRICE
    assert pricing.estimate_cost("mystery-model", 1_000_000, 0, 1_000_000) == in_price + out_price
    assert pricing.estimate_cost("offline-interviewer", 10_000, 0, 10_000) == 0


def test_price_overrides_price_a_local_model(settings):
    settings.LLM_PRICE_OVERRIDES = {"llama3.1:8b": [0, 0, 0, 0]}
    assert pricing.is_priced("llama3.1:8b")
    assert pricing.estimate_cost("llama3.1:8b", 1_000_000, 0, 1_000_000) == 0


# --- Every failure recorded, retry-after honoured, transcripts that cannot get stuck --------


class Scripted:
    """A provider whose attempts follow a script of callables."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.requests: list[ChatRequest] = []

    async def stream_chat(self, request, *, timeout):
        self.requests.append(request)
        step = self.steps.pop(0)
        for event in step():
            yield event

    async def embed(self, texts, *, model, dimensions, timeout):
        return self.steps.pop(0)()


@pytest.fixture
def scripted():
    with contextlib.ExitStack() as installed:

        def install(*steps):
            provider = Scripted(*steps)
            installed.enter_context(gateway.override_provider("scripted", lambda route: provider))
            return provider

        yield install


def _scripted_ctx(purpose="test.call"):
    return gateway.CallContext(purpose=purpose, route=gateway.Route("scripted", "claude-sonnet-4-6"))


def _ok():
    yield TextDelta('{"answer": 2}')
    yield Done(usage=Usage(input_tokens=10, output_tokens=5))


def test_an_unexpected_exception_becomes_a_recorded_llm_error(db, scripted):
    def sdk_refuses():
        raise TypeError("create() got an unexpected keyword argument 'temperature'")
        yield  # a generator

    scripted(sdk_refuses)
    with pytest.raises(LLMError, match="TypeError") as caught:
        gateway.complete(_request(), _scripted_ctx())
    assert not caught.value.retryable
    row = LLMCall.objects.get()
    assert not row.ok and "temperature" in row.error and caught.value.record == row


def test_an_unwrapped_transport_error_is_retried_and_recorded(db, scripted):
    import httpx2

    def dropped():
        yield from ()
        raise httpx2.RemoteProtocolError("peer closed connection")

    provider = scripted(dropped, _ok)
    result, record = gateway.complete(_request(), _scripted_ctx())
    assert result.text == '{"answer": 2}' and len(provider.requests) == 2
    assert record.attempts == 2 and record.ok


def test_retry_waits_at_least_the_providers_retry_after(db, scripted, monkeypatch):
    waits = []

    async def sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr(gateway.asyncio, "sleep", sleep)

    def limited():
        raise LLMError("429", retryable=True, status=429, retry_after=5.0)
        yield  # a generator

    scripted(limited, limited, _ok)
    _, record = gateway.complete(_request(), _scripted_ctx())
    assert record.attempts == 3 and len(waits) == 2 and all(w >= 5.0 for w in waits)
    # A provider asking for an hour is capped, so a participant is not left waiting for good.
    waits.clear()

    def patient():
        raise LLMError("429", retryable=True, status=429, retry_after=3600)
        yield  # a generator

    scripted(patient, _ok)
    with override_settings(LLM_RETRY_AFTER_MAX_SECONDS=30):
        gateway.complete(_request(), _scripted_ctx())
    assert waits and max(waits) <= 30 * 1.5


def test_a_dangling_tool_call_is_answered_before_the_request_is_sent(db, scripted):
    provider = scripted(_ok)
    messages = [
        Message(role="user", content="Kids need discipline."),
        Message(
            role="assistant",
            content="Let me write it up.",
            tool_calls=[ToolCall(id="toolu_1", name="show_values_card", arguments={})],
        ),
        # the process died here: no tool result, and the participant typed again
        Message(role="user", content="Hello? Are you there?"),
    ]
    _, record = gateway.complete(ChatRequest(model="", system="s", messages=messages), _scripted_ctx())
    sent = provider.requests[0].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool", "user"]
    assert sent[2].tool_call_id == "toolu_1" and sent[2].content == gateway.DANGLING_TOOL_RESULT
    # The auditor sees the repair in what was sent.
    assert record.request_messages[2]["tool_call_id"] == "toolu_1"


def test_a_tool_result_saved_after_the_participant_typed_moves_up_to_its_call():
    messages = [
        Message(role="assistant", content="", tool_calls=[ToolCall(id="c1", name="show_values_card", arguments={})]),
        Message(role="user", content="still there?"),
        Message(role="tool", content="CARD SHOWN", tool_call_id="c1"),
        Message(role="tool", content="stray result", tool_call_id="gone"),
        # the offline interviewer reuses ids: each call gets the result that followed it
        Message(role="assistant", content="", tool_calls=[ToolCall(id="c1", name="show_values_card", arguments={})]),
        Message(role="tool", content="CARD SHOWN AGAIN", tool_call_id="c1"),
    ]
    repaired = gateway.repair_tool_calls(messages)
    assert [(m.role, m.content) for m in repaired] == [
        ("assistant", ""),
        ("tool", "CARD SHOWN"),
        ("user", "still there?"),
        ("assistant", ""),
        ("tool", "CARD SHOWN AGAIN"),
    ]


def test_embeddings_of_the_wrong_size_fail_clearly_with_a_record(db, scripted):
    scripted(lambda: [[0.1] * 768])
    ctx = gateway.CallContext(purpose="values.embed", route=gateway.Route("scripted", "nomic-embed-text"))
    with pytest.raises(LLMError, match="768 dimensions.*stores 384"):
        gateway.embed(["a card"], ctx, model="nomic-embed-text", dimensions=384)
    row = LLMCall.objects.get()
    assert not row.ok and "768" in row.error


def test_sync_calls_close_the_clients_they_made(db, monkeypatch):
    closed = []

    class Closable(Scripted):
        async def aclose(self):
            closed.append(self)

    made = []

    def factory(route):
        made.append(Closable(_ok))
        return made[-1]

    monkeypatch.setattr(gateway, "_default_factories", lambda: {"anthropic": factory})
    ctx = gateway.CallContext(purpose="test.call", route=gateway.Route("anthropic", "claude-sonnet-4-6"))
    gateway.complete(_request(), ctx)
    gateway.complete(_request(), ctx)
    assert len(made) == 2 and closed == made
