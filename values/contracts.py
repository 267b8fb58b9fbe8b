"""Contracts of the values prompts. The limits of a values card and the
check of a participant's edits are defined in interviews.contracts (the
interview writes cards) and named here for the values app's readers."""

from __future__ import annotations

from typing import Annotated

from interviews.contracts import (  # the card's limits and its edit check are the interview's (it writes cards)
    DESCRIPTION_MAX,
    POLICIES_MAX,
    POLICIES_MIN,
    POLICY_MAX,
    TITLE_MAX,
    CardFields,
    card_problem,
)
from mgeplatform.llm.contracts import Contract, text_limits

__all__ = [
    "DESCRIPTION_MAX",
    "POLICIES_MAX",
    "POLICIES_MIN",
    "POLICY_MAX",
    "TITLE_MAX",
    "BestCardAnswer",
    "CardFields",
    "MatchAnswer",
    "TranslationAnswer",
    "card_problem",
]


class MatchAnswer(Contract):
    """deduplicator: the id of the canonical value the card matches, or null."""

    match: int | None  # required, but null says "no match"
    reason: Annotated[str, text_limits()] | None = None


class BestCardAnswer(Contract):
    """best_card: the id of the best-written card of a cluster."""

    best: int
    reason: Annotated[str, text_limits()] | None = None


class TranslationAnswer(CardFields):
    """translator: the card in the requested language (same limits as a card; the service checks that no
    policy was dropped or added)."""
