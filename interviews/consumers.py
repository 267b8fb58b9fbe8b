"""Websockets for the participant journey and the values interview.

Both are bound to the participant through the session cookie, never an id in
the URL. The interview protocol is documented in docs/interview-protocol.md.
"""

from __future__ import annotations

import asyncio
import logging

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from interviews import interview_services as chat
from interviews import selectors
from interviews.models import Interview, Step
from mgeplatform.asyncdb import db_async

log = logging.getLogger(__name__)

CLOSE_NOT_A_PARTICIPANT = 4403
CLOSE_NO_INTERVIEW = 4404


def participant_group(participant_id) -> str:
    return f"participant.{participant_id}"


def interview_group(interview_id) -> str:
    return f"interview.{interview_id}"


class ParticipantConsumer(AsyncJsonWebsocketConsumer):
    """Session-bound socket that answers junk with error frames, not crashes."""

    participant = None
    max_frame_chars = 64_000

    async def connect(self):
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.participant = await db_async(self._load_participant)(slug)
        if self.participant is None:
            await self.close(code=CLOSE_NOT_A_PARTICIPANT)
            return
        await self.participant_connected()

    async def participant_connected(self):
        raise NotImplementedError

    def _load_participant(self, slug):
        study = selectors.get_study(slug)
        session = self.scope.get("session")
        if study is None or session is None:
            return None
        participant = selectors.participant_for_session(session, study)
        if participant is not None:
            participant.study  # load the study while we are in a sync thread
        return participant

    async def error(self, code: str, message: str, **extra):
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.error("malformed", "Only text frames are accepted.")
            return
        if len(text_data) > self.max_frame_chars:
            await self.error("too_long", "That message is too long to send.")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.error("malformed", "The message was not valid JSON.")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.error("malformed", "Expected a JSON object with a type.")
            return
        handler = getattr(self, "on_" + content["type"], None) if content["type"].isidentifier() else None
        if handler is None:
            await self.error("unknown_type", f"Unknown message type {content['type'][:40]!r}.")
            return
        await handler(content)

    async def on_ping(self, content):
        await self.send_json({"type": "pong"})


class JourneyConsumer(ParticipantConsumer):
    async def participant_connected(self):
        self.group = participant_group(self.participant.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(self._state())

    def _state(self):
        return {"type": "state", "step": self.participant.current_step}

    async def disconnect(self, code):
        if self.participant is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def on_state(self, content):
        await db_async(self.participant.refresh_from_db)()
        await self.send_json(self._state())

    async def journey_state(self, event):
        """Pushed by services when the participant's step changes elsewhere."""
        await self.send_json({"type": "state", "step": event["step"]})


class InterviewConsumer(ParticipantConsumer):
    """The interview chat. Every event about the interview goes to the
    interview's group, so two tabs show the same conversation."""

    interview_id = None
    reply_task: asyncio.Task | None = None

    @property
    def max_frame_chars(self):
        return settings.INTERVIEW_MAX_MESSAGE_CHARS * 6 + 2_000

    async def participant_connected(self):
        interview = await db_async(self._interview)()
        if interview is None:
            await self.close(code=CLOSE_NO_INTERVIEW)
            return
        self.interview_id = interview.pk
        self.group = interview_group(interview.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await db_async(selectors.interview_snapshot)(interview))
        # A participant turn left unanswered (a dropped connection, a server
        # restart mid-reply) is answered now.
        await self.start_reply_if_due()

    def _interview(self):
        if self.participant.current_step not in (Step.INTERVIEW, Step.RELEVANCE):
            return None
        return selectors.active_interview(self.participant)

    async def disconnect(self, code):
        if self.interview_id is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        # A reply in progress keeps going: its text is saved for the next visit.

    async def broadcast(self, event: dict):
        await self.channel_layer.group_send(self.group, {"type": "interview.event", "event": event})

    async def interview_event(self, message):
        await self.send_json(message["event"])

    async def start_reply_if_due(self):
        token = await db_async(chat.claim_reply)(self.interview_id)
        if token is None:
            return
        self.reply_task = asyncio.create_task(self._reply(token))

    async def _reply(self, token):
        try:
            await chat.run_reply(self.interview_id, token, self.broadcast)
        except Exception:  # never leave the participant without a word
            log.exception("interview %s: reply failed", self.interview_id)
            await self.broadcast({"type": "error", "code": "server_error", "retry": True,
                                  "message": "Something went wrong on our side. Your message is saved; press Retry."})

    async def _act(self, fn, **kwargs):
        try:
            return await db_async(fn)(interview_id=self.interview_id, **kwargs)
        except chat.InterviewError as err:
            await self.error(err.code, err.message)
            return None

    async def on_user_message(self, content):
        text, client_id = content.get("text"), content.get("client_id", "")
        if not isinstance(text, str) or not isinstance(client_id, str):
            await self.error("malformed", "A user_message needs text.")
            return
        result = await self._act(chat.add_user_message, text=text, client_message_id=client_id)
        if result is None:
            return
        message, created = result
        if created:
            await self.broadcast({"type": "message", "message": chat.message_payload(message)})
        else:
            await self.send_json({"type": "message", "message": chat.message_payload(message)})
        await self.start_reply_if_due()

    async def on_retry(self, content):
        if await db_async(self._is_busy)():
            await self.error("busy", "The interviewer is already answering.")
            return
        await self.start_reply_if_due()

    def _is_busy(self):
        return chat._reply_alive(Interview.objects.get(pk=self.interview_id))

    async def on_card_edit(self, content):
        card = await self._act(chat.edit_card, title=content.get("title"), description=content.get("description"),
                               policies=content.get("policies"))
        if card is not None:
            await self.broadcast({"type": "card_shown", "card": card.as_dict()})

    async def on_submit(self, content):
        already = await db_async(self._is_submitted)()
        card = await self._act(chat.submit_card)
        if card is not None:
            if not already:
                await chat.after_submit(card)
            await self.broadcast(await db_async(chat.submitted_event)(card))

    def _is_submitted(self):
        return Interview.objects.filter(pk=self.interview_id, status=Interview.Status.SUBMITTED).exists()

    async def on_state(self, content):
        interview = await db_async(Interview.objects.select_related("scenario", "participant__study").get)(
            pk=self.interview_id)
        await self.send_json(await db_async(selectors.interview_snapshot)(interview))
