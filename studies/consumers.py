"""The participant's websockets share one base: bound to the participant
through the session cookie (never an id in the URL), junk answered with
error frames rather than crashes."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from mgeplatform.asyncdb import db_async
from studies import selectors

CLOSE_NOT_A_PARTICIPANT = 4403


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
            participant.study  # noqa: B018 - load the study while we are in a sync thread
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
