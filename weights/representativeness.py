"""How far a sample is from its target population. Pure functions.

Shares are fractions of the participants with a value for the attribute.
The GRI-style score is 1 − TVD over the joint cells when the target has
joint cells, else 1 − the mean of the attributes' TVDs.
"""

from __future__ import annotations

from collections.abc import Sequence


def shares(categories: Sequence[str | None], weights: Sequence[float] | None = None) -> dict[str, float]:
    """{category: share} over the entries with a category (None is missing)."""
    weights = weights if weights is not None else [1.0] * len(categories)
    totals: dict[str, float] = {}
    for c, w in zip(categories, weights):
        if c is not None:
            totals[c] = totals.get(c, 0.0) + w
    whole = sum(totals.values())
    return {c: t / whole for c, t in totals.items()} if whole else {}


def tvd(p: dict[str, float], q: dict[str, float]) -> float:
    """Total variation distance: half the summed absolute differences."""
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))


def gri(tvds: dict[str, float], joint_tvd: float | None = None) -> float:
    if joint_tvd is not None:
        return 1 - joint_tvd
    return 1 - sum(tvds.values()) / len(tvds) if tvds else 0.0


def effective_n(weights: Sequence[float]) -> float:
    """Kish: (Σw)² / Σw²."""
    squares = sum(w * w for w in weights)
    return sum(weights) ** 2 / squares if squares else 0.0


def design_effect(weights: Sequence[float]) -> float:
    """n / Kish effective N."""
    n_eff = effective_n(weights)
    return len(weights) / n_eff if n_eff else 0.0
