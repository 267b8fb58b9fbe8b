"""Contracts of the interview prompts: the card writer's answer, the
interviewer's tools, the dialogue grader and the transcript raters."""

from __future__ import annotations

from typing import Annotated, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import Field, ValidationError

from mgeplatform.llm.contracts import Contract, text_limits

# The limits of a values card, defined once: the articulator's answer, the
# check of a participant's own edits and the columns of values.ValuesCard and
# values.CanonicalValue all use them.
TITLE_MAX = 120
DESCRIPTION_MAX = 400
POLICY_MAX = 300
POLICIES_MIN = 1
POLICIES_MAX = 10


# --- a card as the participant edits it ----------------------------------------------


class CardFields(Contract):
    """The fields of a card written or edited by the participant. Strict: a
    policy that is not text, or is blank, refuses the edit (nothing is
    silently dropped)."""

    title: Annotated[str, text_limits(1, TITLE_MAX)]
    description: Annotated[str, text_limits(1, DESCRIPTION_MAX)]
    policies: list[Annotated[str, text_limits(1, POLICY_MAX)]] = Field(min_length=POLICIES_MIN, max_length=POLICIES_MAX)


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


# --- articulator -----------------------------------------------------------------------


class ArticulatedCard(Contract):
    title: Annotated[str, text_limits(2, TITLE_MAX)]
    description: Annotated[str, text_limits(5, DESCRIPTION_MAX)]
    policies: list[Annotated[str, text_limits(3, POLICY_MAX)]] = Field(min_length=POLICIES_MIN, max_length=POLICIES_MAX)


class ArticulatorAnswer(Contract):
    """A card, or a critique saying what is still missing (neither: "more is needed")."""

    card: ArticulatedCard | None = None
    critique: Annotated[str, text_limits(3)] | None = None


# --- interviewer tools (their JSON schemas are generated from these) ----------------------


class ShowValuesCardArgs(Contract):
    change_request: str | None = Field(None, description="What the participant wants changed.")


class SubmitValuesCardArgs(Contract):
    pass


# --- dialogue grader (paper A.4) -------------------------------------------------------------


class Grade(Contract):
    score: int = Field(ge=1, le=5)
    evidence: str | None = None


class Grades(Contract):
    """The nine criteria, all required; their order is the report's."""

    personal_story: Grade
    educated_about_meaning: Grade
    new_perspective: Grade
    no_leading: Grade
    one_question_at_a_time: Grade
    single_source_of_meaning: Grade
    is_source_of_meaning: Grade
    coherent_criteria: Grade
    clear_specific_criteria: Grade


class GradeAnswer(Contract):
    grades: Grades


# --- transcript raters (Fig. 8, Fig. 12) ------------------------------------------------------


class IdeologyAnswer(Contract):
    score: int = Field(ge=1, le=5)
    reason: str | None = None


class ExpertAnswer(Contract):
    answer: Literal["yes", "no"]
    quote: str | None = None
