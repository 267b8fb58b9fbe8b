"""Contracts of the values prompts, and the limits of a values card.

The card limits are defined here once: the articulator's answer contract,
the check of a participant's own edits and the database columns of
ValuesCard and CanonicalValue all use them.
"""

from __future__ import annotations

from mgeplatform.llm.contracts import Contract, Text

TITLE_MAX = 120
DESCRIPTION_MAX = 400
POLICY_MAX = 300
POLICIES_MIN = 1
POLICIES_MAX = 10


class MatchAnswer(Contract):
    """deduplicator: the id of the canonical value the card matches, or null."""

    match: int | None  # required, but null says "no match"
    reason: Text() | None = None


class BestCardAnswer(Contract):
    """best_card: the id of the best-written card of a cluster."""

    best: int
    reason: Text() | None = None
