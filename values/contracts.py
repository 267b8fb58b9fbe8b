"""Contracts of the values prompts, and the limits of a values card.

The card limits are defined here once: the articulator's answer contract,
the check of a participant's own edits and the database columns of
ValuesCard and CanonicalValue all use them.
"""

from __future__ import annotations

from pydantic import Field, ValidationError

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


# --- a card as the participant edits it ----------------------------------------------


class CardFields(Contract):
    """The fields of a card written or edited by the participant. Strict: a
    policy that is not text, or is blank, refuses the edit (nothing is
    silently dropped)."""

    title: Text(1, TITLE_MAX)
    description: Text(1, DESCRIPTION_MAX)
    policies: list[Text(1, POLICY_MAX)] = Field(min_length=POLICIES_MIN, max_length=POLICIES_MAX)


_FIELD_NAMES = {"title": "The title", "description": "The description"}
_LIMITS = {"title": TITLE_MAX, "description": DESCRIPTION_MAX, "policies": POLICY_MAX}


def card_problem(err: ValidationError) -> str:
    """The first thing wrong with a card, in the participant's words."""
    error = err.errors(include_url=False)[0]
    loc, kind = error["loc"], error["type"]
    field = loc[0] if loc else ""
    if field == "policies" and len(loc) == 1:
        if kind in ("too_short", "too_long"):
            return f"A card needs {POLICIES_MIN} to {POLICIES_MAX} policies; this one has {len(error['input'])}."
        return "The policies should be a list of texts."
    name = f"Policy {loc[1] + 1}" if field == "policies" else _FIELD_NAMES.get(field, "The card")
    if kind == "missing":
        return f"{name} is missing."
    if kind == "string_too_short":
        return f"{name} is empty."
    if kind == "string_too_long":
        return f"{name} can be at most {_LIMITS[field]} characters."
    return f"{name} should be text."


class TranslationAnswer(CardFields):
    """translator: the card in the requested language (same limits as a card; the service checks that no
    policy was dropped or added)."""
