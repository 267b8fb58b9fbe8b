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
"""

from __future__ import annotations

import math
from itertools import combinations

import choix
import numpy as np
from scipy.stats import kendalltau

from graph.aggregation import positions

# A little regularisation so that a value that never wins (or a graph in
# pieces) still has finite Bradley–Terry and Rank Centrality scores.
CHOIX_ALPHA = 0.01
METHODS = ("pagerank", "direct_votes", "bradley_terry", "rank_centrality", "hodgerank")


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
    out = {n: 0.0 for n in _items(wins, nodes)}
    for (winner, _), n in wins.items():
        out[winner] += n
    return out


def _choix_data(wins: dict, items: list[int]) -> list[tuple[int, int]]:
    index = {n: i for i, n in enumerate(items)}
    return [(index[w], index[lo]) for (w, lo), n in sorted(wins.items()) for _ in range(n)]


def bradley_terry(wins: dict, nodes=None, alpha: float = CHOIX_ALPHA) -> dict[int, float]:
    """Bradley–Terry log-strengths (mean 0) by choix's iterative Luce spectral ranking."""
    items = _items(wins, nodes)
    if not items:
        return {}
    try:
        scores = choix.ilsr_pairwise(len(items), _choix_data(wins, items), alpha=alpha)
    except RuntimeError:   # did not converge: say nothing rather than fail the whole build
        return {}
    return {n: float(s) for n, s in zip(items, scores)}


def rank_centrality(wins: dict, nodes=None, alpha: float = CHOIX_ALPHA) -> dict[int, float]:
    """Rank Centrality: the stationary distribution of a walk towards the
    winners of each pair, by the ratio of wins; as log scores (mean 0)."""
    items = _items(wins, nodes)
    if not items:
        return {}
    scores = choix.rank_centrality(len(items), _choix_data(wins, items), alpha=alpha)
    return {n: float(s) for n, s in zip(items, scores)}


def hodgerank(wins: dict, nodes=None) -> tuple[dict[int, float], float]:
    """Scores s minimising Σ w_ij (s_j − s_i − y_ij)² over the compared pairs
    {i, j}, with w_ij the comparisons on the pair and y_ij = (wins of j −
    wins of i) / w_ij its flow towards j (Jiang et al. 2011). Returns the
    scores (mean 0 in each connected piece: the least-norm solution) and the
    cyclic share: weighted residual norm² / weighted flow norm², 0 for a flow
    that some ordering explains fully, 1 for a pure cycle; 0 without flow."""
    items = _items(wins, nodes)
    if not items:
        return {}, 0.0
    index = {n: i for i, n in enumerate(items)}
    pairs = sorted({(min(a, b), max(a, b)) for a, b in wins})
    if not pairs:
        return {n: 0.0 for n in items}, 0.0
    grad = np.zeros((len(pairs), len(items)))
    flow = np.zeros(len(pairs))
    weight = np.zeros(len(pairs))
    for row, (i, j) in enumerate(pairs):
        j_wins, i_wins = wins.get((j, i), 0), wins.get((i, j), 0)
        weight[row] = j_wins + i_wins
        flow[row] = (j_wins - i_wins) / weight[row]
        grad[row, index[i]], grad[row, index[j]] = -1.0, 1.0
    root = np.sqrt(weight)
    scores, *_ = np.linalg.lstsq(grad * root[:, None], flow * root, rcond=None)
    residual = flow - grad @ scores
    total = float(np.sum(weight * flow ** 2))
    share = float(np.sum(weight * residual ** 2)) / total if total > 1e-12 else 0.0
    return {n: float(s) for n, s in zip(items, scores)}, round(min(max(share, 0.0), 1.0), 10)


def tau(a: dict[int, float], b: dict[int, float]) -> float | None:
    """Kendall's τ-b between two score dicts over the values both rank;
    None when fewer than two are shared or one of them ranks all alike."""
    common = sorted(set(a) & set(b))
    if len(common) < 2:
        return None
    value = kendalltau([a[n] for n in common], [b[n] for n in common]).statistic
    return None if value is None or math.isnan(value) else float(value)


def rankings(cells, pagerank_scores: dict[int, float] | None = None, contexts: set[int] | None = None,
             nodes=None) -> tuple[dict[str, dict[int, float]], float]:
    """Every method's scores on the same votes (PageRank's come from the
    graph build, which filters the edges first), and HodgeRank's cyclic share."""
    wins = comparisons(cells, contexts)
    hodge, share = hodgerank(wins, nodes)
    out = {"pagerank": dict(pagerank_scores or {}), "direct_votes": direct_votes(wins, nodes),
           "bradley_terry": bradley_terry(wins, nodes), "rank_centrality": rank_centrality(wins, nodes),
           "hodgerank": hodge}
    return out, share


def agreement(scores: dict[str, dict[int, float]]) -> dict[str, float | None]:
    """Kendall's τ of every two methods, keyed "a|b" in METHODS order."""
    names = [m for m in METHODS if m in scores] + sorted(set(scores) - set(METHODS))
    return {f"{a}|{b}": tau(scores[a], scores[b]) for a, b in combinations(names, 2)}


def robust_winners(scores: dict[str, dict[int, float]], k: int = 3) -> list[int]:
    """Values in the top k of every method that ranks anything (ties by
    smaller id, as `positions` orders them), best mean position first."""
    ranked = [positions(s) for s in scores.values() if s]
    if not ranked:
        return []
    common = set.intersection(*({n for n, p in r.items() if p <= k} for r in ranked))
    return sorted(common, key=lambda n: (sum(r[n] for r in ranked), n))


def compare(cells, pagerank_scores: dict[int, float] | None = None, contexts: set[int] | None = None,
            nodes=None, k: int = 3) -> dict:
    """JSON-ready: each method's scores, τ between them, HodgeRank's cyclic
    share and the robust winners (top `k` under all methods)."""
    scores, share = rankings(cells, pagerank_scores, contexts, nodes)
    return {"scores": {m: {str(n): round(v, 8) for n, v in s.items()} for m, s in scores.items()},
            "tau": {pair: (None if t is None else round(t, 6)) for pair, t in agreement(scores).items()},
            "cyclic_share": round(share, 6), "robust_winners": robust_winners(scores, k), "k": k}
