"""Raking (iterative proportional fitting) by samplics, with trimming.

samplics rakes to control totals; trimming is ours: weights above
`trim` × the mean are capped and the capped weights raked again, until
raking leaves them under the cap (at most MAX_ROUNDS); a last cap makes it
hold, so the margins may then miss the target a little. Weights come out normalised to a mean of 1.
"""

from __future__ import annotations

import warnings

import numpy as np

MAX_ROUNDS = 50

with warnings.catch_warnings():
    # samplics warns on import that it is archived (docs/running-a-study.md says why we use it anyway).
    warnings.simplefilter("ignore", FutureWarning)
    from samplics import SampleWeight


def rake(
    rows: list[dict[str, str]],
    margins: dict[str, dict[str, float]],
    *,
    trim: float | None = None,
    tol: float = 1e-8,
    max_iter: int = 1000,
) -> np.ndarray:
    """Weights for `rows` ({attribute: category}, every attribute present)
    so their weighted shares match `margins`."""
    n = len(rows)
    if n == 0:
        return np.array([])
    arrays = {a: np.array([r[a] for r in rows]) for a in margins}
    for attribute, categories in arrays.items():
        absent = [c for c, s in margins[attribute].items() if s > 0 and c not in set(categories)]
        if absent:
            raise ValueError(f"No participant in {attribute} = {', '.join(absent)}: raking cannot reach the target.")
    present = {a: {c: s for c, s in shares.items() if c in set(arrays[a])} for a, shares in margins.items()}
    control = {a: {c: s / sum(shares.values()) * n for c, s in shares.items()} for a, shares in present.items()}
    weights = _rake(np.ones(n), arrays, control, tol, max_iter)
    if trim:
        # alternate: cap, then rake again from the capped weights, until raking leaves them under the cap
        for _ in range(MAX_ROUNDS):
            cap = trim * weights.mean()
            if weights.max() <= cap * (1 + 1e-6):
                break
            weights = _rake(np.minimum(weights, cap), arrays, control, tol, max_iter)
        weights = _cap(weights, trim)
    return weights * n / weights.sum()


def _rake(base, arrays, control, tol, max_iter) -> np.ndarray:
    return np.asarray(
        SampleWeight().rake(base, margins=arrays, control=control, tol=tol, max_iter=max_iter), dtype=float
    )


def _cap(weights: np.ndarray, trim: float) -> np.ndarray:
    """Cap at trim × mean; the mean falls as weights are capped, so repeat."""
    for _ in range(MAX_ROUNDS):
        cap = trim * weights.mean()
        if weights.max() <= cap * (1 + 1e-9):
            break
        weights = np.minimum(weights, cap)
    return weights
