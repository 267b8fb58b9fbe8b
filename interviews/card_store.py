"""Where the interview keeps the cards it writes.

The values app owns the card (`values.ValuesCard`), its pivot rendering and
the in-chat match; it points at the interview a card came from. So that
interviews never imports values (the apps depend one way), values hands its
card functions over here from `ValuesConfig.ready()`, and the interview's
services call them through `store()`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# Who wrote a card revision (the values of values.ValuesCard.Source).
ARTICULATOR = "articulator"
PARTICIPANT_EDIT = "participant_edit"

Card = Any  # values.ValuesCard


@dataclass(frozen=True)
class CardStore:
    # A new revision of the interview's card: (interview, revision=, title=, description=, policies=,
    # source=, llm_call=, scripted=) -> the card, in the participant's language.
    create: Callable[..., Card]
    # Inside the submitting transaction: what happens to a submitted card after commit (its rendering).
    submitted: Callable[[Card], Any]
    # Before submission: look for a canonical value that says the same thing (card id).
    match_in_chat: Callable[[int], Awaitable[Any]]


_store: CardStore | None = None


def register(card_store: CardStore) -> None:
    global _store
    _store = card_store


def store() -> CardStore:
    if _store is None:
        raise RuntimeError("No card store is registered: the values app registers one when it is installed.")
    return _store
