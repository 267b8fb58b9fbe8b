"""The journey websocket: the participant's current step, pushed again
whenever the step-transition service moves them (docs/architecture.md)."""

from __future__ import annotations

from mgeplatform.asyncdb import db_async
from studies import frames
from studies.consumers import ParticipantConsumer
from studies.steps import participant_group


class JourneyConsumer(ParticipantConsumer):
    frames = (*frames.BASE, frames.JourneyState)

    async def participant_connected(self):
        self.group = participant_group(self.participant.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(self._state())

    def _state(self):
        return {"type": "state", "step": self.participant.current_step}

    async def disconnect(self, code):
        if self.participant is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def on_state(self, content):
        await db_async(self.participant.refresh_from_db)()
        await self.send_json(self._state())

    async def participant_state(self, event):
        """Pushed by services when the participant's step changes elsewhere,
        or (refresh) when their step has something new to show."""
        if event.get("refresh"):
            await self.send_json({"type": "state", "step": self.participant.current_step, "refresh": True})
        else:
            await self.send_json({"type": "state", "step": event["step"]})

    # The type's name before it moved to the base layer's namespace: a web
    # process not yet restarted may still send it during a rolling restart.
    journey_state = participant_state
