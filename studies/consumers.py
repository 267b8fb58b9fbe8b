"""The participant's websockets share one base: bound to the participant
through the session cookie (never an id in the URL), junk answered with
error frames rather than crashes."""

from __future__ import annotations

import logging

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from mgeplatform import inputs
from mgeplatform.asyncdb import db_async
from studies import frames, languages, selectors

log = logging.getLogger(__name__)

CLOSE_NOT_A_PARTICIPANT = 4403


class ParticipantConsumer(AsyncJsonWebsocketConsumer):
    """Session-bound socket that answers junk with error frames, not crashes."""

    participant = None
    max_frame_chars = 64_000
    # The frames this socket sends (studies/frames.py): checked on the way out.
    frames: tuple[type[frames.Frame], ...] = frames.BASE

    async def connect(self):
        # Accept before any database work. The server gives a handshake 5 s
        # to be accepted; at a burst of hundreds of connects, loading the
        # participant first through the connection pool took longer than that
        # and the browser saw a failed handshake. Accepting first also lets a
        # refusal carry our close code (a socket closed during the handshake
        # reaches the browser as 1006, whatever code was given).
        await self.accept()
        slug = self.scope["url_route"]["kwargs"]["slug"]
        self.participant = await db_async(self._load_participant)(slug)
        if self.participant is None:
            await self.refuse(CLOSE_NOT_A_PARTICIPANT)
            return
        await self.participant_connected()

    async def dispatch(self, message):
        # Channels' own dispatch first hops to its one shared sync thread to
        # close stale database connections, for every frame received and
        # every group event sent out: with a reply streaming to hundreds of
        # tabs, that queue of hops was a twentieth of the web process's time.
        # These consumers never touch the database on that thread: all their
        # queries go through db_async, which returns its connection itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def refuse(self, code: int):
        """Close the (already accepted) socket with one of our codes."""
        await self.close(code=code)

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

    async def send_json(self, content, close=False):
        await super().send_json(frames.check(content, self.frames), close=close)

    async def error(self, code: str, message: str, **extra):
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # What the socket says back (refusals, errors) is in the participant's language.
        language = languages.participant_language(self.participant) if self.participant else settings.LANGUAGE_CODE
        with translation.override(language):
            await self._receive(text_data)

    async def _receive(self, text_data):
        try:
            content = inputs.parse_frame(text_data, max_chars=self.max_frame_chars)
        except inputs.BadInput as err:
            await self.error(err.code, err.message)
            return
        handler = getattr(self, "on_" + content["type"], None) if content["type"].isidentifier() else None
        if handler is None:
            await self.error("unknown_type", f"Unknown message type {content['type'][:40]!r}.")
            return
        try:
            await handler(content)
        except Exception:  # a bug must not close the socket: the client would resend the same frame
            log.exception("%s: %s frame failed", type(self).__name__, content["type"])
            await self.error("server_error", _("Something went wrong on our side. Please try again."))

    async def on_ping(self, content):
        await self.send_json({"type": "pong"})
