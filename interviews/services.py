"""The values interview: transcript, replies, cards, submission (paper 4.3).

Writes are synchronous services (one transaction each). The reply is an
async function that streams the interviewer's answer through the gateway and
reports progress through an `emit` callback (the websocket consumer sends
those events to every tab of the interview).

Durability rules: the participant's turn is saved before the model is
called; the interviewer's turn is saved when complete; a reply is guarded by
a token with a heartbeat, so only one runs at a time and one whose server
died is taken over by the next connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from pydantic import ValidationError

from interviews import events
from interviews.contracts import ArticulatorAnswer, ShowValuesCardArgs, SubmitValuesCardArgs
from interviews.models import ChatMessage, Interview
from interviews.selectors import message_payload, needs_reply, reply_alive
from mgeplatform import inputs
from mgeplatform.asyncdb import db_async
from mgeplatform.audit import participant_context, record_event
from mgeplatform.llm import contracts, gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.providers.offline import OfflineProvider
from mgeplatform.llm.types import ChatRequest, LLMError, Message, TextDelta, ToolCall
from studies import steps
from studies.models import Participant, Scenario, Step
from values import contracts as card_limits
from values.models import ValuesCard
from values.services import match_card_in_chat_async

Emit = Callable[[dict], Awaitable[None]]
log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
MAX_TOOL_ROUNDS = 4
# Streamed words are sent in batches this far apart: every frame costs the
# server about a millisecond (channel layer, JSON, websocket), and a tenth of
# a second still reads as continuous typing.
DELTA_FLUSH_SECONDS = 0.1

TOOLS = [
    contracts.tool(
        "show_values_card",
        "Have the card writer turn the conversation so far into a values card and show it to the participant. "
        "Call again with change_request to revise the card as the participant asked.",
        ShowValuesCardArgs,
    ),
    contracts.tool(
        "submit_values_card",
        "Submit the current card once the participant has said it captures their value.",
        SubmitValuesCardArgs,
    ),
]


class InterviewError(Exception):
    """A participant action that cannot be done; `code` goes to the client."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def interviewer_prompt():
    return app_prompt(__file__, "interviewer")


def articulator_prompt():
    return app_prompt(__file__, "articulator")


# --- starting -----------------------------------------------------------


def greeting(scenario: Scenario) -> str:
    return (
        f"Help us figure out how an AI assistant should respond to questions like this one:\n\n"
        f"\u201c{scenario.prompt}\u201d\n\n"
        "Everyone's input helps! Say what you think should be considered in the response."
    )


@transaction.atomic
def choose_scenario(*, participant: Participant, scenario: Scenario) -> Interview:
    """Start (or return) the participant's interview. Idempotent."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    existing = Interview.objects.filter(participant=participant, status=Interview.Status.ACTIVE).first()
    if existing is not None:
        return existing
    if scenario.study_id != participant.study_id or not scenario.active:
        raise InterviewError("bad_scenario", "That question is not part of this study.")
    route = gateway.resolve(participant.study)
    prompts = {p.name: {"version": p.version, "hash": p.sha256} for p in (interviewer_prompt(), articulator_prompt())}
    with participant_context(participant.pk):
        interview = Interview.objects.create(
            participant=participant,
            scenario=scenario,
            provider=route.provider,
            model=route.model,
            offline=route.offline,
            prompt_versions=prompts,
        )
        ChatMessage.objects.create(
            interview=interview, seq=1, role=ChatMessage.Role.ASSISTANT, content=greeting(scenario)
        )
        record_event(
            events.INTERVIEW_STARTED,
            participant_id=participant.pk,
            study_slug=participant.study.slug,
            subject=interview,
            payload={"scenario": scenario.key, "provider": route.provider, "model": route.model},
        )
        if participant.current_step in (Step.SCENARIO, Step.CONSENT):
            steps.move(participant, Step.INTERVIEW)
    return interview


def start_only_scenario(participant: Participant) -> None:
    """On entering the interview step: a study with one question starts its
    interview straight away (there is nothing to choose)."""
    scenarios = participant.study.scenarios.filter(active=True)
    if scenarios.count() == 1 and not Interview.objects.filter(participant=participant).exists():
        choose_scenario(participant=participant, scenario=scenarios.get())


def _next_seq(interview: Interview) -> int:
    return (interview.messages.aggregate(m=Max("seq"))["m"] or 0) + 1


def _lock(interview_id: int) -> Interview:
    # of=("self",): lock the interview row only. Locking the joined rows too
    # would make every interview in the study queue on the one Study row.
    return (
        Interview.objects.select_for_update(of=("self",))
        .select_related("participant__study", "scenario")
        .get(pk=interview_id)
    )


def _lock_row(interview_id: int) -> Interview:
    """_lock without the participant, study and question: for the writes of
    every turn, which need none of them (building the joined query cost more
    than running it)."""
    return Interview.objects.select_for_update().get(pk=interview_id)


def heartbeat_seconds() -> float:
    # Several beats fit in the stale window, so a live reply never looks dead.
    return min(HEARTBEAT_SECONDS, settings.INTERVIEW_REPLY_STALE_SECONDS / 4)


def takeover_due_in(interview_id: int) -> float | None:
    """Seconds until an open tab may take over the reply to the unanswered
    turn: 0 when nobody alive holds it, the time left until its holder's
    heartbeat goes stale otherwise. None when there is nothing to take over
    (no turn waiting, or the last reply failed: the participant retries)."""
    interview = Interview.objects.get(pk=interview_id)
    if interview.last_error or not needs_reply(interview):
        return None
    if not reply_alive(interview):
        return 0.0
    stale_at = interview.reply_heartbeat_at + timedelta(seconds=settings.INTERVIEW_REPLY_STALE_SECONDS)
    return max(0.0, (stale_at - timezone.now()).total_seconds())


# --- participant actions --------------------------------------------------


def add_user_message(*, interview_id: int, text: str, client_message_id: str = "") -> tuple[ChatMessage, bool]:
    """Save the participant's turn. Returns (message, created).

    A resend with the same client id returns the saved message (a double
    click or a reconnect resend never duplicates a turn)."""
    message, created, _token, _read = _add_user_message(interview_id, text, client_message_id, claim=False)
    return message, created


@dataclass
class ClaimedTurn:
    """What add_user_message_and_claim_reply read on its way: the reply's
    first round starts from it instead of going back to the database."""

    interview: Interview  # with participant, study and scenario
    transcript: list[Message]


def add_user_message_and_claim_reply(
    *, interview_id: int, text: str, client_message_id: str = ""
) -> tuple[ChatMessage, bool, uuid.UUID | None, ClaimedTurn | None]:
    """add_user_message, and in the same transaction claim the reply the new
    turn calls for (claim_reply's token) and read what that reply needs: the
    busiest path of an interview then takes one trip to a database thread
    instead of three. No token (and no ClaimedTurn) for a resend: the caller
    claims as usual, if a reply is still due."""
    return _add_user_message(interview_id, text, client_message_id, claim=True)


def _add_user_message(
    interview_id: int, text: str, client_message_id: str, claim: bool
) -> tuple[ChatMessage, bool, uuid.UUID | None, ClaimedTurn | None]:
    text = (text or "").strip()
    if not text:
        raise InterviewError("empty", "Please write something first.")
    limit = settings.INTERVIEW_MAX_MESSAGE_CHARS
    if len(text) > limit:
        raise InterviewError("too_long", f"Messages can be at most {limit:,} characters; yours has {len(text):,}.")
    client_message_id = (client_message_id or "")[:64]
    try:
        inputs.check_text(text, what="Your message")
        inputs.check_text(client_message_id, what="The message id")
    except inputs.BadInput as err:
        raise InterviewError(err.code, err.message) from None
    try:
        with transaction.atomic():
            # The claimed reply needs the participant, study and scenario;
            # a plain turn needs the row alone (the joined query costs more
            # to build than to run).
            interview = _lock(interview_id) if claim else _lock_row(interview_id)
            # One read of the transcript answers the resend check, the next
            # seq and (with the new turn) what the reply sends the model.
            earlier = list(interview.messages.order_by("seq"))
            if client_message_id:
                previous = next((m for m in earlier if m.client_message_id == client_message_id), None)
                if previous is not None:
                    return previous, False, None, None
            if interview.status != Interview.Status.ACTIVE:
                raise InterviewError("closed", "This interview is finished; your card was submitted.")
            if reply_alive(interview):
                raise InterviewError("busy", "Please wait for the interviewer to finish answering.")
            with participant_context(interview.participant_id):
                earlier += _answer_dangling_tool_calls(interview, earlier)
                message = ChatMessage.objects.create(
                    interview=interview,
                    seq=(earlier[-1].seq if earlier else 0) + 1,
                    role=ChatMessage.Role.USER,
                    content=text,
                    client_message_id=client_message_id,
                )
                interview.last_error = ""
                fields = ["last_error", "updated_at"]
                if claim:  # as claim_reply would: a turn was just added and no reply is alive
                    interview.reply_token, interview.reply_heartbeat_at = uuid.uuid4(), timezone.now()
                    fields += ["reply_token", "reply_heartbeat_at"]
                interview.save(update_fields=fields)
            if not claim:
                return message, True, None, None
            return (
                message,
                True,
                interview.reply_token,
                ClaimedTurn(interview, transcript_messages(interview, [*earlier, message])),
            )
    except IntegrityError:
        # The same client id raced in from another tab; return the winner.
        return (
            ChatMessage.objects.get(interview_id=interview_id, client_message_id=client_message_id),
            False,
            None,
            None,
        )


def _clean_card_fields(title, description, policies) -> tuple[str, str, list[str]]:
    """The card's fields stripped, or InterviewError("bad_card") saying what
    is wrong: a policy that is not text or is blank refuses the card (it is
    never dropped silently)."""
    for value in (title, description, *(policies if isinstance(policies, list) else [])):
        if isinstance(value, str):
            try:
                inputs.check_text(value, what="The card")
            except inputs.BadInput as err:
                raise InterviewError("bad_card", err.message) from None
    try:
        card = card_limits.CardFields.model_validate({"title": title, "description": description, "policies": policies})
    except ValidationError as err:
        raise InterviewError("bad_card", card_limits.card_problem(err)) from None
    return card.title, card.description, list(card.policies)


def _save_card(interview: Interview, *, title, description, policies, source, llm_call=None) -> ValuesCard:
    """A new revision. It is scripted when the offline provider wrote it (whatever the interview's route said:
    a missing key falls back to the script), or when it edits a scripted card (the wording started as the
    script's)."""
    latest = interview.cards.order_by("-revision").values("revision", "scripted").first()
    revision = (latest["revision"] if latest else 0) + 1
    if llm_call is not None:
        scripted = llm_call.provider == OfflineProvider.name
    else:
        scripted = bool(latest and latest["scripted"])
    return ValuesCard.objects.create(
        interview=interview,
        revision=revision,
        title=title,
        description=description,
        policies=policies,
        source=source,
        llm_call=llm_call,
        scripted=scripted,
    )


def edit_card(*, interview_id: int, title, description, policies) -> ValuesCard:
    """The participant edits the card directly: a new revision, and a note so
    the interviewer knows what changed."""
    title, description, policies = _clean_card_fields(title, description, policies)
    with transaction.atomic():
        interview = _lock(interview_id)
        if interview.status != Interview.Status.ACTIVE:
            raise InterviewError("closed", "This interview is finished; the card can no longer change.")
        if not interview.cards.exists():
            raise InterviewError("no_card", "There is no card to edit yet.")
        with participant_context(interview.participant_id):
            card = _save_card(
                interview,
                title=title,
                description=description,
                policies=policies,
                source=ValuesCard.Source.PARTICIPANT_EDIT,
            )
            ChatMessage.objects.create(
                interview=interview,
                seq=_next_seq(interview),
                role=ChatMessage.Role.NOTE,
                content="The participant edited the card directly. It now reads: " + json.dumps(_card_payload(card)),
            )
            record_event(
                events.VALUES_CARD_EDITED,
                participant_id=interview.participant_id,
                study_slug=interview.participant.study.slug,
                subject=card,
                payload={"interview": interview.pk, "revision": card.revision},
            )
        return card


def submit_card(*, interview_id: int, via: str = "participant") -> ValuesCard:
    """Submit the current card and move the participant on. Idempotent.

    Refused as busy while the interviewer is answering (unless the
    interviewer itself submits, from inside its reply): the reply would go on
    writing messages and card revisions after the submission."""
    with transaction.atomic():
        interview = _lock(interview_id)
        card = interview.cards.order_by("-revision").first()
        if card is None:
            raise InterviewError("no_card", "There is no card to submit yet.")
        if interview.status == Interview.Status.SUBMITTED:
            return card
        if via != "interviewer" and reply_alive(interview):
            raise InterviewError("busy", "Please wait for the interviewer to finish answering, then submit.")
        now = timezone.now()
        participant = Participant.objects.select_for_update().get(pk=interview.participant_id)
        with participant_context(participant.pk):
            card.submitted, card.submitted_at = True, now
            card.save(update_fields=["submitted", "submitted_at"])
            interview.status, interview.submitted_at = Interview.Status.SUBMITTED, now
            interview.save(update_fields=["status", "submitted_at", "updated_at"])
            record_event(
                events.VALUES_CARD_SUBMITTED,
                participant_id=participant.pk,
                study_slug=participant.study.slug,
                subject=card,
                payload={"interview": interview.pk, "revision": card.revision, "via": via},
            )
            steps.finish(participant, Step.INTERVIEW)
        return card


# --- the interviewer's reply ------------------------------------------------


def _answer_dangling_tool_calls(interview: Interview, earlier: list[ChatMessage]) -> list[ChatMessage]:
    """Record a result for each tool call of the interviewer that never got
    one (the process died, or the model or connection failed, between the
    call and its result), saying the step failed: the transcript kept is
    the one the model is sent (gateway.repair_tool_calls), and an auditor
    reading it sees what happened. Call under the interview's lock."""
    pending: dict[str, None] = {}
    for m in earlier:
        if m.role == ChatMessage.Role.ASSISTANT:
            pending = dict.fromkeys(c["id"] for c in m.tool_calls or [])
        elif m.role == ChatMessage.Role.TOOL:
            pending.pop(m.tool_call_id, None)
    seq = earlier[-1].seq if earlier else 0
    made = []
    for n, call_id in enumerate(pending, start=1):
        made.append(
            ChatMessage.objects.create(
                interview=interview,
                seq=seq + n,
                role=ChatMessage.Role.TOOL,
                content=gateway.DANGLING_TOOL_RESULT,
                tool_call_id=call_id,
            )
        )
    if made:
        log.warning("interview %s: answered %d dangling tool call(s) as failed", interview.pk, len(made))
    return made


def claim_reply(interview_id: int) -> uuid.UUID | None:
    """Take the right to generate the next reply, if one is due and nobody
    alive holds it."""
    with transaction.atomic():
        interview = _lock_row(interview_id)
        if not needs_reply(interview) or reply_alive(interview):
            return None
        with participant_context(interview.participant_id):
            _answer_dangling_tool_calls(interview, list(interview.messages.order_by("seq")))
        interview.reply_token = uuid.uuid4()
        interview.reply_heartbeat_at = timezone.now()
        interview.save(update_fields=["reply_token", "reply_heartbeat_at"])
        return interview.reply_token


def _heartbeat(interview_id: int, token: uuid.UUID) -> bool:
    return Interview.objects.filter(pk=interview_id, reply_token=token).update(reply_heartbeat_at=timezone.now()) == 1


def _release(interview_id: int, token: uuid.UUID, error: str = "") -> None:
    Interview.objects.filter(pk=interview_id, reply_token=token).update(
        reply_token=None, reply_heartbeat_at=None, last_error=error
    )


def transcript_messages(interview: Interview, messages: list[ChatMessage] | None = None) -> list[Message]:
    """The transcript as the interviewer sees it. Consecutive participant
    turns and notes merge into one user turn (providers want alternation).
    `messages`: the interview's messages in seq order, when already read."""
    out: list[Message] = []
    for m in interview.messages.order_by("seq") if messages is None else messages:
        if m.role in (ChatMessage.Role.USER, ChatMessage.Role.NOTE):
            text = m.content if m.role == ChatMessage.Role.USER else f"[{m.content}]"
            if out and out[-1].role == "user":
                out[-1].content += "\n\n" + text
            else:
                out.append(Message(role="user", content=text))
        elif m.role == ChatMessage.Role.ASSISTANT:
            calls = [ToolCall(id=c["id"], name=c["name"], arguments=c.get("arguments") or {}) for c in m.tool_calls]
            out.append(Message(role="assistant", content=m.content, tool_calls=calls))
        else:
            out.append(Message(role="tool", content=m.content, tool_call_id=m.tool_call_id))
    return out


def transcript_text(interview: Interview) -> str:
    lines = []
    for m in interview.messages.order_by("seq"):
        if m.role == ChatMessage.Role.USER:
            lines.append(f"Participant: {m.content}")
        elif m.role == ChatMessage.Role.ASSISTANT and m.content:
            lines.append(f"Interviewer: {m.content}")
        elif m.role == ChatMessage.Role.NOTE:
            lines.append(f"Note: {m.content}")
    return "\n".join(line.replace("\n", " ") for line in lines)


def _card_payload(card: ValuesCard) -> dict:
    return {"title": card.title, "description": card.description, "policies": list(card.policies)}


def _context(interview: Interview, purpose: str, prompt) -> gateway.CallContext:
    route = gateway.route_for(interview.participant.study, interview.provider, interview.model)
    return gateway.CallContext(
        purpose=purpose,
        prompt=prompt,
        study=interview.participant.study,
        participant_id=interview.participant_id,
        route=route,
    )


def _load(interview_id: int) -> Interview:
    return Interview.objects.select_related("participant__study", "scenario").get(pk=interview_id)


def _load_with_transcript(interview_id: int) -> tuple[Interview, list[Message]]:
    """What a reply needs from the database, in one trip to it."""
    interview = _load(interview_id)
    return interview, transcript_messages(interview)


def _save_assistant_turn(
    interview_id: int, text: str, tool_calls: list[ToolCall], record, release: uuid.UUID | None = None
) -> ChatMessage:
    """Save the interviewer's turn; with `release`, the reply ends here and
    its token is given back in the same transaction, so a participant who
    submits or answers the moment the turn is complete never finds the
    interviewer still "busy" (under load that gap was seconds)."""
    with transaction.atomic():
        interview = _lock_row(interview_id)
        if release is not None:
            _release(interview_id, release)
        return ChatMessage.objects.create(
            interview=interview,
            seq=_next_seq(interview),
            role=ChatMessage.Role.ASSISTANT,
            content=text,
            tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in tool_calls],
            llm_call=record,
            input_tokens=record.input_tokens if record else 0,
            output_tokens=record.output_tokens if record else 0,
        )


def _save_tool_result(interview_id: int, call_id: str, content: str) -> ChatMessage:
    with transaction.atomic():
        interview = _lock_row(interview_id)
        return ChatMessage.objects.create(
            interview=interview,
            seq=_next_seq(interview),
            role=ChatMessage.Role.TOOL,
            content=content,
            tool_call_id=call_id,
        )


def _articulation_request(interview_id: int, change_request: str | None):
    interview = _load(interview_id)
    prompt = articulator_prompt()
    transcript = transcript_text(interview)
    previous = interview.cards.order_by("-revision").first()
    if previous is not None:
        transcript += "\nPrevious card: " + json.dumps(_card_payload(previous))
    if change_request:
        transcript += "\nChange requested: " + change_request.replace("\n", " ")
    request = ChatRequest(
        model="",
        system=prompt.render(scenario_prompt=interview.scenario.prompt),
        messages=[Message(role="user", content=transcript)],
        max_tokens=800,
        temperature=0,
    )
    return request, _context(interview, "interview.articulate", prompt)


def _save_articulated_card(interview_id: int, fields: dict, record) -> ValuesCard:
    with transaction.atomic():
        interview = _lock(interview_id)
        with participant_context(interview.participant_id):
            return _save_card(interview, source=ValuesCard.Source.ARTICULATOR, llm_call=record, **fields)


async def _articulate(interview_id: int, change_request: str | None) -> tuple[ValuesCard | None, str]:
    """Run the card writer. Returns (card, tool result text for the interviewer).

    Async so that waiting for the model never holds the thread that all
    database work of this process shares."""
    request, ctx = await db_async(_articulation_request)(interview_id, change_request)
    try:
        answer, record = await gateway.structured_async(request, ArticulatorAnswer, ctx)
    except LLMError:
        return None, (
            "CARD NOT WRITTEN: the card writer failed this time. Tell the participant you need a moment "
            "more, and ask one more question about what they pay attention to."
        )
    if answer.card is not None:
        fields = answer.card
        try:
            title, description, policies = _clean_card_fields(fields.title, fields.description, list(fields.policies))
        except InterviewError as err:
            return None, f"CARD NOT WRITTEN: {err.message} Ask one more question, then try again."
        card = await db_async(_save_articulated_card)(
            interview_id, {"title": title, "description": description, "policies": policies}, record
        )
        return card, "CARD SHOWN to the participant: " + json.dumps(_card_payload(card))
    critique = answer.critique or "More is needed."
    return None, f"MORE NEEDED before a card can be written: {critique}"


async def run_reply(interview_id: int, token: uuid.UUID, emit: Emit, claimed: ClaimedTurn | None = None) -> None:
    """Generate the interviewer's reply (and any card it asks for), streaming
    events through `emit`. Always releases the reply token. `claimed`: what
    the claim read, for the first round."""
    heartbeat = asyncio.create_task(_beat(interview_id, token))
    error = ""
    released = False
    try:
        for _round in range(MAX_TOOL_ROUNDS):
            if claimed is not None:
                interview, messages, claimed = claimed.interview, claimed.transcript, None
            else:
                interview, messages = await db_async(_load_with_transcript)(interview_id)
            prompt = interviewer_prompt()
            request = ChatRequest(
                model="",
                system=prompt.render(scenario_prompt=interview.scenario.prompt),
                messages=messages,
                tools=TOOLS,
                max_tokens=700,
            )
            reply_id = uuid.uuid4().hex
            await emit({"type": "reply_started", "reply_id": reply_id})
            call = gateway.stream_chat(request, _context(interview, "interview.reply", prompt))
            try:
                await _stream_deltas(call, reply_id, emit)
            except LLMError as err:
                await emit({"type": "reply_failed", "reply_id": reply_id})
                raise err
            result = call.result
            last = not result.tool_calls
            message = await db_async(_save_assistant_turn)(
                interview_id, result.text, result.tool_calls, call.record, release=token if last else None
            )
            released = last
            if last:
                heartbeat.cancel()  # before the frame: a beat after it would find no token, harmlessly
            await emit({"type": "message_complete", "reply_id": reply_id, "message": message_payload(message)})
            if last:
                return
            for tool_call in result.tool_calls:
                if not await _run_tool(interview_id, tool_call, emit):
                    return
    except LLMError as err:
        error = str(err)
        await emit(
            {
                "type": "error",
                "code": "llm_failed",
                "retry": True,
                "message": "The interviewer could not answer just now. Your message is saved; press Retry.",
            }
        )
    finally:
        heartbeat.cancel()
        if not released:
            await db_async(_release)(interview_id, token, error)


async def _stream_deltas(call, reply_id: str, emit: Emit) -> None:
    """Forward streamed text, coalescing words that arrive within
    DELTA_FLUSH_SECONDS into one frame: the first word goes out at once, and
    a fast model does not cost one websocket frame per token."""
    loop = asyncio.get_running_loop()
    buffer: list[str] = []
    last_flush = 0.0
    async for event in call:
        if isinstance(event, TextDelta):
            buffer.append(event.text)
            now = loop.time()
            if now - last_flush >= DELTA_FLUSH_SECONDS:
                await emit({"type": "delta", "reply_id": reply_id, "text": "".join(buffer)})
                buffer, last_flush = [], now
    if buffer:
        await emit({"type": "delta", "reply_id": reply_id, "text": "".join(buffer)})


async def _run_tool(interview_id: int, tool_call: ToolCall, emit: Emit) -> bool:
    """Carry out one tool call. False when the interview is over."""
    if tool_call.name == "show_values_card":
        try:
            change = ShowValuesCardArgs.model_validate(tool_call.arguments).change_request
        except ValidationError:
            change = None  # unusable arguments: write the card without a change request
        card, result = await _articulate(interview_id, change)
        await db_async(_save_tool_result)(interview_id, tool_call.id, result)
        if card is not None:
            await emit({"type": "card_shown", "card": card.as_dict()})
        return True
    if tool_call.name == "submit_values_card":
        try:
            await match_before_submit(interview_id)
            card = await db_async(submit_card)(interview_id=interview_id, via="interviewer")
        except InterviewError as err:
            await db_async(_save_tool_result)(interview_id, tool_call.id, f"NOT SUBMITTED: {err.message}")
            return True
        await db_async(_save_tool_result)(interview_id, tool_call.id, "SUBMITTED")
        await emit(await db_async(submitted_event)(card))
        return False
    await db_async(_save_tool_result)(interview_id, tool_call.id, f"Unknown tool {tool_call.name!r}.")
    return True


async def _beat(interview_id: int, token: uuid.UUID) -> None:
    while True:
        await asyncio.sleep(heartbeat_seconds())
        await db_async(_heartbeat)(interview_id, token)


def _unsubmitted_card(interview_id: int) -> ValuesCard | None:
    interview = Interview.objects.get(pk=interview_id)
    if interview.status == Interview.Status.SUBMITTED:
        return None
    return interview.cards.order_by("-revision").first()


async def match_before_submit(interview_id: int) -> None:
    """Look for a canonical value that says the same thing (paper 4.5) before
    the card is submitted, so the steps that follow (the participant's
    approval, the relevance draw, which leaves their own value out) know it.
    A failure here must not stop a submission: it is logged, and the batch
    deduplicator takes the card later. Nothing to do once submitted."""
    card = await db_async(_unsubmitted_card)(interview_id)
    if card is None:
        return
    try:
        await match_card_in_chat_async(card.pk)
    except Exception:  # recorded, and the batch deduplicator retries
        log.exception("in-chat match failed for card %s", card.pk)


def submitted_event(card: ValuesCard) -> dict:
    slug = card.interview.participant.study.slug
    return {"type": "submitted", "card": card.as_dict(), "next_url": f"/s/{slug}/journey/"}
