"""Other rankings of the same votes, with hand-computed cases (no database)."""

import choix
import numpy as np
import pytest

from graph.aggregation import Cell
from graph.aggregators import (
    agreement,
    bradley_terry,
    compare,
    comparisons,
    direct_votes,
    hodgerank,
    rank_centrality,
    robust_winners,
    tau,
)

# 2 beats 1 twice, 3 beats 2 once, 1 and 3 beat each other once; "no" and "unsure" are no comparison.
TINY = [
    Cell(1, 2, 1, yes=2, no=3),
    Cell(2, 3, 1, yes=1, unsure=1),
    Cell(3, 1, 2, yes=1),
    Cell(1, 3, 2, yes=1),
    Cell(4, 4, 1, yes=5),
    Cell(1, 4, 1, no=2, impressions=3),
]


def test_comparisons_are_the_yes_votes_won_by_the_target():
    assert comparisons(TINY) == {(2, 1): 2, (3, 2): 1, (1, 3): 1, (3, 1): 1}
    assert comparisons(TINY, contexts={2}) == {(1, 3): 1, (3, 1): 1}


def test_direct_votes_count_wiser_votes_received():
    assert direct_votes(comparisons(TINY)) == {1: 1.0, 2: 2.0, 3: 2.0}
    assert direct_votes(comparisons(TINY), nodes=[4]) == {1: 1.0, 2: 2.0, 3: 2.0, 4: 0.0}


def test_bradley_terry_and_rank_centrality_match_choix_called_directly():
    # values 1, 2, 3 are items 0, 1, 2; (winner, loser) once per vote
    data = [(0, 2), (1, 0), (1, 0), (2, 0), (2, 1)]
    wins = comparisons(TINY)
    bt = bradley_terry(wins)
    np.testing.assert_allclose([bt[1], bt[2], bt[3]], choix.ilsr_pairwise(3, data, alpha=0.01), atol=1e-6)
    rc = rank_centrality(wins)
    np.testing.assert_allclose([rc[1], rc[2], rc[3]], choix.rank_centrality(3, data, alpha=0.01))
    # 1 lost twice to 2 and won once of two against 3: weakest under both
    assert min(bt, key=bt.get) == 1 and min(rc, key=rc.get) == 1
    assert bradley_terry({}) == {} and rank_centrality({}) == {}


def test_hodgerank_of_a_pure_three_cycle_is_all_cyclic():
    wins = comparisons([Cell(1, 2, 1, yes=2), Cell(2, 3, 1, yes=2), Cell(3, 1, 1, yes=2)])
    scores, share = hodgerank(wins)
    assert share == 1.0
    assert scores == pytest.approx({1: 0.0, 2: 0.0, 3: 0.0}, abs=1e-12)


def test_hodgerank_of_a_pure_order_has_no_cyclic_part():
    # 1 < 2 < 3 < 4, each step won unanimously: flows 1, scores one apart and centred
    wins = comparisons([Cell(1, 2, 1, yes=3), Cell(2, 3, 1, yes=1), Cell(3, 4, 1, yes=2)])
    scores, share = hodgerank(wins)
    assert share == 0.0
    assert scores == pytest.approx({1: -1.5, 2: -0.5, 3: 0.5, 4: 1.5})
    # a split pair: 2 beats 1 three times, 1 beats 2 once: w = 4, flow (3 − 1) / 4 = 0.5
    scores, share = hodgerank({(2, 1): 3, (1, 2): 1})
    assert share == 0.0 and scores == pytest.approx({1: -0.25, 2: 0.25})


def test_hodgerank_finds_a_cyclic_part_in_a_unanimous_tournament():
    # 1 < 2 < 3 and 1 < 3, each by one vote: flows 1, 1, 1 cannot all be score differences.
    # Least squares: s = (−2/3, 0, 2/3); residuals −1/3, −1/3, 1/3 → share (3 · 1/9) / 3 = 1/9.
    scores, share = hodgerank({(2, 1): 1, (3, 2): 1, (3, 1): 1})
    assert share == pytest.approx(1 / 9)
    assert scores == pytest.approx({1: -2 / 3, 2: 0.0, 3: 2 / 3})
    assert hodgerank({}) == ({}, 0.0)


def test_tau_of_identical_rankings_is_one():
    a = {1: 0.5, 2: 0.3, 3: 0.2}
    assert tau(a, dict(a)) == 1.0
    assert tau(a, {1: 1.0, 2: 2.0, 3: 3.0}) == -1.0
    assert tau(a, {1: 1.0, 9: 2.0}) is None  # one value in common
    assert tau(a, {1: 1.0, 2: 1.0, 3: 1.0}) is None  # no order to compare
    assert agreement({"pagerank": a, "direct_votes": a, "extra": {3: 2.0, 2: 1.0}}) == {
        "pagerank|direct_votes": 1.0,
        "pagerank|extra": -1.0,
        "direct_votes|extra": -1.0,
    }


def test_robust_winners_are_in_the_top_k_of_every_method():
    scores = {"a": {1: 9, 2: 8, 3: 7, 4: 6}, "b": {2: 9, 3: 8, 1: 7, 4: 6}, "c": {3: 9, 1: 8, 4: 7, 2: 6}}
    # top 2: a {1, 2}, b {2, 3}, c {3, 1}: none in all; top 3: a {1,2,3}, b {2,3,1}, c {3,1,4} → 1, 3
    assert robust_winners(scores, k=2) == []
    # mean positions: 1 (1 + 3 + 2), 3 (3 + 2 + 1): tie, smaller id first
    assert robust_winners(scores, k=3) == [1, 3]
    assert robust_winners({"a": {}, "b": {}}) == []


def test_compare_is_json_ready_and_restricts_to_contexts():
    out = compare(TINY, pagerank_scores={2: 0.6, 1: 0.4}, k=1)
    assert set(out["scores"]) == {"pagerank", "direct_votes", "bradley_terry", "rank_centrality", "hodgerank"}
    assert out["scores"]["direct_votes"] == {"1": 1.0, "2": 2.0, "3": 2.0}
    assert len(out["tau"]) == 10 and out["k"] == 1
    assert 0.0 < out["cyclic_share"] < 1.0
    # only context 2: 1 and 3 beat each other once each, flow 0, nothing to explain
    assert compare(TINY, contexts={2})["cyclic_share"] == 0.0


def _random_wins(n_values: int, n_pairs: int, seed: int) -> dict:
    """Comparisons among values 1..n on random pairs, a few votes each, one connected chain so every value plays."""
    rng = np.random.default_rng(seed)
    wins: dict = {}
    pairs = [(i, i + 1) for i in range(1, n_values)] + [
        tuple(rng.choice(np.arange(1, n_values + 1), 2, replace=False)) for _ in range(n_pairs)
    ]
    for a, b in pairs:
        for winner, loser in ((a, b), (b, a)):
            n = int(rng.integers(0, 4))
            if n:
                wins[(int(winner), int(loser))] = wins.get((int(winner), int(loser)), 0) + n
    return wins


def test_sparse_bradley_terry_and_rank_centrality_give_choix_s_scores():
    """Above DENSE_LIMIT values the chains are solved sparsely; forced here on a
    graph small enough for choix: the same estimates."""
    wins = _random_wins(60, 150, seed=3)
    items = sorted({n for pair in wins for n in pair})
    index = {n: i for i, n in enumerate(items)}
    data = [(index[w], index[lo]) for (w, lo), n in sorted(wins.items()) for _ in range(n)]
    expected_bt = choix.ilsr_pairwise(len(items), data, alpha=0.01)
    expected_rc = choix.rank_centrality(len(items), data, alpha=0.01)
    for limit in (10_000, 0):  # choix's dense functions, then the sparse solver
        bt, rc = bradley_terry(wins, dense_limit=limit), rank_centrality(wins, dense_limit=limit)
        np.testing.assert_allclose([bt[n] for n in items], expected_bt, atol=1e-6)
        np.testing.assert_allclose([rc[n] for n in items], expected_rc, atol=1e-9)
    # a value never compared scores as choix scores it
    assert bradley_terry({(2, 1): 3}, nodes=[9], dense_limit=0) == pytest.approx(
        dict(zip([1, 2, 9], choix.ilsr_pairwise(3, [(1, 0)] * 3, alpha=0.01))), abs=1e-6
    )


def test_hodgerank_on_separate_pieces_centres_each_piece():
    # two pieces: 1 < 2 by flow 1; 3 < 4 < 5 unanimous steps; 9 alone
    scores, share = hodgerank({(2, 1): 1, (4, 3): 2, (5, 4): 2}, nodes=[9])
    assert share == 0.0
    assert scores == pytest.approx({1: -0.5, 2: 0.5, 3: -1.0, 4: 0.0, 5: 1.0, 9: 0.0})
    # against a dense least-norm least-squares solve on a random graph
    wins = _random_wins(40, 80, seed=5)
    items = sorted({n for pair in wins for n in pair})
    pairs = sorted({(min(a, b), max(a, b)) for a, b in wins})
    grad, flow, weight = np.zeros((len(pairs), len(items))), [], []
    for row, (i, j) in enumerate(pairs):
        w = wins.get((j, i), 0) + wins.get((i, j), 0)
        weight.append(w)
        flow.append((wins.get((j, i), 0) - wins.get((i, j), 0)) / w)
        grad[row, items.index(i)], grad[row, items.index(j)] = -1.0, 1.0
    root = np.sqrt(weight)
    expected, *_ = np.linalg.lstsq(grad * root[:, None], np.array(flow) * root, rcond=None)
    got, _ = hodgerank(wins)
    np.testing.assert_allclose([got[n] for n in items], expected, atol=1e-9)
