"""Open-weight models behind OpenAI-compatible servers: the capability check
finds what each supports, and an interview reaches its card on every one.

The fake servers answer as these servers do when they are started without
what tool calling needs, or serve a template strict about turns:
- vLLM without `--enable-auto-tool-choice --tool-call-parser`: 400
  '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
  (docs.vllm.ai, "Tool Calling");
- llama.cpp's llama-server without `--jinja`: 500 "tools param requires --jinja flag"
  (llama.cpp tools/server README, "Function calling");
- a tool parser that does not match the model: the call comes back as text, Hermes-style
  `<tool_call>{"name": ..., "arguments": ...}</tool_call>`;
- Gemma's and Mistral's chat templates: "System role not supported" and "Conversation roles
  must alternate user/assistant/user/assistant/..." (raised by the template, answered 400),
  and no usage chunk;
- a fully compatible server (Ollama's /v1, vLLM with a parser): native tool calls.
Streams are OpenAI's chat.completion.chunk objects, cut at awkward byte offsets (wire.py).
"""

from __future__ import annotations

import io
import json

import pytest
from django.test import override_settings

from mgeplatform.llm import adapt, gateway
from mgeplatform.llm.types import ChatRequest, Done, LLMError, Message, TextDelta, ToolSpec
from mgeplatform.models import LLMCall
from studies import services
from tests.conformance import wire
from tests.factories import consented_participant, run_interview

pytestmark = pytest.mark.django_db

ANSWERS = [
    "Mi hija quería dejar el piano y no supe qué hacer.",
    "Me fijo en si ella elige por sí misma, y en cómo se siente después.",
]
CARD = {
    "card": {
        "title": "Elegir por sí misma",
        "description": "The assistant should help the child notice what she herself wants.",
        "policies": [
            "MOMENTOS en que la niña elige por sí misma",
            "SENTIMIENTOS de la niña tras decidir",
            "PREGUNTAS que la ayudan a pensar con calma",
        ],
    }
}

VLLM_NO_PARSER = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
LLAMACPP_NO_JINJA = "tools param requires --jinja flag"


def local_model(kind: str):
    """A server of `kind` with a small, deterministic model behind it."""

    def respond(received: wire.Received) -> wire.Reply:
        body = received.body
        messages = body["messages"]
        if "tools" in body and kind in ("vllm-no-parser", "gemma"):
            return wire.openai_error(400, VLLM_NO_PARSER)
        if "tools" in body and kind == "llamacpp-no-jinja":
            return wire.openai_error(500, LLAMACPP_NO_JINJA, "server_error")
        if kind == "gemma":
            if any(m["role"] == "system" for m in messages):
                return wire.openai_error(400, "System role not supported")
            if [m["role"] for m in messages] != ["user", "assistant"] * (len(messages) // 2) + ["user"] * (
                len(messages) % 2
            ):
                return wire.openai_error(400, "Conversation roles must alternate user/assistant/user/assistant/...")
        everything = "\n".join(str(m.get("content") or "") for m in messages)
        last_user = next((m["content"] for m in reversed(messages) if m["role"] in ("user", "tool")), "")

        def text(words: str) -> wire.Reply:
            return wire.Reply(body=wire.openai_chunks(words, usage=kind != "gemma"))

        def action(name: str, arguments: dict) -> wire.Reply:
            if "tools" in body and kind == "native":
                return wire.Reply(body=wire.openai_chunks("", {"id": "call_7", "name": name, "input": arguments}))
            if "tools" in body:  # a parser that does not match: the model's own call format, as text
                return text("<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>")
            return text(json.dumps({"action": name, "arguments": arguments}, ensure_ascii=False))

        if "single word OK" in last_user:
            return text("OK")
        if "record_colour tool" in last_user:
            return action("record_colour", {"colour": "green"})
        if "You write a **values card**" in everything:
            return text(json.dumps(CARD, ensure_ascii=False))
        if "CARD SHOWN" in last_user:
            return text("Aquí está tu tarjeta. ¿Recoge lo que te importa?")
        if sum(answer in everything for answer in ANSWERS) >= 2 and "CARD SHOWN" not in everything:
            return action("show_values_card", {})
        return text("¿En qué te fijas cuando decides?")

    return respond


KINDS = {  # kind: (tools found, strict turns, usage reported)
    "vllm-no-parser": ("refused", False, True),
    "llamacpp-no-jinja": ("refused", False, True),
    "text-calls": ("as_text", False, True),
    "gemma": ("refused", True, False),
    "native": ("native", False, True),
}


@pytest.fixture
def local_study(db):
    study, _ = services.seed_case_study()
    servers = []

    def make(kind):
        servers.append(wire.FakeServer(local_model(kind)).__enter__())
        study.llm_provider, study.llm_model = "openai-compatible", "local-model"
        study.llm_base_url = servers[-1].url + "/v1"
        study.save()
        return study, servers[-1]

    with override_settings(OPENAI_API_KEY=""):
        yield make
    for server in servers:
        server.__exit__(None, None, None)


@pytest.mark.parametrize("kind", KINDS)
def test_the_model_check_finds_what_the_server_supports(local_study, kind):
    study, server = local_study(kind)
    report = services.check_study_model(study)
    tools, strict, usage = KINDS[kind]
    assert (report.streams, report.tools, report.recommended.strict_turns, report.usage_reported) == (
        True,
        tools,
        strict,
        usage,
    )
    assert report.recommended.tool_protocol == ("native" if kind == "native" else "json")
    assert report.embedding_dimensions == 384  # the platform's (offline) embeddings
    study.refresh_from_db()
    assert study.llm_probe["recommended"] == report.recommended.model_dump()
    # Each check call is an LLM-call row of the study's, counted in its budget.
    assert LLMCall.objects.filter(study_id=study.pk, purpose__startswith="probe.").count() >= 3
    route = gateway.resolve(study)  # "auto" follows the check
    assert (route.tool_protocol, route.strict_turns) == (report.recommended.tool_protocol, strict)


@pytest.mark.parametrize("kind", KINDS)
def test_an_interview_reaches_its_card_on_every_server(local_study, kind):
    study, server = local_study(kind)
    services.check_study_model(study)
    participant, _ = consented_participant(study, f"local-{kind}")
    interview, events = run_interview(participant, study.scenarios.get(key="parenting"), answers=ANSWERS, submit=False)
    card = interview.cards.get()
    assert card.title == "Elegir por sí misma" and "MOMENTOS en que la niña elige por sí misma" in card.policies
    shown = "".join(e.get("text", "") for e in events if e.get("type") == "delta")
    assert "Aquí está tu tarjeta" in shown
    # No action's JSON ever reached the participant, and no request was refused.
    assert "{" not in shown and "tool_call" not in shown and '"action"' not in shown
    refused = LLMCall.objects.filter(study_id=study.pk, ok=False).exclude(purpose__startswith="probe.")
    assert not refused.exists(), list(refused.values_list("purpose", "error"))
    replies = [r.body for r in server.received if "You are interviewing" in json.dumps(r.body)]
    if kind != "native":
        assert replies and all("tools" not in body for body in replies)
    if kind == "gemma":
        assert all(body["messages"][0]["role"] == "user" for body in replies)


def test_without_a_check_a_server_without_tools_fails_clearly_with_a_record(local_study):
    study, server = local_study("vllm-no-parser")
    participant, _ = consented_participant(study, "local-unchecked")
    interview, events = run_interview(
        participant, study.scenarios.get(key="parenting"), answers=ANSWERS[:1], submit=False
    )
    assert [e["code"] for e in events if e.get("type") == "error"] == ["llm_failed"]
    failed = LLMCall.objects.get(study_id=study.pk, purpose="interview.reply")
    assert not failed.ok and "enable-auto-tool-choice" in failed.error
    # The coordinator can say so without waiting for a check.
    study.llm_tool_protocol = study.ToolProtocol.JSON
    study.save()
    assert gateway.resolve(study).tool_protocol == "json"


# --- the adaptations on their own ---------------------------------------------------------------

TOOLS = [ToolSpec("show_values_card", "Show the card.", {"type": "object", "properties": {}})]


def _feed(pieces: list[str]):
    out = []
    text_filter = adapt.TextCallFilter({"show_values_card"})
    for piece in pieces:
        out += text_filter.feed(TextDelta(piece))
    out += text_filter.feed(Done(usage=None))
    return "".join(e.text for e in out if isinstance(e, TextDelta)), [e.call for e in out if hasattr(e, "call")]


@pytest.mark.parametrize(
    "answer",
    [
        '{"action": "show_values_card", "arguments": {"change_request": "más corto"}}',
        '<tool_call>\n{"name": "show_values_card", "arguments": {"change_request": "más corto"}}\n</tool_call>',
        '[TOOL_CALLS][{"name": "show_values_card", "arguments": {"change_request": "más corto"}}]',
        '```json\n{"name": "show_values_card", "parameters": {"change_request": "más corto"}}\n```',
    ],
)
def test_an_action_written_as_text_becomes_a_call_wherever_the_stream_is_cut(answer):
    for cut in range(1, len(answer)):
        shown, calls = _feed(["Vale. ", answer[:cut], answer[cut:]])
        assert shown == "Vale. ", (cut, shown)
        assert [(c.name, c.arguments) for c in calls] == [("show_values_card", {"change_request": "más corto"})]


def test_plain_text_with_brackets_passes_through_unchanged():
    text = "Use [brackets], <b>tags</b>, {braces} and ``` fences, ¿vale? 日本語."
    for cut in range(1, len(text)):
        assert _feed([text[:cut], text[cut:]]) == (text, [])


def test_an_unknown_or_broken_action_is_a_retryable_error_not_text():
    for answer in ('{"action": "delete_everything", "arguments": {}}', '{"action": "show_values_card", "argu'):
        with pytest.raises(LLMError) as caught:
            _feed([answer])
        assert caught.value.retryable


def test_strict_turns_start_with_the_user_alternate_and_carry_the_system_prompt():
    request = ChatRequest(
        model="m",
        system="You interview.",
        messages=[
            Message(role="assistant", content="Hola, ¿qué te importa?"),
            Message(role="user", content="La familia."),
            Message(role="user", content="Y el trabajo."),
        ],
    )
    strict = adapt.strict_turns(request)
    assert strict.system == "" and [m.role for m in strict.messages] == ["user", "assistant", "user"]
    assert strict.messages[0].content.startswith("You interview.")
    assert strict.messages[2].content == "La familia.\n\nY el trabajo."


@pytest.mark.django_db(transaction=True)  # the worker reads on its own connection
def test_saving_a_new_model_in_the_admin_checks_it_and_shows_the_report(local_study, coordinator):
    from django.core.management import call_command
    from django.test import Client

    from tests.factories import run_jobs_until_idle

    study, server = local_study("llamacpp-no-jinja")
    study.llm_provider = ""  # as a coordinator finds a new study: the platform's default
    study.save()
    client = Client()
    client.post("/accounts/login/", {"login": coordinator.email, "password": "x-coord-pass-1"})
    response = client.post(
        f"/admin/studies/study/{study.pk}/change/",
        {
            "title": study.title,
            "slug": study.slug,
            "status": "draft",
            "stories_per_participant": "3",
            "stuck_after_minutes": "10",
            "withdrawal_policy": "delete_content",
            "llm_provider": "openai-compatible",
            "llm_model": "local-model",
            "llm_base_url": study.llm_base_url,
            "llm_tool_protocol": "auto",
            "scenarios-TOTAL_FORMS": "0",
            "scenarios-INITIAL_FORMS": "0",
            "consent_documents-TOTAL_FORMS": "0",
            "consent_documents-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    assert "is being checked" in response.content.decode()  # queued when the save committed
    run_jobs_until_idle()
    study.refresh_from_db()
    assert study.llm_probe["tools"] == "refused" and gateway.resolve(study).tool_protocol == "json"
    page = client.get(f"/admin/studies/study/{study.pk}/change/").content.decode()
    assert 'id="model-check"' in page and "the server refuses tool calls" in page
    # The same check from the command line, as `run --check` does for the platform's default model.
    out = io.StringIO()
    call_command("check_model", "--study", study.slug, stdout=out)
    assert "tools: refused" in out.getvalue() and "uses: tool protocol json" in out.getvalue()
