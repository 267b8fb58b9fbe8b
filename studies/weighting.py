"""Survey weights as plain data, for the features that count with them.

The weights are computed by the `weights` app; the graph build and the survey
tables count each participant with their weight, and neither may import
`weights` (features do not import each other). So `weights` registers here, in
its `AppConfig.ready()`, how a weighting run is read as a `Weighting`, and the
readers ask for one by run (or run id) through `resolve`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Weighting:
    """One weighting run, read: each weighted participant's weight (keyed by
    the participant id as a string), what the run was (`description`: target,
    trim, missing policy, when; JSON-ready, kept in what is built with it) and
    `figures(participant ids)`, the representativeness of some of the run's
    participants (their shares against the target, unweighted and weighted,
    TVD, GRI-style score, Kish effective N, design effect)."""

    run_id: int
    study_id: int
    weights: Mapping[str, float]
    missing_policy: str = "left_out"
    description: dict = field(default_factory=dict)
    figures: Callable[[list[str]], dict] | None = None

    def weight_of(self, participant_id) -> float | None:
        """The participant's weight; None when the run gave them none."""
        return self.weights.get(str(participant_id))

    def to_dict(self) -> dict:
        """What a result built with it records of the run (no participant's weight)."""
        return {"run": self.run_id, "weighted_participants": len(self.weights), **self.description}


_source: list[Callable[[int], Weighting | None]] = []


def register_source(read: Callable[[int], Weighting | None]) -> None:
    """How a weighting run id is read (the `weights` app registers it once)."""
    _source[:] = [read]


def resolve(weighting, *, study=None) -> Weighting:
    """A `Weighting` from a run, a run id or a `Weighting`; refuses a run of another study."""
    if isinstance(weighting, Weighting):
        found = weighting
    else:
        if not _source:
            raise ValueError("No weighting source is registered (is the weights app installed?).")
        run_id = int(getattr(weighting, "pk", weighting))
        read = _source[0](run_id)
        if read is None:
            raise ValueError(f"There is no weighting run {run_id}.")
        found = read
    if study is not None and found.study_id != study.pk:
        raise ValueError(f"Weighting run {found.run_id} belongs to another study.")
    return found
