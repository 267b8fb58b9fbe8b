"""Contracts of the graph prompts (moral contexts, pairing, the story chain)
and of the moral-graph files we import (docs/moral-graph-format.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mgeplatform.llm.contracts import Contract, text_limits

CONTEXT_MAX = 200  # MoralContext.text


# --- prompts ------------------------------------------------------------------------


class ContextsAnswer(Contract):
    contexts: list[Annotated[str, text_limits(6, CONTEXT_MAX)]] = Field(min_length=1, max_length=8)


class ValuePair(Contract):
    from_: int = Field(alias="from")
    to: int
    context: int
    reason: str | None = None


class PairsAnswer(Contract):
    pairs: list[ValuePair] = Field(max_length=40)


class PolicyChange(Contract):
    policy: Annotated[str, text_limits(1)]
    change: Annotated[str, text_limits(5)]


class ReasoningAnswer(Contract):
    shared_meaning: Annotated[str, text_limits(10)]
    clarification: Annotated[str, text_limits(10)]
    policy_changes: list[PolicyChange] = Field(min_length=1)


class StoryAnswer(Contract):
    story: Annotated[str, text_limits(80, 2000)]


# --- imported graph files -------------------------------------------------------------
# Values come as ours ({id, title, description, policies}) or as the original
# implementation's ({id, title, instructionsShort, evaluationCriteria}).


class ImportedValue(Contract):
    id: str | int
    title: Annotated[str, text_limits(1)]
    policies: list[str] = Field(validation_alias=AliasChoices("policies", "evaluationCriteria"))
    description: str = Field(validation_alias=AliasChoices("description", "instructionsShort"))

    @property
    def external_id(self) -> str:
        return str(self.id)


class EdgeCounts(Contract):
    marked_wiser: int = Field(0, ge=0, alias="markedWiser")
    marked_not_wiser: int = Field(0, ge=0, alias="markedNotWiser")
    marked_unsure: int = Field(0, ge=0, alias="markedUnsure")
    marked_less_wise: int = Field(0, ge=0, alias="markedLessWise")
    impressions: int = Field(0, ge=0, alias="impressions")


class ImportedEdge(Contract):
    source: str = Field("", alias="sourceValueId")
    wiser: str = Field("", alias="wiserValueId")
    counts: EdgeCounts = Field(default_factory=lambda: EdgeCounts.model_validate({}))
    contexts: list[str | dict] = []

    @field_validator("source", "wiser", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> str:
        return str(value)  # ids may be numbers or strings; values' ids are compared as text

    @field_validator("counts", mode="before")
    @classmethod
    def _no_counts(cls, value: Any) -> Any:
        return value or {}  # null or empty: all zero

    @field_validator("contexts", mode="before")
    @classmethod
    def _no_contexts(cls, value: Any) -> Any:
        return value or []

    @property
    def context_texts(self) -> list[str]:
        """Contexts are strings, or objects with a name or text."""
        texts = [
            (c if isinstance(c, str) else str(c.get("name") or c.get("text") or "")).strip() for c in self.contexts
        ]
        return [t[:CONTEXT_MAX] for t in texts if t]


def _graph_file_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("graph_file", "{message}", {"message": message})


class GraphFile(Contract):
    values: list[ImportedValue]
    edges: list[ImportedEdge]

    @model_validator(mode="after")
    def _edges_join_values(self) -> GraphFile:
        known = {v.external_id for v in self.values}
        if len(known) != len(self.values):
            raise _graph_file_error("Two values in the file share an id.")
        for index, edge in enumerate(self.edges):
            for name, ref in (("sourceValueId", edge.source), ("wiserValueId", edge.wiser)):
                if ref not in known:
                    raise _graph_file_error(f"edges[{index}].{name} = {ref!r} is not the id of a value in the file")
            if edge.source == edge.wiser:
                raise _graph_file_error(f"edges[{index}] goes from a value to itself")
        return self


_VALUE_PROBLEMS = {
    "policies": "needs policies (or evaluationCriteria) as a list of strings",
    "evaluationCriteria": "needs policies (or evaluationCriteria) as a list of strings",
    "description": "needs a description (or instructionsShort)",
    "instructionsShort": "needs a description (or instructionsShort)",
}


def file_problem(err: ValidationError) -> str:
    """The first problem of a graph file, saying where it is."""
    error = err.errors(include_url=False)[0]
    loc = error["loc"]
    if error["type"] == "graph_file":
        return error["msg"]
    if len(loc) < 2 or not isinstance(loc[1], int):
        return 'The file needs a "values" list and an "edges" list.'
    where, field = f"{loc[0]}[{loc[1]}]", loc[2] if len(loc) > 2 else None
    if loc[0] == "values":
        return f"{where} {_VALUE_PROBLEMS.get(str(field), 'needs an id and a title')}"
    if field is None:
        return f"{where} is not an object"
    if field == "counts":
        return (
            f"{where}.counts.{loc[3]} must be a whole number of 0 or more"
            if len(loc) > 3
            else f"{where}.counts must be an object"
        )
    if field == "contexts":
        return f"{where}.contexts must be a list"
    return f"{where}.{field}: {error['msg']}"
