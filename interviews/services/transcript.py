"""The interview's transcript: choosing the scenario, saving the participant's
turns (a resend never duplicates one), and the transcript the model is sent.

Durability rules: the participant's turn is saved before the model is
called; the interviewer's turn is saved when complete; a reply is guarded by
a token with a heartbeat, so only one runs at a time and one whose server
died is taken over by the next connection (`replies`)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from interviews import events
from interviews.models import ChatMessage, Interview
from interviews.selectors import reply_alive
from mgeplatform import inputs
from mgeplatform.audit import participant_context, record_event
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.prompts import load as load_prompt
from mgeplatform.llm.types import Message, ToolCall
from studies import arms, languages, steps
from studies.models import Participant, Scenario, Step

log = logging.getLogger(__name__)


class InterviewError(Exception):
    """A participant action that cannot be done; `code` goes to the client."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# Other versions of the interviewer, for arms that ask for one: interviews/prompts/interviewer.v<version>.md.
VERSIONS_DIR = Path(__file__).resolve().parent.parent / "prompts"


def interviewer_prompt(version: str | None = None, *, strict: bool = False):
    """The interviewer prompt, or another `version` of it (an arm's,
    studies.arms). A version without its file is refused when `strict` (an
    interview starting), else the current prompt is used (an interview begun
    under a version since retired)."""
    current = app_prompt(__file__, "interviewer")
    if version is None or str(version) == current.version:
        return current
    path = VERSIONS_DIR / f"interviewer.v{version}.md"
    if path.exists():
        return load_prompt(path)
    if strict:
        raise InterviewError("bad_prompt", f"There is no interviewer prompt version {version} ({path.name}).")
    return current


def check_interviewer_version(version: str) -> None:
    """An arm's interviewer prompt version must have its file (studies.arm_settings checks)."""
    if str(version) != app_prompt(__file__, "interviewer").version:
        path = VERSIONS_DIR / f"interviewer.v{version}.md"
        if not path.exists():
            raise ValueError(f"there is no interviewer prompt version {version} (interviews/prompts/{path.name})")


def articulator_prompt():
    return app_prompt(__file__, "articulator")


def greeting(scenario: Scenario, language: str | None = None) -> str:
    """The interview's first turn, in the participant's language (the question as the coordinators wrote it)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return (
            _("Help us figure out how an AI assistant should respond to questions like this one:")
            + f"\n\n\u201c{scenario.prompt}\u201d\n\n"
            + _("Everyone's input helps! Say what you think should be considered in the response.")
        )


@transaction.atomic
def choose_scenario(*, participant: Participant, scenario: Scenario) -> Interview:
    """Start (or return) the participant's interview. Idempotent."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    existing = Interview.objects.filter(participant=participant, status=Interview.Status.ACTIVE).first()
    if existing is not None:
        return existing
    if not arms.offered_scenarios(participant).filter(pk=scenario.pk).exists():
        raise InterviewError("bad_scenario", _("That question is not part of this study."))
    route = gateway.resolve(arms.interviewer_settings(participant))
    interviewer = interviewer_prompt(arms.effective(participant, "interviewer_prompt_version"), strict=True)
    prompts = {p.name: {"version": p.version, "hash": p.sha256} for p in (interviewer, articulator_prompt())}
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
            interview=interview,
            seq=1,
            role=ChatMessage.Role.ASSISTANT,
            content=greeting(scenario, languages.participant_language(participant)),
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
    scenarios = arms.offered_scenarios(participant)
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
        raise InterviewError("empty", _("Please write something first."))
    limit = settings.INTERVIEW_MAX_MESSAGE_CHARS
    if len(text) > limit:
        raise InterviewError(
            "too_long",
            _("Messages can be at most %(max)s characters; yours has %(count)s.")
            % {"max": f"{limit:,}", "count": f"{len(text):,}"},
        )
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
                raise InterviewError("closed", _("This interview is finished; your card was submitted."))
            if reply_alive(interview):
                raise InterviewError("busy", _("Please wait for the interviewer to finish answering."))
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
