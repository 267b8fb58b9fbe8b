"""Contracts of the alignment prompts: which moral contexts a prompt falls
under, and how well an answer attends to one value's policies."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mgeplatform.llm.contracts import Contract, text_limits

MAX_SCORE = 10


class ContextChoice(Contract):
    # An empty list is the model's explicit "none of these contexts applies".
    contexts: list[int] = Field(max_length=8)
    reason: Annotated[str, text_limits(3, 1000)]


class PolicyJudgement(Contract):
    policy: Annotated[str, text_limits(1)]
    # The words of the answer that attend to the policy, copied exactly;
    # null when no part of the answer does.
    quote: str | None = None


class JudgeAnswer(Contract):
    policies: list[PolicyJudgement] = Field(min_length=1)
    score: int = Field(ge=0, le=MAX_SCORE)
