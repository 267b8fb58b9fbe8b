"""Other ways to rank the values from the same votes, beside the moral
graph's PageRank, and how far they agree. Pure functions, no database.

Every method reads the votes as pairwise comparisons: a "yes" on a story
source → target ("did this person become wiser?") is one comparison that
the target won over the source. "No" and "not sure" say nothing about which
value is wiser, so they are left out here (PageRank's likelihood counts them).

- direct votes: wiser votes received (the paper's Fig. 12 baseline);
- Bradley–Terry (maximum likelihood by choix's iterative LSR) and Rank
  Centrality (Negahban et al.), both from the `choix` package;
- HodgeRank: least-squares scores from the pair flows, and the share of the
  flow that no scores can explain (the cyclic part);
- Kendall's τ between every two rankings, and the robust winners: values in
  the top k under every method.

`AGGREGATORS` at the end is the one table of methods: name, label, function
and where each is used (the robustness tables, the manipulation simulator,
the exports). Adding a method is a function `(wins, nodes) -> {value: score}`
and one line there (docs/architecture.md, "Adding an aggregator").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations

import choix
import numpy as np
from scipy.stats import kendalltau

from graph.aggregation import positions

# A little regularisation so that a value that never wins (or a graph in
# pieces) still has finite Bradley–Terry and Rank Centrality scores.
CHOIX_ALPHA = 0.01


def comparisons(cells, contexts: set[int] | None = None) -> dict[tuple[int, int], int]:
    """{(winner, loser): yes votes}, summed over contexts (only `contexts`, if given)."""
    out: dict[tuple[int, int], int] = {}
    for c in cells:
        if c.yes and c.source != c.target and (contexts is None or c.context in contexts):
            out[(c.target, c.source)] = out.get((c.target, c.source), 0) + c.yes
    return out


def _items(wins: dict, nodes=None) -> list[int]:
    return sorted({n for pair in wins for n in pair} | set(nodes or ()))


def direct_votes(wins: dict, nodes=None) -> dict[int, float]:
    """Wiser votes each value received; 0 for a value only ever compared and lost."""
    out = dict.fromkeys(_items(wins, nodes), 0.0)
    for (winner, _), n in wins.items():
        out[winner] += n
    return out


# Up to this many values, Bradley–Terry and Rank Centrality are choix's own
# functions. They build a dense values × values Markov chain and solve it by
# a dense LU factorisation: 0.8 GB and tens of seconds per solve at 10,000
# values, and Bradley–Terry solves once per iteration (75 s for one ranking
# of 10,000 values, 2 s already at 300; docs/performance.md). Above it, the
# same chains (same regularisation, same fixed point, to solver precision:
# 4e-14 apart at 300 values) are solved as sparse systems: the
# regularisation adds the same rate between every two values, which is kept
# out of the matrix and handled exactly (see `_stationary`).
# tests/graph/test_aggregators.py checks both paths against choix.
DENSE_LIMIT = 50
_ILSR_MAX_ITER = 100
_ILSR_TOL = 1e-8


def _choix_data(wins: dict, items: list[int]) -> list[tuple[int, int]]:
    index = {n: i for i, n in enumerate(items)}
    return [(index[w], index[lo]) for (w, lo), n in sorted(wins.items()) for _ in range(int(n))]


def _win_arrays(wins: dict, items: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(winner index, loser index, count) per compared ordered pair."""
    index = {n: i for i, n in enumerate(items)}
    ordered = sorted(wins.items())
    return (
        np.array([index[w] for (w, _), _n in ordered], dtype=np.int64),
        np.array([index[lo] for (_, lo), _n in ordered], dtype=np.int64),
        np.array([n for _, n in ordered], dtype=float),
    )


def _stationary(n: int, uniform: float, rows, cols, rates) -> np.ndarray:
    """Stationary distribution (summing to n) of the continuous-time chain
    whose rate from i to j (i ≠ j) is `uniform` plus the sparse `rates` at
    (rows, cols) (duplicates add up). With π·Q = 0 and Σπ = n, each j gives
    (Sᵀπ)_j − (exit_j + uniform)·π_j = −uniform·n, exit_j = (n − 1)·uniform
    + Σ_k S_jk: a sparse system, nonsingular when uniform > 0."""
    from scipy.sparse import csc_array, diags_array
    from scipy.sparse.linalg import spsolve

    rate = csc_array((rates, (rows, cols)), shape=(n, n))
    exit_rates = (n - 1) * uniform + np.asarray(rate.sum(axis=1)).ravel()
    system = (rate.T - diags_array(exit_rates + uniform)).tocsc()
    pi = spsolve(system, np.full(n, -uniform * n)) if n > 1 else np.ones(1)
    return np.maximum(np.atleast_1d(pi), 1e-300) * (n / np.sum(pi))


def _log_centred(weights: np.ndarray) -> np.ndarray:
    params = np.log(weights)
    return params - params.mean()


def sparse_ilsr(n: int, winners, losers, counts, alpha: float = CHOIX_ALPHA) -> np.ndarray:
    """Iterative Luce spectral ranking (choix.ilsr_pairwise's estimator and
    stopping rule) on sparse comparison counts; alpha > 0 required."""
    params = None
    previous = None
    for _ in range(_ILSR_MAX_ITER):
        weights = np.ones(n) if params is None else np.exp(params - params.mean())
        weights *= n / weights.sum()
        # the chain moves from the loser to the winner at rate 1 / (w_winner + w_loser) per comparison
        params = _log_centred(_stationary(n, alpha, losers, winners, counts / (weights[winners] + weights[losers])))
        if previous is not None and np.abs(previous - params).sum() <= _ILSR_TOL * n:
            return params
        previous = params
    raise RuntimeError(f"Did not converge after {_ILSR_MAX_ITER} iterations")


def sparse_rank_centrality(n: int, winners, losers, counts, alpha: float = CHOIX_ALPHA) -> np.ndarray:
    """choix.rank_centrality's chain on sparse counts: from loser l to winner
    w at rate (alpha + wins of w over l) / (2·alpha + comparisons of the two),
    which is 1/2 for a pair never compared; alpha > 0 required."""
    from scipy.sparse import coo_array

    won = coo_array((counts, (winners, losers)), shape=(n, n)).tocsr()
    won.sum_duplicates()
    pairs = (won + won.T).tocoo()  # every compared pair, both ways
    w, lo = pairs.row, pairs.col  # rate from lo to w
    c_w = np.asarray(won[w, lo]).ravel()
    c_l = np.asarray(won[lo, w]).ravel()
    extra = (alpha + c_w) / (2 * alpha + c_w + c_l) - 0.5  # beyond the 1/2 every pair has
    return _log_centred(_stationary(n, 0.5, lo, w, extra))


def bradley_terry(
    wins: dict, nodes=None, alpha: float = CHOIX_ALPHA, dense_limit: int = DENSE_LIMIT
) -> dict[int, float]:
    """Bradley–Terry log-strengths (mean 0) by iterative Luce spectral
    ranking: choix.ilsr_pairwise_dense on the win counts up to `dense_limit`
    values, the sparse equivalent above."""
    items = _items(wins, nodes)
    if not items:
        return {}
    winners, losers, counts = _win_arrays(wins, items)
    try:
        if len(items) <= dense_limit:
            matrix = np.zeros((len(items), len(items)))
            np.add.at(matrix, (winners, losers), counts)
            scores = choix.ilsr_pairwise_dense(matrix, alpha=alpha)
        else:
            scores = sparse_ilsr(len(items), winners, losers, counts, alpha)
    except RuntimeError:  # did not converge: say nothing rather than fail the whole build
        return {}
    return {n: float(s) for n, s in zip(items, scores)}


def rank_centrality(
    wins: dict, nodes=None, alpha: float = CHOIX_ALPHA, dense_limit: int = DENSE_LIMIT
) -> dict[int, float]:
    """Rank Centrality: the stationary distribution of a walk towards the
    winners of each pair, by the ratio of wins; as log scores (mean 0).
    choix.rank_centrality up to `dense_limit` values, the sparse equivalent above."""
    items = _items(wins, nodes)
    if not items:
        return {}
    # choix takes one comparison per win: weighted wins (sums of survey weights) go the sparse way
    if len(items) <= dense_limit and all(float(n).is_integer() for n in wins.values()):
        scores = choix.rank_centrality(len(items), _choix_data(wins, items), alpha=alpha)
    else:
        scores = sparse_rank_centrality(len(items), *_win_arrays(wins, items), alpha)
    return {n: float(s) for n, s in zip(items, scores)}


def hodgerank(wins: dict, nodes=None) -> tuple[dict[int, float], float]:
    """Scores s minimising Σ w_ij (s_j − s_i − y_ij)² over the compared pairs
    {i, j}, with w_ij the comparisons on the pair and y_ij = (wins of j −
    wins of i) / w_ij its flow towards j (Jiang et al. 2011). Returns the
    scores (mean 0 in each connected piece: the least-norm solution) and the
    cyclic share: weighted residual norm² / weighted flow norm², 0 for a flow
    that some ordering explains fully, 1 for a pure cycle; 0 without flow.
    Solved through the sparse graph Laplacian (the normal equations), one
    value per connected piece held at 0 and the piece then centred."""
    from scipy.sparse import coo_array, csc_array
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import spsolve

    items = _items(wins, nodes)
    if not items:
        return {}, 0.0
    index = {n: i for i, n in enumerate(items)}
    pairs = sorted({(min(a, b), max(a, b)) for a, b in wins})
    if not pairs:
        return dict.fromkeys(items, 0.0), 0.0
    n = len(items)
    low = np.array([index[i] for i, _ in pairs], dtype=np.int64)
    high = np.array([index[j] for _, j in pairs], dtype=np.int64)
    j_wins = np.array([wins.get((j, i), 0) for i, j in pairs], dtype=float)
    i_wins = np.array([wins.get((i, j), 0) for i, j in pairs], dtype=float)
    weight = j_wins + i_wins
    flow = (j_wins - i_wins) / weight
    # Laplacian Gᵀ W G and right-hand side Gᵀ W y, G the pair × value gradient (−1 at i, +1 at j)
    laplacian = coo_array(
        (
            np.concatenate([weight, weight, -weight, -weight]),
            (np.concatenate([low, high, low, high]), np.concatenate([low, high, high, low])),
        ),
        shape=(n, n),
    ).tocsc()
    rhs = np.bincount(high, weights=weight * flow, minlength=n) - np.bincount(low, weights=weight * flow, minlength=n)
    pieces, labels = connected_components(laplacian, directed=False)
    free = np.ones(n, dtype=bool)
    free[np.unique(labels, return_index=True)[1]] = False
    scores = np.zeros(n)
    if free.any():
        reduced = csc_array(laplacian[free][:, free])
        scores[free] = spsolve(reduced, rhs[free])
    scores -= (np.bincount(labels, weights=scores, minlength=pieces) / np.bincount(labels, minlength=pieces))[labels]
    residual = flow - (scores[high] - scores[low])
    total = float(np.sum(weight * flow**2))
    share = float(np.sum(weight * residual**2)) / total if total > 1e-12 else 0.0
    return {n_: float(s) for n_, s in zip(items, scores)}, round(min(max(share, 0.0), 1.0), 10)


def tau(a: dict[int, float], b: dict[int, float]) -> float | None:
    """Kendall's τ-b between two score dicts over the values both rank;
    None when fewer than two are shared or one of them ranks all alike."""
    common = sorted(set(a) & set(b))
    if len(common) < 2:
        return None
    value = kendalltau([a[n] for n in common], [b[n] for n in common]).statistic
    return None if value is None or math.isnan(value) else float(value)


def rankings(
    cells,
    pagerank_scores: dict[int, float] | None = None,
    contexts: set[int] | None = None,
    nodes=None,
    methods: Iterable[str] | None = None,
) -> tuple[dict[str, dict[int, float]], float]:
    """Every method's scores on the same votes (only `methods`, if given;
    PageRank's come from the graph build, which filters the edges first),
    and HodgeRank's cyclic share (0 when it is not ranked)."""
    wins = comparisons(cells, contexts)
    wanted = None if methods is None else set(methods)
    out, share = {}, 0.0
    for a in AGGREGATORS.values():
        if wanted is not None and a.name not in wanted:
            continue
        if a.rank is None:
            out[a.name] = dict(pagerank_scores or {})
            continue
        result = a.rank(wins, nodes)
        if isinstance(result, tuple):  # a method that also measures the cyclic part (HodgeRank)
            result, share = result
        out[a.name] = result
    return out, share


def agreement(scores: dict[str, dict[int, float]]) -> dict[str, float | None]:
    """Kendall's τ of every two methods, keyed "a|b" in the table's order."""
    names = ordered(scores)
    return {f"{a}|{b}": tau(scores[a], scores[b]) for a, b in combinations(names, 2)}


def robust_winners(scores: dict[str, dict[int, float]], k: int = 3) -> list[int]:
    """Values in the top k of every method that ranks anything (ties by
    smaller id, as `positions` orders them), best mean position first."""
    ranked = [positions(s) for s in scores.values() if s]
    if not ranked:
        return []
    common = set.intersection(*({n for n, p in r.items() if p <= k} for r in ranked))
    return sorted(common, key=lambda n: (sum(r[n] for r in ranked), n))


def compare(
    cells, pagerank_scores: dict[int, float] | None = None, contexts: set[int] | None = None, nodes=None, k: int = 3
) -> dict:
    """JSON-ready: each method's scores, τ between them, HodgeRank's cyclic
    share and the robust winners (top `k` under all methods)."""
    scores, share = rankings(cells, pagerank_scores, contexts, nodes)
    return {
        "scores": {m: {str(n): round(v, 8) for n, v in s.items()} for m, s in scores.items()},
        "tau": {pair: (None if t is None else round(t, 6)) for pair, t in agreement(scores).items()},
        "cyclic_share": round(share, 6),
        "robust_winners": robust_winners(scores, k),
        "k": k,
    }


# --- the table of methods -----------------------------------------------------------


@dataclass(frozen=True)
class Aggregator:
    """One ranking of the values. `rank(wins, nodes)` gives {value id: score}
    (higher is wiser), or (scores, cyclic share) for a method that measures
    one; None for PageRank, which the graph build computes. The flags say
    where it is used: `report`, a row in the robustness tables (snapshot page
    and study report); `attack`, ranked by the manipulation simulator;
    `export`, written to the snapshot's JSON and CSV. Every snapshot stores
    every method's scores whatever its flags."""

    name: str
    label: str
    rank: Callable | None
    report: bool = True
    attack: bool = True
    export: bool = True
    detail: str = ""  # said after the label in the robustness tables

    @property
    def long_label(self) -> str:
        return f"{self.label} ({self.detail})" if self.detail else self.label


# In the order methods are listed everywhere (stored JSON keeps no order).
AGGREGATORS: dict[str, Aggregator] = {
    a.name: a
    for a in (
        Aggregator("pagerank", "PageRank (moral graph)", None),
        Aggregator("direct_votes", "direct votes", direct_votes, detail="wiser votes received"),
        Aggregator("bradley_terry", "Bradley–Terry", bradley_terry),
        Aggregator("rank_centrality", "Rank Centrality", rank_centrality),
        Aggregator("hodgerank", "HodgeRank", hodgerank),
    )
}


def names(flag: str | None = None) -> list[str]:
    """The methods in table order; with `flag` ("report", "attack", "export"), those it is set for."""
    return [a.name for a in AGGREGATORS.values() if flag is None or getattr(a, flag)]


def ordered(methods: Iterable[str], flag: str | None = None) -> list[str]:
    """`methods` in table order, then the ones the table does not list (an
    older snapshot's) by name; with `flag`, the listed ones without it left out."""
    methods = set(methods)
    return [m for m in names(flag) if m in methods] + sorted(methods - set(AGGREGATORS))


def label(name: str, long: bool = False) -> str:
    """The table's label; the name itself for a method the table does not list."""
    a = AGGREGATORS.get(name)
    if a is None:
        return name
    return a.long_label if long else a.label
