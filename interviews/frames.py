"""The frames the interview socket sends (see studies/frames.py): what
mgeplatform/static/mge/interview.js reads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from studies import frames
from studies.frames import Frame


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessagePart(_Part):
    seq: int
    role: str
    content: str
    client_message_id: str
    created_at: str


class CardPart(_Part):
    id: int
    revision: int
    title: str
    description: str
    policies: list[str]
    source: str
    scripted: bool
    submitted: bool


class InterviewPart(_Part):
    id: int
    status: str
    scenario: dict[str, str]
    offline: bool
    offline_reason: str


class InterviewState(Frame):
    """Everything a (re)connecting page needs to draw the interview."""

    type: Literal["state"]
    interview: InterviewPart
    messages: list[MessagePart]
    card: CardPart | None
    replying: bool
    awaiting_reply: bool
    last_error: bool
    limits: dict[str, int]


class Message(Frame):
    type: Literal["message"]
    message: MessagePart


class ReplyStarted(Frame):
    type: Literal["reply_started"]
    reply_id: str


class ReplyFailed(Frame):
    type: Literal["reply_failed"]
    reply_id: str


class Delta(Frame):
    type: Literal["delta"]
    reply_id: str
    text: str


class MessageComplete(Frame):
    type: Literal["message_complete"]
    reply_id: str
    message: MessagePart


class CardShown(Frame):
    type: Literal["card_shown"]
    card: CardPart


class Submitted(Frame):
    type: Literal["submitted"]
    card: CardPart
    next_url: str


INTERVIEW = (
    *frames.BASE,
    InterviewState,
    Message,
    ReplyStarted,
    ReplyFailed,
    Delta,
    MessageComplete,
    CardShown,
    Submitted,
)
