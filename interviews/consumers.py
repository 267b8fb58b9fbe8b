"""Websocket endpoint for a participant's journey.

The interview chat (a later issue) builds on this: the connection is bound
to the participant through the session cookie, never an id in the URL.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from interviews import selectors

CLOSE_NOT_A_PARTICIPANT = 4403


def participant_group(participant_id) -> str:
    return f"participant.{participant_id}"


class JourneyConsumer(AsyncJsonWebsocketConsumer):
    participant = None

    async def connect(self):
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.participant = await database_sync_to_async(self._load)(slug)
        if self.participant is None:
            await self.close(code=CLOSE_NOT_A_PARTICIPANT)
            return
        self.group = participant_group(self.participant.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(self._state())

    def _load(self, slug):
        study = selectors.get_study(slug)
        session = self.scope.get("session")
        if study is None or session is None:
            return None
        return selectors.participant_for_session(session, study)

    def _state(self):
        return {"type": "state", "step": self.participant.current_step}

    async def disconnect(self, code):
        if self.participant is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json({"type": "error", "code": "malformed", "message": "Expected a JSON object with a type."})
            return
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
        elif content["type"] == "state":
            await database_sync_to_async(self.participant.refresh_from_db)()
            await self.send_json(self._state())
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "message": f"Unknown message type {content['type']!r}."})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.send_json({"type": "error", "code": "malformed", "message": "Only text frames are accepted."})
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "malformed", "message": "The message was not valid JSON."})
            return
        await self.receive_json(content, **kwargs)

    async def journey_state(self, event):
        """Pushed by services when the participant's step changes elsewhere."""
        await self.send_json({"type": "state", "step": event["step"]})
