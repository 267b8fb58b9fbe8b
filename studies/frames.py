"""The frames the participant's websockets send, typed with pydantic.

Each socket declares the frames it may send (`ParticipantConsumer.frames`, a
tuple of models told apart by their `type`); every frame is checked against
them on its way out (`check`), so a frame whose shape drifts from what the
page's JavaScript reads fails a test rather than a participant's page. With
settings.WEBSOCKET_FRAMES_STRICT off (production), a frame that does not fit
is logged and sent anyway: the page may still cope, and dropping it would not
help the participant."""

from __future__ import annotations

import logging
from functools import cache
from typing import Literal, get_args

from django.conf import settings
from pydantic import BaseModel, ConfigDict, ValidationError

log = logging.getLogger(__name__)


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(Frame):
    type: Literal["error"]
    code: str
    message: str = ""
    retry: bool | None = None


class Pong(Frame):
    type: Literal["pong"]


class JourneyState(Frame):
    """The journey socket: the participant's step, or "load again"."""

    type: Literal["state"]
    step: str
    refresh: bool | None = None


BASE = (Error, Pong)


class FrameError(ValueError):
    """A frame that fits none of the socket's declared frames."""


@cache
def _by_type(models: tuple[type[Frame], ...]) -> dict[str, type[Frame]]:
    return {get_args(model.model_fields["type"].annotation)[0]: model for model in models}


def check(content: dict, models: tuple[type[Frame], ...]) -> dict:
    """`content` if it is one of `models` (by its type, then its shape)."""
    model = _by_type(models).get(str(content.get("type")))
    try:
        if model is None:
            raise FrameError(f"a {content.get('type')!r} frame is not one this socket sends")
        model.model_validate(content)
    except (FrameError, ValidationError) as err:
        if getattr(settings, "WEBSOCKET_FRAMES_STRICT", False):
            raise FrameError(str(err)) from err
        log.error("websocket frame of an undeclared shape: %s", err)
    return content
