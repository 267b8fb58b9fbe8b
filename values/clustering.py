"""Clustering of card embeddings (paper 4.5, step 1). Pure functions."""

from __future__ import annotations

import numpy as np


def cluster_vectors(vectors, *, eps: float, min_samples: int) -> list[int]:
    """DBSCAN with cosine distance; -1 marks cards in no cluster."""
    if len(vectors) == 0:
        return []
    # scikit-learn takes over a second to import: every process would pay it at start-up for a rare batch job.
    from sklearn.cluster import DBSCAN

    labels = DBSCAN(eps=eps, min_samples=min_samples, metric="cosine").fit_predict(np.asarray(vectors, dtype=float))
    return [int(label) for label in labels]


def groups(labels: list[int]) -> dict[int, list[int]]:
    """{cluster label: [indices]} without the noise label."""
    out: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        if label >= 0:
            out.setdefault(label, []).append(index)
    return out


def medoid(vectors) -> int:
    """Index of the vector with the smallest total cosine distance to the others."""
    matrix = np.asarray(vectors, dtype=float)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = matrix / np.where(norms == 0, 1, norms)
    distances = 1 - unit @ unit.T
    return int(np.argmin(distances.sum(axis=1)))
