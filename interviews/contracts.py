"""Contracts of the interview prompts: the card writer's answer, the
interviewer's tools, the dialogue grader and the transcript raters."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mgeplatform.llm.contracts import Contract, text_limits
from values.contracts import DESCRIPTION_MAX, POLICIES_MAX, POLICIES_MIN, POLICY_MAX, TITLE_MAX

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
