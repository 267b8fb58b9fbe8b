"""The values card of an interview: the card writer's drafts, the
participant's edits, the in-chat match against existing values, and the
submission that ends the interview (paper 4.3)."""

from __future__ import annotations

import json
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from interviews import card_store, events
from interviews import contracts as card_limits
from interviews.contracts import ArticulatorAnswer
from interviews.language import prompt_language
from interviews.models import ChatMessage, Interview
from interviews.selectors import reply_alive
from interviews.services.transcript import (
    InterviewError,
    _context,
    _load,
    _lock,
    _next_seq,
    articulator_prompt,
    transcript_text,
)
from mgeplatform import inputs
from mgeplatform.asyncdb import db_async
from mgeplatform.audit import participant_context, record_event
from mgeplatform.llm import gateway
from mgeplatform.llm.providers.offline import OfflineProvider
from mgeplatform.llm.types import ChatRequest, LLMError, Message
from studies import steps
from studies.models import Participant, Step

log = logging.getLogger(__name__)
Card = card_store.Card


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


def _save_card(interview: Interview, *, title, description, policies, source, llm_call=None) -> Card:
    """A new revision. It is scripted when the offline provider wrote it (whatever the interview's route said:
    a missing key falls back to the script), or when it edits a scripted card (the wording started as the
    script's)."""
    latest = interview.cards.order_by("-revision").values("revision", "scripted").first()
    revision = (latest["revision"] if latest else 0) + 1
    if llm_call is not None:
        scripted = llm_call.provider == OfflineProvider.name
    else:
        scripted = bool(latest and latest["scripted"])
    return card_store.store().create(
        interview,
        revision=revision,
        title=title,
        description=description,
        policies=policies,
        source=source,
        llm_call=llm_call,
        scripted=scripted,
    )


def edit_card(*, interview_id: int, title, description, policies) -> Card:
    """The participant edits the card directly: a new revision, and a note so
    the interviewer knows what changed."""
    title, description, policies = _clean_card_fields(title, description, policies)
    with transaction.atomic():
        interview = _lock(interview_id)
        if interview.status != Interview.Status.ACTIVE:
            raise InterviewError("closed", _("This interview is finished; the card can no longer change."))
        if not interview.cards.exists():
            raise InterviewError("no_card", _("There is no card to edit yet."))
        with participant_context(interview.participant_id):
            card = _save_card(
                interview,
                title=title,
                description=description,
                policies=policies,
                source=card_store.PARTICIPANT_EDIT,
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


def submit_card(*, interview_id: int, via: str = "participant") -> Card:
    """Submit the current card and move the participant on. Idempotent.

    Refused as busy while the interviewer is answering (unless the
    interviewer itself submits, from inside its reply): the reply would go on
    writing messages and card revisions after the submission."""
    with transaction.atomic():
        interview = _lock(interview_id)
        card = interview.cards.order_by("-revision").first()
        if card is None:
            raise InterviewError("no_card", _("There is no card to submit yet."))
        if interview.status == Interview.Status.SUBMITTED:
            return card
        if via != "interviewer" and reply_alive(interview):
            raise InterviewError("busy", _("Please wait for the interviewer to finish answering, then submit."))
        now = timezone.now()
        participant = Participant.objects.select_for_update().get(pk=interview.participant_id)
        with participant_context(participant.pk):
            card.submitted, card.submitted_at = True, now
            card.save(update_fields=["submitted", "submitted_at"])
            card_store.store().submitted(card)  # after commit, its rendering when written in another language
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


def _card_payload(card: Card) -> dict:
    return {"title": card.title, "description": card.description, "policies": list(card.policies)}


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
        system=prompt.render(scenario_prompt=interview.scenario.prompt, **prompt_language(interview.participant)),
        messages=[Message(role="user", content=transcript)],
        max_tokens=800,
        temperature=0,
    )
    return request, _context(interview, "interview.articulate", prompt)


def _save_articulated_card(interview_id: int, fields: dict, record) -> Card:
    with transaction.atomic():
        interview = _lock(interview_id)
        with participant_context(interview.participant_id):
            return _save_card(interview, source=card_store.ARTICULATOR, llm_call=record, **fields)


async def _articulate(interview_id: int, change_request: str | None) -> tuple[Card | None, str]:
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


def _unsubmitted_card(interview_id: int) -> Card | None:
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
        await card_store.store().match_in_chat(card.pk)
    except Exception:  # recorded, and the batch deduplicator retries
        log.exception("in-chat match failed for card %s", card.pk)


def submitted_event(card: Card) -> dict:
    slug = card.interview.participant.study.slug
    return {"type": "submitted", "card": card.as_dict(), "next_url": f"/s/{slug}/journey/"}
