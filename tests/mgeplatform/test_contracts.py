"""Model answers are checked by pydantic contracts: failures name the field
and are kept as bad output, tool schemas come from the same contracts, card
limits are defined once, and the one retry loop never repeats shown text."""

import asyncio
import contextlib
import json

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings
from pydantic import Field

from graph.contracts import PairsAnswer, ReasoningAnswer, StoryAnswer
from interviews import services as interview_services
from interviews.contracts import ArticulatorAnswer, ExpertAnswer, GradeAnswer, IdeologyAnswer, ShowValuesCardArgs
from interviews.services import cards as interview_cards
from mgeplatform.llm import contracts, gateway
from mgeplatform.llm.contracts import Contract
from mgeplatform.llm.types import ChatRequest, Done, LLMError, LLMOutputError, Message, TextDelta, Usage
from mgeplatform.models import LLMCall
from tests.factories import Replies
from values import contracts as card_limits
from values.contracts import MatchAnswer
from values.models import CanonicalValue, ValuesCard


@pytest.fixture
def replies():
    with contextlib.ExitStack() as installed:

        def install(*texts):
            provider = Replies(texts)
            installed.enter_context(gateway.override_provider("replies", lambda route: provider))
            return provider

        yield install


def _ctx():
    return gateway.CallContext(purpose="test.contract", route=gateway.Route("replies", "m"))


def _request():
    return ChatRequest(model="", system="s", messages=[Message(role="user", content="hi")])


GOOD_CARD = {
    "title": "Informed Autonomy",
    "description": "Help the user decide for themselves.",
    "policies": ["INFORMATION the user needs to decide"],
}


@pytest.mark.parametrize(
    "contract, answer, message",
    [
        # wrong type, and a bool is not an integer
        (IdeologyAnswer, {"score": "3"}, "$.score should be an integer"),
        (IdeologyAnswer, {"score": True}, "$.score should be an integer"),
        (MatchAnswer, {"match": 3.0}, "$.match should be an integer"),
        # out of range
        (IdeologyAnswer, {"score": 9}, "$.score is above 5"),
        (
            GradeAnswer,
            {"grades": {name: {"score": 0} for name in GradeAnswer.model_fields["grades"].annotation.model_fields}},
            "$.grades.personal_story.score is below 1",
        ),
        # too long, too short (blank counts as empty), too many items
        (ArticulatorAnswer, {"card": {**GOOD_CARD, "title": "x" * 121}}, "$.card.title is too long (at most 120"),
        (
            ArticulatorAnswer,
            {"card": {**GOOD_CARD, "policies": ["ok policy", "   "]}},
            "$.card.policies[1] is too short",
        ),
        (
            ArticulatorAnswer,
            {"card": {**GOOD_CARD, "policies": ["a policy"] * 11}},
            "$.card.policies allows at most 10",
        ),
        (StoryAnswer, {"story": "Too short."}, "$.story is too short"),
        # missing key, enum
        (ReasoningAnswer, {"shared_meaning": "Both were about growth."}, "$.clarification is missing"),
        (PairsAnswer, {"pairs": [{"from": 1, "to": 2}]}, "$.pairs[0].context is missing"),
        (ExpertAnswer, {"answer": "maybe"}, "$.answer should be 'yes' or 'no'"),
    ],
)
def test_a_bad_answer_raises_naming_the_field_and_is_kept_as_bad_output(db, replies, contract, answer, message):
    text = "Sure! " + json.dumps(answer)
    replies(text)
    with pytest.raises(LLMOutputError) as caught:
        gateway.structured(_request(), contract, _ctx())
    assert message in str(caught.value)
    call = LLMCall.objects.get()
    assert caught.value.record == call
    assert not call.ok and call.error == f"bad output: {caught.value}" and call.response_text == text


def test_a_good_answer_is_a_validated_instance_with_chatter_keys_dropped(db, replies):
    replies(json.dumps({"card": {**GOOD_CARD, "title": "  Informed Autonomy \n", "mood": "happy"}, "note": "hi"}))
    answer, record = gateway.structured(_request(), ArticulatorAnswer, _ctx())
    assert isinstance(answer, ArticulatorAnswer) and answer.card.title == "Informed Autonomy"
    assert answer.critique is None and "note" not in answer.model_dump() and record.ok


def test_null_means_absent_only_where_the_contract_allows_it(db, replies):
    replies(json.dumps({"match": None}), json.dumps({"grades": None}))
    assert gateway.structured(_request(), MatchAnswer, _ctx())[0].match is None  # "no match"
    with pytest.raises(LLMOutputError, match=r"\$\.grades should be an object"):
        gateway.structured(_request(), GradeAnswer, _ctx())


class Strict(Contract):
    """Keywords the old hand-written validator did not know and so ignored."""

    count: int = Field(gt=0)  # exclusiveMinimum
    code: str = Field(pattern=r"^[A-Z]{3}$")


@pytest.mark.parametrize(
    "answer, message",
    [
        ({"count": 0, "code": "ABC"}, "$.count should be more than 0"),
        ({"count": 1, "code": "abcd"}, "$.code: String should match pattern"),
    ],
)
def test_keywords_the_old_validator_ignored_are_enforced(db, replies, answer, message):
    schema = contracts.json_schema(Strict)
    assert schema["properties"]["count"]["exclusiveMinimum"] == 0 and "pattern" in schema["properties"]["code"]
    replies(json.dumps(answer))
    with pytest.raises(LLMOutputError) as caught:
        gateway.structured(_request(), Strict, _ctx())
    assert message in str(caught.value)


def _schemas(node):
    """Every (sub)schema, not the maps of property names."""
    if isinstance(node, list):
        for item in node:
            yield from _schemas(item)
    elif isinstance(node, dict):
        yield node
        for key, value in node.items():
            yield from _schemas(list(value.values()) if key == "properties" else value)


@pytest.mark.parametrize("contract", [ShowValuesCardArgs, ArticulatorAnswer, GradeAnswer, PairsAnswer, ReasoningAnswer])
def test_generated_schemas_are_plain_json_schema_objects(contract):
    schema = contracts.json_schema(contract)
    assert schema["type"] == "object"
    for node in _schemas(schema):
        assert not {"$ref", "$defs", "title"} & set(node)


def test_nested_contract_schema_is_inlined_with_its_limits():
    card = contracts.json_schema(ArticulatorAnswer)["properties"]["card"]  # optional: may be left out
    assert card["type"] == "object" and card["required"] == ["title", "description", "policies"]
    assert card["properties"]["title"]["maxLength"] == card_limits.TITLE_MAX
    assert card["properties"]["policies"]["maxItems"] == card_limits.POLICIES_MAX
    assert card["properties"]["policies"]["items"]["maxLength"] == card_limits.POLICY_MAX


def test_the_interviewer_sends_tool_schemas_generated_from_the_contracts(db, replies):
    provider = replies("Tell me more.")
    request = ChatRequest(
        model="", system="s", messages=[Message(role="user", content="hi")], tools=interview_services.TOOLS
    )
    gateway.complete(request, _ctx())
    sent = {tool.name: tool.parameters for tool in provider.requests[0].tools}
    assert (
        sent["show_values_card"]
        == contracts.json_schema(ShowValuesCardArgs)
        == {
            "type": "object",
            "properties": {"change_request": {"type": "string", "description": "What the participant wants changed."}},
        }
    )
    assert sent["submit_values_card"] == {"type": "object", "properties": {}}


def test_card_limits_are_defined_once():
    for model in (ValuesCard, CanonicalValue):
        assert model._meta.get_field("title").max_length == card_limits.TITLE_MAX
        assert model._meta.get_field("description").max_length == card_limits.DESCRIPTION_MAX
        assert model._meta.get_field("policies").base_field.max_length == card_limits.POLICY_MAX
    with pytest.raises(interview_services.InterviewError, match=f"at most {card_limits.TITLE_MAX} characters"):
        interview_cards._clean_card_fields("x" * (card_limits.TITLE_MAX + 1), "d", ["p"])
    too_many = ["p"] * (card_limits.POLICIES_MAX + 1)
    with pytest.raises(interview_services.InterviewError, match=f"1 to {card_limits.POLICIES_MAX} policies"):
        interview_cards._clean_card_fields("t", "d", too_many)


# --- the one retry loop ------------------------------------------------------------------


class FlakyEmbedder:
    def __init__(self, script):
        self.script = list(script)  # "fail" (retryable), "refuse" (not retryable), "hang", "ok"
        self.calls = 0

    async def embed(self, texts, *, model, dimensions, timeout):
        self.calls += 1
        step = self.script.pop(0)
        if step == "fail":
            raise LLMError("503 busy", retryable=True, status=503)
        if step == "refuse":
            raise LLMError("400 bad input", status=400)
        if step == "hang":
            await asyncio.sleep(10)
        return [[1.0, 0.0] for _ in texts]


@pytest.fixture
def embedder():
    holder = {}

    def install(script):
        holder["p"] = FlakyEmbedder(script)
        return holder["p"]

    with gateway.override_provider("flaky-embed", lambda route: holder["p"]):
        yield install


def _embed_ctx():
    return gateway.CallContext(purpose="test.embed", route=gateway.Route("flaky-embed", "e"))


@override_settings(LLM_TIMEOUT_SECONDS=0.2)
def test_embeddings_share_the_retry_loop(db, embedder):
    provider = embedder(["fail", "hang", "ok"])
    assert gateway.embed(["a"], _embed_ctx(), model="e", dimensions=2) == [[1.0, 0.0]]
    assert provider.calls == 3 and LLMCall.objects.get().attempts == 3


def test_embedding_errors_that_are_not_retryable_are_not_retried(db, embedder):
    provider = embedder(["refuse", "ok"])
    with pytest.raises(LLMError, match="400") as caught:
        gateway.embed(["a"], _embed_ctx(), model="e", dimensions=2)
    call = LLMCall.objects.get()
    assert provider.calls == 1 and caught.value.record == call and not call.ok and call.attempts == 1


class DropsAfterText:
    """Shows text, then the connection drops; the next attempt would succeed."""

    def __init__(self):
        self.calls = 0

    async def stream_chat(self, request, *, timeout):
        self.calls += 1
        if self.calls == 1:
            yield TextDelta("Hello, ")
            raise LLMError("connection dropped", retryable=True)
        yield TextDelta("Hello, again")
        yield Done(usage=Usage())


def test_a_stream_is_never_retried_after_text_reached_the_participant(db):
    provider = DropsAfterText()
    shown = []

    async def reply():
        call = gateway.stream_chat(_request(), gateway.CallContext(purpose="t", route=gateway.Route("drops", "m")))
        async for event in call:
            shown.append(event)

    with gateway.override_provider("drops", lambda route: provider), pytest.raises(LLMError, match="dropped") as caught:
        async_to_sync(reply)()
    assert provider.calls == 1 and [e.text for e in shown] == ["Hello, "]
    call = LLMCall.objects.get()
    assert caught.value.record == call and call.response_text == "Hello, " and call.attempts == 1
