"""Contracts of the values prompts, and the limits of a values card.

The card limits are defined here once: the articulator's answer contract,
the check of a participant's own edits and the database columns of
ValuesCard and CanonicalValue all use them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
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


# What the participant reads when their edit is refused: whole sentences, so
# that each language can word them (a name + "is empty" cannot agree in gender).
_PROBLEMS = {
    "title": {
        "missing": gettext_noop("The title is missing."),
        "string_too_short": gettext_noop("The title is empty."),
        "string_too_long": gettext_noop("The title can be at most %(max)s characters."),
        "other": gettext_noop("The title should be text."),
    },
    "description": {
        "missing": gettext_noop("The description is missing."),
        "string_too_short": gettext_noop("The description is empty."),
        "string_too_long": gettext_noop("The description can be at most %(max)s characters."),
        "other": gettext_noop("The description should be text."),
    },
    "policies": {
        "missing": gettext_noop("Policy %(number)s is missing."),
        "string_too_short": gettext_noop("Policy %(number)s is empty."),
        "string_too_long": gettext_noop("Policy %(number)s can be at most %(max)s characters."),
        "other": gettext_noop("Policy %(number)s should be text."),
    },
    "": {
        "missing": gettext_noop("The card is missing."),
        "string_too_short": gettext_noop("The card is empty."),
        "string_too_long": gettext_noop("The card is too long."),
        "other": gettext_noop("The card should be text."),
    },
}
_LIMITS = {"title": TITLE_MAX, "description": DESCRIPTION_MAX, "policies": POLICY_MAX}


def card_problem(err: ValidationError) -> str:
    """The first thing wrong with a card, in the participant's words and language."""
    error = err.errors(include_url=False)[0]
    loc, kind = error["loc"], error["type"]
    field = str(loc[0]) if loc else ""
    if field == "policies" and len(loc) == 1:
        if kind in ("too_short", "too_long"):
            return _("A card needs %(min)s to %(max)s policies; this one has %(count)s.") % {
                "min": POLICIES_MIN,
                "max": POLICIES_MAX,
                "count": len(error["input"]),
            }
        return _("The policies should be a list of texts.")
    texts = _PROBLEMS.get(field, _PROBLEMS[""])
    number = loc[1] + 1 if field == "policies" and len(loc) > 1 and isinstance(loc[1], int) else 1
    return _(texts.get(kind, texts["other"])) % {"max": _LIMITS.get(field, ""), "number": number}


class TranslationAnswer(CardFields):
    """translator: the card in the requested language (same limits as a card; the service checks that no
    policy was dropped or added)."""
