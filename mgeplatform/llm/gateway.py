"""One entry point for every model call, with retries and a record of each.

Providers are chosen per study (provider, model, base URL) with defaults
from the environment; a provider that needs a key that is not configured
falls back to the offline provider, and `resolve()` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
import random
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import httpx2
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import connection
from pydantic import BaseModel, ValidationError

from mgeplatform.llm import adapt, contracts, pricing
from mgeplatform.llm.prompts import Prompt
from mgeplatform.llm.providers.offline import OfflineProvider
from mgeplatform.llm.types import (
    ChatRequest,
    ChatResult,
    Done,
    LLMError,
    LLMOutputError,
    Message,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    Usage,
)
from mgeplatform.models import LLMCall

log = logging.getLogger(__name__)
T = TypeVar("T")
C = TypeVar("C", bound=BaseModel)

PROVIDERS_NEEDING_KEYS = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_factories: dict[str, Callable[[Route], object]] = {}


def register_provider(name: str, factory: Callable[[Route], object]) -> None:
    """Add or replace a provider for the life of the process."""
    _factories[name] = factory


@contextlib.contextmanager
def override_provider(name: str, factory: Callable[[Route], object]):
    """The test hook: calls routed to provider `name` (a fake's own name, or
    "offline" to watch the offline provider) are made by `factory` inside the
    block; on leaving it, whatever was registered under that name before is back."""
    previous = _factories.get(name)
    _factories[name] = factory
    try:
        yield
    finally:
        if previous is None:
            _factories.pop(name, None)
        else:
            _factories[name] = previous


def _default_factories():
    # A provider's SDK is imported only when the provider is used (minilm's is optional).
    def anthropic(route):
        from mgeplatform.llm.providers.anthropic_provider import AnthropicProvider  # SDK loads only when used

        return AnthropicProvider(api_key=settings.ANTHROPIC_API_KEY, base_url=route.base_url or None)

    def openai(route):
        from mgeplatform.llm.providers.openai_provider import OpenAIProvider  # SDK loads only when used

        return OpenAIProvider(api_key=settings.OPENAI_API_KEY, base_url=route.base_url or None)

    def compatible(route):
        from mgeplatform.llm.providers.openai_provider import OpenAIProvider  # SDK loads only when used

        return OpenAIProvider(
            api_key=settings.OPENAI_API_KEY or "not-needed",
            base_url=route.base_url or settings.OPENAI_BASE_URL,
            name="openai-compatible",
        )

    def minilm(route):
        from mgeplatform.llm.providers.minilm import MiniLMProvider  # optional package, loads when used

        return MiniLMProvider()

    return {
        "offline": lambda route: OfflineProvider(),
        "anthropic": anthropic,
        "openai": openai,
        "openai-compatible": compatible,
        "minilm": minilm,
    }


@dataclass(frozen=True)
class Route:
    provider: str
    model: str
    base_url: str = ""
    fallback_reason: str = ""  # why we are offline although something else was asked for
    tool_protocol: str = "native"  # "json": no tools sent, actions as JSON text (adapt.py)
    strict_turns: bool = False  # user first, alternating, no system role (adapt.py)

    @property
    def offline(self) -> bool:
        return self.provider == "offline"


def resolve(study=None) -> Route:
    provider = (getattr(study, "llm_provider", "") or settings.LLM_DEFAULT_PROVIDER).strip()
    model = (getattr(study, "llm_model", "") or "").strip()
    base_url = (getattr(study, "llm_base_url", "") or "").strip()
    key_setting = PROVIDERS_NEEDING_KEYS.get(provider)
    if key_setting and not getattr(settings, key_setting, ""):
        return Route("offline", "offline", fallback_reason=f"{provider} was chosen but {key_setting} is not set")
    if provider == "openai-compatible" and not (base_url or settings.OPENAI_BASE_URL):
        return Route("offline", "offline", fallback_reason="openai-compatible was chosen but no base URL is set")
    if provider not in _factories and provider not in _default_factories():
        return Route("offline", "offline", fallback_reason=f"unknown provider {provider!r}")
    if not model:
        model = settings.LLM_DEFAULT_MODEL if provider == settings.LLM_DEFAULT_PROVIDER else ""
        model = model or {"anthropic": "claude-sonnet-4-6", "openai": "gpt-4o"}.get(provider, "offline")
    return route_for(study, provider, model)


def transcript_settings(study, provider: str, model: str, base_url: str) -> tuple[str, bool]:
    """(tool protocol, strict turns) for a route: the study's choice, or
    with "auto" what the last capability probe of this very model found
    (probe.py), else the documented APIs' way (native tools, turns as they are)."""
    probe = getattr(study, "llm_probe", None) or {}
    recommended = (
        probe.get("recommended", {})
        if (probe.get("provider"), probe.get("model"), probe.get("base_url", "")) == (provider, model, base_url)
        else {}
    )
    protocol = getattr(study, "llm_tool_protocol", "auto") or "auto"
    if protocol == "auto":
        protocol = recommended.get("tool_protocol") or settings.LLM_TOOL_PROTOCOL
    turns = getattr(study, "llm_turns", "auto") or "auto"
    strict = recommended.get("strict_turns", settings.LLM_STRICT_TURNS) if turns == "auto" else turns == "strict"
    return protocol, bool(strict)


def route_for(study, provider: str, model: str) -> Route:
    """The route of a study's calls to `provider`/`model` (an interview keeps
    the provider and model it started with)."""
    base_url = (getattr(study, "llm_base_url", "") or "").strip()
    protocol, strict = transcript_settings(study, provider, model, base_url)
    return Route(provider, model, base_url, tool_protocol=protocol, strict_turns=strict)


EMBEDDING_MODELS = {"offline": "offline-hash-384", "openai": "text-embedding-3-small", "minilm": "all-MiniLM-L6-v2"}


def resolve_embedding() -> Route:
    """The embedding model is platform-wide: vectors are only comparable
    within one model, so every card of every study uses the same one."""
    provider = settings.EMBEDDING_PROVIDER.strip() or "offline"
    if provider not in EMBEDDING_MODELS:
        return Route("offline", EMBEDDING_MODELS["offline"], fallback_reason=f"unknown embedding provider {provider!r}")
    if provider == "openai" and not settings.OPENAI_API_KEY:
        return Route("offline", EMBEDDING_MODELS["offline"], fallback_reason="openai embeddings need OPENAI_API_KEY")
    return Route(provider, settings.EMBEDDING_MODEL.strip() or EMBEDDING_MODELS[provider])


# One SDK client per route and event loop: an async HTTP client belongs to
# the loop it was made on. The web process's loop keeps its clients until
# shutdown (aclose_clients, from the ASGI lifespan); a sync call (a job, a
# command) runs on a loop of its own, so its clients are closed when it ends.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_owned: contextvars.ContextVar[list | None] = contextvars.ContextVar("llm_owned_providers", default=None)


def provider_for(route: Route):
    if route.provider in _factories:  # registered (tests' fakes): made afresh, as registered
        return _factories[route.provider](route)
    factory = _default_factories()[route.provider]
    owned = _owned.get()
    if owned is not None:
        provider = factory(route)
        owned.append(provider)
        return provider
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    key = (route.provider, route.base_url)
    if key not in per_loop:
        per_loop[key] = factory(route)
    return per_loop[key]


async def _close(providers) -> None:
    for provider in providers:
        close = getattr(provider, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing must not turn a good call into a failure
                log.warning("closing the %s client failed", getattr(provider, "name", "?"), exc_info=True)


async def aclose_clients() -> None:
    """Close this loop's clients (the web process's, on shutdown)."""
    await _close(list(_clients.pop(asyncio.get_running_loop(), {}).values()))


def sync_entry(fn):
    """A sync entry point: run `fn` on its own loop and close the clients it made there."""

    async def run(*args, **kwargs):
        token = _owned.set([])
        try:
            return await fn(*args, **kwargs)
        finally:
            owned = _owned.get()
            _owned.reset(token)
            await _close(owned)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return async_to_sync(run)(*args, **kwargs)

    return wrapper


# Set while code holds row locks that a model call must not be made under
# (a step's entry work): a call there is a bug, found by any test that runs it.
_forbidden: contextvars.ContextVar[str | None] = contextvars.ContextVar("llm_calls_forbidden", default=None)


class ModelCallForbidden(RuntimeError):
    pass


@contextlib.contextmanager
def no_model_calls(why: str):
    """No model call may start inside this block; `why` says what it holds."""
    token = _forbidden.set(why)
    try:
        yield
    finally:
        _forbidden.reset(token)


@dataclass
class CallContext:
    """Who and what a call is for; becomes the LLMCall record."""

    purpose: str
    prompt: Prompt | None = None
    study: Any = None  # a studies.Study (a layer above: not imported here)
    participant_id: uuid.UUID | None = None
    # Everyone whose words the request carries (participant_id is added):
    # a withdrawal under "delete what they wrote" redacts these calls.
    content_of: Iterable = ()
    route: Route | None = None
    extra: dict = field(default_factory=dict)

    def get_route(self) -> Route:
        """The route of the call about to start (every call asks first)."""
        why = _forbidden.get()
        if why is not None:
            raise ModelCallForbidden(f"a model call ({self.purpose}) was started {why}; make it after commit")
        if self.route is None:
            self.route = resolve(self.study)
        return self.route


def _returns_connection(fn):
    """Run `fn` (called through sync_to_async, not Channels'
    database_sync_to_async, which would close a caller's open transaction)
    and give the connection back to the pool afterwards unless a transaction
    is open: thread-sensitive calls from a websocket run on a thread of that
    connection's own, which would otherwise keep a pooled connection forever."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()

    return wrapper


# What an LLMCall keeps of the request. Interview replies resend the whole
# conversation every turn, so the record is bounded: long texts lose their
# middle, and a very long conversation keeps its first and last turns.
MAX_RECORDED_TEXT = 8_000
MAX_RECORDED_SYSTEM = 40_000
RECORDED_HEAD_MESSAGES = 4
RECORDED_TAIL_MESSAGES = 60


def _shorten(text: str, limit: int = MAX_RECORDED_TEXT) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[… {len(text) - 2 * half} characters left out of this record …]\n{text[-half:]}"


def _recorded_message(message) -> dict:
    out = {"role": message.role, "content": _shorten(message.content or "")}
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": _shorten(json.dumps(c.arguments, ensure_ascii=False))}
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def recorded_request(request: ChatRequest | None = None, texts: list[str] | None = None) -> tuple[str, list[dict]]:
    """(system prompt, messages) as an LLMCall keeps them."""
    if request is None:  # an embedding call: the texts embedded
        texts = texts or []
        inputs = [{"role": "input", "content": _shorten(t)} for t in texts[:RECORDED_TAIL_MESSAGES]]
        if len(texts) > RECORDED_TAIL_MESSAGES:
            inputs.append(
                {
                    "role": "note",
                    "content": f"[… {len(texts) - RECORDED_TAIL_MESSAGES} texts left out of this record …]",
                }
            )
        return "", inputs
    messages = [_recorded_message(m) for m in request.messages]
    keep = RECORDED_HEAD_MESSAGES + RECORDED_TAIL_MESSAGES
    if len(messages) > keep:
        gap = {"role": "note", "content": f"[… {len(messages) - keep} messages left out of this record …]"}
        messages = messages[:RECORDED_HEAD_MESSAGES] + [gap] + messages[-RECORDED_TAIL_MESSAGES:]
    return _shorten(request.system or "", MAX_RECORDED_SYSTEM), messages


@_returns_connection
def _record(
    ctx: CallContext,
    *,
    usage: Usage,
    started: float,
    attempts: int,
    text: str = "",
    tool_calls: list[ToolCall] | None = None,
    stop_reason: str = "",
    error: str = "",
    request: ChatRequest | None = None,
    texts: list[str] | None = None,
):

    route = ctx.get_route()
    system, messages = recorded_request(request, texts)
    prompt_ref = ctx.prompt.ref if ctx.prompt else {}
    return LLMCall.objects.create(
        purpose=ctx.purpose,
        cache_write_input_tokens=usage.cache_write_input_tokens,
        usage_estimated=usage.estimated,
        study_id=getattr(ctx.study, "pk", None),
        participant=ctx.participant_id,
        content_of=sorted({uuid.UUID(str(p)) for p in (*ctx.content_of, ctx.participant_id) if p}),
        provider=route.provider,
        model=route.model,
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        latency_ms=int((time.monotonic() - started) * 1000),
        attempts=attempts,
        estimated_cost_usd=pricing.estimate_cost(
            route.model,
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens,
            usage.cache_write_input_tokens,
        ),
        ok=not error,
        error=error[:4000],
        response_text=text,
        response_tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in tool_calls or []],
        stop_reason=stop_reason,
        request_system=system,
        request_messages=messages,
        **prompt_ref,
    )


def _backoff(attempt: int, retry_after: float | None = None) -> float:
    """Exponential with jitter, and never shorter than the provider's
    retry-after (capped at LLM_RETRY_AFTER_MAX_SECONDS)."""
    base = settings.LLM_RETRY_BASE_SECONDS
    wait = base * (2 ** (attempt - 1)) * (1 + random.random() / 2)
    if retry_after:
        wait = max(wait, min(retry_after, settings.LLM_RETRY_AFTER_MAX_SECONDS))
    return wait


def as_llm_error(err: Exception) -> LLMError:
    """Any failure of a provider call as an LLMError, so every caller's
    handling (the participant's Retry, a job's retry) and the LLM-call row
    cover it. A transport error the SDK let through is retryable; anything
    else (a bug, an SDK that refuses an argument) is not, and is logged."""
    if isinstance(err, LLMError):
        return err
    if isinstance(err, TimeoutError):
        return LLMError(f"No complete answer within {settings.LLM_TIMEOUT_SECONDS:.0f}s.", retryable=True)
    if isinstance(err, httpx2.RequestError):
        return LLMError(f"Connection to the model lost ({type(err).__name__}).", retryable=True)
    log.error("LLM call failed unexpectedly", exc_info=err)
    return LLMError(f"Unexpected failure: {type(err).__name__}: {err}"[:300])


@dataclass
class Attempts:
    count: int = 0


async def retrying(purpose: str, attempt: Callable[[], AsyncIterator[T]], attempts: Attempts) -> AsyncIterator[T]:
    """Pass on what `attempt()` yields, starting it again after a retryable
    LLMError or a timeout (LLM_TIMEOUT_SECONDS), with exponential backoff and
    jitter, up to LLM_MAX_ATTEMPTS in all. Once an item has reached the
    caller there is no retry: a participant would see the text twice. The
    last error is raised as an LLMError; `attempts.count` says how many ran."""
    while True:
        attempts.count += 1
        passed_on = False
        try:
            async with asyncio.timeout(settings.LLM_TIMEOUT_SECONDS):
                async for item in attempt():
                    passed_on = True
                    yield item
            return
        except Exception as caught:  # noqa: BLE001 - every failure becomes an LLMError (as_llm_error)
            err = as_llm_error(caught)
            if err.retryable and not passed_on and attempts.count < settings.LLM_MAX_ATTEMPTS:
                log.warning("LLM %s attempt %d failed (%s); retrying", purpose, attempts.count, err)
                await asyncio.sleep(_backoff(attempts.count, err.retry_after))
                continue
            raise err from (None if caught is err else caught)


DANGLING_TOOL_RESULT = (
    "NOT DONE: this step failed before it finished (the connection or the model failed). "
    "Carry on with the conversation; ask for it again if it is still needed."
)


def repair_tool_calls(messages: list[Message]) -> list[Message]:
    """Every tool call answered right after the turn that made it. A result
    saved after the participant typed again is moved up to its call; a call
    left without a result (the process died or the model failed between the
    two) gets one saying the step failed. Without this, Anthropic refuses
    every later request with 400 and the interview is stuck for good.
    Results whose call is not in the conversation are dropped."""
    # Results by call id, in order (the offline interviewer reuses ids across turns).
    results: dict[str | None, list[tuple[int, Message]]] = {}
    for position, m in enumerate(messages):
        if m.role == "tool":
            results.setdefault(m.tool_call_id, []).append((position, m))
    out: list[Message] = []
    for position, message in enumerate(messages):
        if message.role == "tool":
            continue
        out.append(message)
        for call in message.tool_calls if message.role == "assistant" else []:
            queue = results.get(call.id, [])
            while queue and queue[0][0] < position:  # a result of an earlier call with this id
                queue.pop(0)
            out.append(
                queue.pop(0)[1] if queue else Message(role="tool", content=DANGLING_TOOL_RESULT, tool_call_id=call.id)
            )
    return out


class StreamedCall:
    """Async-iterate for events; afterwards `.record` holds the LLMCall."""

    def __init__(self, request: ChatRequest, ctx: CallContext):
        self.request = request
        self.ctx = ctx
        self.record: Any = None  # the LLMCall, once written
        self.result: ChatResult | None = None
        self.sent: ChatRequest | None = None

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._run()

    async def _run(self):
        ctx, request = self.ctx, self.request
        route = ctx.get_route()
        request.model = route.model
        if ctx.prompt and not request.role_hint:
            request.role_hint = ctx.prompt.name
        request.messages = repair_tool_calls(request.messages)
        tool_names = {t.name for t in request.tools}
        if route.tool_protocol == "json":
            request = adapt.json_protocol(request)
        if route.strict_turns:
            request = adapt.strict_turns(request)
        self.sent = request  # what the provider was sent, as the LLM-call row keeps it
        started = time.monotonic()
        attempts = Attempts()
        try:
            provider = provider_for(route)
        except Exception as err:  # a provider that cannot be made fails like a call, with a row
            error = as_llm_error(err)
            error.record = await sync_to_async(_record)(
                ctx, usage=Usage(), started=started, attempts=0, error=str(error), request=request
            )
            raise error from err
        text_parts: list[str] = []  # of the current attempt
        calls: list[ToolCall] = []
        done = None
        filters: list[adapt.TextCallFilter] = []

        async def attempt():
            text_parts.clear()
            calls.clear()
            filters[:] = [adapt.TextCallFilter(tool_names)] if tool_names else []
            finished = False
            async for event in provider.stream_chat(request, timeout=settings.LLM_TIMEOUT_SECONDS):
                finished = finished or isinstance(event, Done)
                for passed in filters[0].feed(event) if filters else [event]:
                    yield passed
            if not finished:
                raise LLMError("The model's stream ended without finishing.", retryable=True)

        def said() -> str:
            """All the model wrote, including an action written as text."""
            return filters[0].raw_text if filters else "".join(text_parts)

        try:
            async for event in retrying(ctx.purpose, attempt, attempts):
                if isinstance(event, TextDelta):
                    text_parts.append(event.text)
                elif isinstance(event, ToolCallEvent):
                    calls.append(event.call)
                elif isinstance(event, Done):
                    done = event
                    continue  # passed on once the call is recorded
                yield event
        except LLMError as err:
            self.record = await sync_to_async(_record)(
                ctx,
                usage=Usage(),
                started=started,
                attempts=attempts.count,
                text=said(),
                error=str(err),
                request=request,
            )
            err.record = self.record  # so callers can point at the evidence
            raise err
        text = "".join(text_parts)
        self.result = ChatResult(text=text, tool_calls=calls, usage=done.usage, stop_reason=done.stop_reason)
        self.record = await sync_to_async(_record)(
            ctx,
            usage=done.usage,
            started=started,
            attempts=attempts.count,
            text=said(),
            tool_calls=calls,
            stop_reason=done.stop_reason,
            request=request,
        )
        yield done


def stream_chat(request: ChatRequest, ctx: CallContext) -> StreamedCall:
    return StreamedCall(request, ctx)


async def complete_async(request: ChatRequest, ctx: CallContext) -> tuple[ChatResult, LLMCall]:
    call = stream_chat(request, ctx)
    async for _ in call:
        pass
    return cast(ChatResult, call.result), call.record  # set once the stream ends without raising


complete = sync_entry(complete_async)


def parse_json_answer(text: str) -> dict:
    """The first JSON object in a model's answer (models like code fences)."""
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end <= start:
        raise LLMOutputError("The model did not answer with a JSON object.")
    try:
        value = json.loads(text[start : end + 1])
    except json.JSONDecodeError as err:
        raise LLMOutputError(f"The model's JSON did not parse: {err}") from err
    if not isinstance(value, dict):
        raise LLMOutputError("The model's JSON was not an object.")
    return value


async def structured_async(request: ChatRequest, contract: type[C], ctx: CallContext) -> tuple[C, LLMCall]:
    """A call whose answer must be a JSON object satisfying `contract` (a
    pydantic model); returns the validated instance and the LLMCall.

    A malformed answer raises LLMOutputError naming the field; the LLMCall
    row keeps the raw text and the reason, so an auditor sees what the model
    said."""
    result, record = await complete_async(request, ctx)
    try:
        return contract.model_validate(parse_json_answer(result.text)), record
    except (LLMOutputError, ValidationError) as err:
        if isinstance(err, ValidationError):
            err = LLMOutputError(contracts.describe(err))
        await sync_to_async(_mark_bad_output)(record, str(err))
        err.record = record
        raise err


structured = sync_entry(structured_async)


@_returns_connection
def _mark_bad_output(record, reason: str) -> None:
    record.ok = False
    record.error = f"bad output: {reason}"
    record.save(update_fields=["ok", "error"])


async def embed_async(texts: list[str], ctx: CallContext, *, model: str, dimensions: int = 384) -> list[list[float]]:
    route = ctx.get_route()
    started = time.monotonic()
    attempts = Attempts()

    async def attempt():
        provider = provider_for(route)
        yield await provider.embed(texts, model=model, dimensions=dimensions, timeout=settings.LLM_TIMEOUT_SECONDS)

    try:
        [vectors] = [v async for v in retrying(ctx.purpose, attempt, attempts)]
        sizes = sorted({len(v) for v in vectors})
        if len(vectors) != len(texts) or sizes and sizes != [dimensions]:
            # A server that ignores `dimensions` would otherwise fail at the
            # database (a vector column of fixed size), far from the cause.
            raise LLMError(
                f"The embedding model {model!r} answered {len(vectors)} vector(s) of "
                f"{'/'.join(map(str, sizes)) or 'no'} dimensions for {len(texts)} text(s); this platform "
                f"stores {dimensions}. Choose a model that supports {dimensions} dimensions "
                "(EMBEDDING_MODEL) or one that honours the `dimensions` parameter."
            )
    except LLMError as err:
        err.record = await sync_to_async(_record)(
            ctx, usage=Usage(), started=started, attempts=attempts.count, error=str(err), texts=texts
        )
        raise err
    tokens = sum(len(t) // 4 + 1 for t in texts)
    await sync_to_async(_record)(
        ctx, usage=Usage(input_tokens=tokens), started=started, attempts=attempts.count, texts=texts
    )
    return vectors


embed = sync_entry(embed_async)


def mark_bad_output(record, reason: str) -> None:
    """Flag a call whose well-formed answer failed a caller's own checks."""
    _mark_bad_output(record, reason)
