"""The values interview's websocket; the protocol is documented in
docs/interview-protocol.md."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.utils.translation import gettext as _

from interviews import frames, selectors
from interviews import services as chat
from mgeplatform.asyncdb import db_async
from studies.consumers import ParticipantConsumer
from studies.models import Step

log = logging.getLogger(__name__)

CLOSE_NO_INTERVIEW = 4404


def interview_group(interview_id) -> str:
    return f"interview.{interview_id}"


class InterviewConsumer(ParticipantConsumer):
    """The interview chat. Every event about the interview goes to the
    interview's group, so two tabs show the same conversation."""

    frames = frames.INTERVIEW
    interview_id = None
    reply_task: asyncio.Task | None = None
    watch_task: asyncio.Task | None = None

    @property
    def max_frame_chars(self):
        return settings.INTERVIEW_MAX_MESSAGE_CHARS * 6 + 2_000

    async def participant_connected(self):
        interview = await db_async(self._interview)()
        if interview is None:
            await self.refuse(CLOSE_NO_INTERVIEW)
            return
        self.interview_id = interview.pk
        self.group = interview_group(interview.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(await db_async(selectors.interview_snapshot)(interview))
        # A participant turn left unanswered (a dropped connection, a server
        # restart mid-reply) is answered now, or, while a dead server's
        # heartbeat is still fresh, as soon as it goes stale.
        if not await self.start_reply_if_due():
            self.watch_reply()

    def _interview(self):
        if self.participant.current_step not in (Step.INTERVIEW, Step.RELEVANCE):
            return None
        return selectors.active_interview(self.participant)

    async def disconnect(self, code):
        if self.watch_task is not None:
            self.watch_task.cancel()
        if self.interview_id is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        # A reply in progress keeps going: its text is saved for the next visit.

    async def broadcast(self, event: dict):
        await self.channel_layer.group_send(self.group, {"type": "interview.event", "event": event})

    async def interview_event(self, message):
        await self.send_json(message["event"])
        if message["event"]["type"] in ("message", "reply_started") and not self._replying():
            self.watch_reply()  # whichever process answers, this tab stands by

    def _replying(self) -> bool:
        """This tab's own task is writing the reply (so there is nothing to watch)."""
        return self.reply_task is not None and not self.reply_task.done()

    async def start_reply_if_due(self) -> bool:
        token = await db_async(chat.claim_reply)(self.interview_id)
        if token is None:
            return False
        self.reply_task = asyncio.create_task(self._reply(token))
        return True

    def watch_reply(self):
        if self.watch_task is None or self.watch_task.done():
            self.watch_task = asyncio.create_task(self._watch_reply())

    async def _watch_reply(self):
        """Take over a reply whose server died, without waiting for a reload:
        check again when its heartbeat would go stale; stop once no reply is
        awaited (answered, failed, or taken by someone alive who finishes)."""
        while True:
            try:
                due_in = await db_async(chat.takeover_due_in)(self.interview_id)
                if due_in is None:
                    return
                if due_in == 0 and await self.start_reply_if_due():
                    return
            except Exception as err:  # noqa: BLE001 - the database may be restarting: look again shortly
                log.warning("interview %s: reply watch: %s", self.interview_id, err)
                due_in = chat.heartbeat_seconds()
            await asyncio.sleep(max(due_in, 0.2) + 0.1)

    async def _reply(self, token, claimed=None):
        try:
            await chat.run_reply(self.interview_id, token, self.broadcast, claimed)
        except Exception:  # never leave the participant without a word
            log.exception("interview %s: reply failed", self.interview_id)
            await self.broadcast(
                {
                    "type": "error",
                    "code": "server_error",
                    "retry": True,
                    "message": _("Something went wrong on our side. Your message is saved; press Retry."),
                }
            )

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
        result = await self._act(chat.add_user_message_and_claim_reply, text=text, client_message_id=client_id)
        if result is None:
            return
        message, created, token, claimed = result
        if created:
            await self.broadcast({"type": "message", "message": selectors.message_payload(message)})
        else:
            await self.send_json({"type": "message", "message": selectors.message_payload(message)})
        if token is not None:  # claimed with the turn (the echo, handled after this, finds this tab replying)
            self.reply_task = asyncio.create_task(self._reply(token, claimed))
        else:
            await self.start_reply_if_due()

    async def on_retry(self, content):
        if await db_async(self._is_busy)():
            await self.error("busy", _("The interviewer is already answering."))
            self.watch_reply()  # if that answer's server has died, it is taken over here
            return
        await self.start_reply_if_due()

    def _is_busy(self):
        return selectors.interview_busy(self.interview_id)

    async def on_card_edit(self, content):
        card = await self._act(
            chat.edit_card,
            title=content.get("title"),
            description=content.get("description"),
            policies=content.get("policies"),
        )
        if card is not None:
            await self.broadcast({"type": "card_shown", "card": card.as_dict()})

    async def on_submit(self, content):
        # Checked again under the row lock in submit_card; this spares the match's model call.
        if await db_async(self._is_busy)():
            await self.error("busy", _("Please wait for the interviewer to finish answering, then submit."))
            return
        await chat.match_before_submit(self.interview_id)
        card = await self._act(chat.submit_card)
        if card is not None:
            await self.broadcast(await db_async(chat.submitted_event)(card))

    async def on_state(self, content):
        await self.send_json(await db_async(selectors.interview_state)(self.interview_id))
