"""The graph's maths with hand-computed cases (no database).

PageRank expectations use alpha = 0.85 and the uniform teleport/dangling
rule: every value without incoming edges gets the same base score t, and a
value gets t plus 0.85 × (its in-neighbours' scores × their edge's share of
their outgoing weight)."""

import math

import numpy as np
import pytest

from graph.aggregation import (
    REASONS,
    Cell,
    Counts,
    Edge,
    Parameters,
    bootstrap,
    bootstrap_by_context,
    build,
    decide_edges,
    entropy,
    likelihood,
    pagerank,
    pair_contexts,
    pair_counts,
    pair_counts_and_contexts,
    positions,
    rank_scopes,
    rank_subset,
    trajectory,
)

DEFAULT = Parameters()


def _edge(a, b, like):
    return Edge(a, b, Counts(), like, 0.0, [])


def _one(counts: Counts, params=DEFAULT):
    edges, _ = decide_edges({(1, 2): counts}, {}, params)
    return edges[0]


# --- counts ---------------------------------------------------------------------------


def test_counts_sum_contexts_and_take_less_wise_from_the_reverse_direction():
    cells = [
        Cell(1, 2, 10, yes=3, no=1, impressions=5),
        Cell(1, 2, 11, yes=1, unsure=2, impressions=4),
        Cell(2, 1, 10, yes=2, no=4, impressions=7),
    ]
    counts = pair_counts(cells)
    # (1,2): yes 3+1, no 1, unsure 2, impressions 5+4; less wise = yes on 2→1 = 2
    assert counts[(1, 2)] == Counts(wiser=4, not_wiser=1, unsure=2, less_wise=2, impressions=9)
    # (2,1): less wise = yes on 1→2 over both contexts = 4
    assert counts[(2, 1)] == Counts(wiser=2, not_wiser=4, unsure=0, less_wise=4, impressions=7)
    assert counts[(1, 2)].votes == 4 + 1 + 2 + 2
    assert counts[(2, 1)].votes == 2 + 4 + 0 + 4
    assert pair_contexts(cells) == {(1, 2): [10, 11], (2, 1): [10]}


def test_a_pair_needs_cells_of_its_own():
    # The reverse of a voted direction, never shown itself, is not a pair.
    assert set(pair_counts([Cell(1, 3, 10, yes=2)])) == {(1, 3)}
    # Shown but unanswered is a pair (its impressions count), and its context is listed.
    shown = [Cell(1, 3, 10, yes=2), Cell(3, 1, 12, impressions=4)]
    assert pair_counts(shown)[(3, 1)] == Counts(less_wise=2, impressions=4)
    assert pair_contexts(shown) == {(1, 3): [10], (3, 1): [12]}
    # An empty cell or a value compared with itself says nothing.
    assert pair_counts([Cell(1, 3, 10), Cell(4, 4, 10, yes=5)]) == {}
    assert pair_contexts([Cell(1, 3, 10), Cell(4, 4, 10, yes=5)]) == {}


def _random_cells(rng, n_values, n_cells, n_contexts=4):
    ids = rng.permutation(1000 * n_values)[:n_values] + 1
    return [
        Cell(int(ids[a]), int(ids[b]), int(c), yes=int(y), no=int(n), unsure=int(u), impressions=int(i))
        for a, b, c, y, n, u, i in zip(
            rng.integers(0, n_values, n_cells),
            rng.integers(0, n_values, n_cells),
            rng.integers(1, n_contexts + 1, n_cells),
            *rng.poisson(1.2, (4, n_cells)),
        )
    ]


@pytest.mark.parametrize("seed", range(6))
def test_array_counts_and_rules_equal_the_rules_written_per_pair(seed):
    """pair_counts_and_contexts and decide_edges (numpy inside) against the
    rules written out pair by pair, on random cells: repeated cells, empty
    ones, self-comparisons, pairs voted one way only; likelihood and entropy
    to the bit."""
    rng = np.random.default_rng(seed)
    cells = _random_cells(rng, n_values=[3, 8, 30, 200, 5, 60][seed], n_cells=[5, 40, 300, 3000, 0, 800][seed])
    own, where = {}, {}
    for c in cells:
        if c.source == c.target or c.is_empty():
            continue
        t = own.setdefault((c.source, c.target), [0, 0, 0, 0])
        for k, n in enumerate((c.yes, c.no, c.unsure, c.impressions)):
            t[k] += n
        where.setdefault((c.source, c.target), set()).add(c.context)
    expected = {
        (a, b): Counts(t[0], t[1], t[2], own[(b, a)][0] if (b, a) in own else 0, t[3]) for (a, b), t in own.items()
    }
    counts, contexts = pair_counts_and_contexts(cells)
    assert counts == expected
    assert contexts == {k: sorted(v) for k, v in where.items()}
    assert list(counts) == sorted(counts) and list(contexts) == sorted(counts)
    for params in (
        Parameters(min_wiser=1, min_likelihood=0.1, max_entropy=1.5),
        Parameters(entropy_over="answers"),
        Parameters(min_wiser=0, min_likelihood=-1.0, max_entropy=3.0, cycle_policy="keep"),
    ):
        edges, _ = decide_edges(counts, contexts, params)
        assert [(e.source, e.target) for e in edges] == sorted(counts)
        for e in edges:
            c = counts[(e.source, e.target)]
            like, ent = likelihood(c), entropy(c, params.entropy_over)
            assert (e.likelihood, e.entropy) == (like, ent)
            assert math.copysign(1, e.entropy) == math.copysign(1, ent)
            rule = (
                "too_few_wiser"
                if c.wiser < params.min_wiser
                else "low_likelihood"
                if like < params.min_likelihood - 1e-9
                else "high_entropy"
                if ent > params.max_entropy + 1e-9
                else ""
            )
            assert e.reason == rule or (not rule and e.reason in ("two_way", "cycle"))


def test_likelihood():
    assert likelihood(Counts(wiser=4, not_wiser=1, unsure=2, less_wise=2)) == pytest.approx((4 - 2) / 9)
    assert likelihood(Counts(wiser=1, less_wise=3)) == pytest.approx((1 - 3) / 4)  # -0.5
    assert likelihood(Counts(wiser=5)) == 1.0
    assert likelihood(Counts(wiser=5, impressions=100)) == 1.0  # impressions are not votes
    assert likelihood(Counts(impressions=5)) == 0.0  # no votes


def test_entropy_over_five_counts_and_over_answers_only():
    c = Counts(wiser=4, impressions=4)
    assert entropy(c, "five") == pytest.approx(1.0)  # two equal parts: 1 bit
    assert entropy(c, "answers") == 0.0  # all answers agree
    assert entropy(c) == pytest.approx(1.0)  # "five" is the default
    assert entropy(Counts(1, 1, 1, 1, 1), "five") == pytest.approx(math.log2(5))
    assert entropy(Counts(1, 1, 1, 1, 1), "answers") == pytest.approx(2.0)  # 4 equal parts
    # (3,2,2,0,3) over 10: -(2 × .3·log2 .3 + 2 × .2·log2 .2) = 1.0422 + 0.9288 = 1.9710
    assert entropy(Counts(3, 2, 2, 0, 3), "five") == pytest.approx(1.9710, abs=1e-4)
    # (3,2,2,0) over 7: 3/7·1.2224 + 2 × 2/7·1.8074 = 0.5239 + 1.0328 = 1.5567
    assert entropy(Counts(3, 2, 2, 0, 3), "answers") == pytest.approx(1.5567, abs=1e-4)
    assert entropy(Counts(), "five") == 0.0
    assert entropy(Counts(impressions=3), "answers") == 0.0
    with pytest.raises(ValueError, match="entropy over"):
        entropy(c, "six")


# --- thresholds --------------------------------------------------------------------


def test_thresholds_at_their_boundaries():
    assert _one(Counts(wiser=2, impressions=2)).kept  # wiser = 2 kept
    assert _one(Counts(wiser=1, impressions=1)).reason == "too_few_wiser"
    assert _one(Counts(wiser=2), Parameters(min_wiser=3)).reason == "too_few_wiser"
    # likelihood exactly 0.33: (33 - 0) / (33 + 67); entropy H(.33,.67) = 0.915 ≤ 1.69
    at = _one(Counts(wiser=33, not_wiser=67))
    assert at.likelihood == pytest.approx(0.33) and at.kept and at.reason == ""
    below = _one(Counts(wiser=32, not_wiser=68))  # 0.32
    assert not below.kept and below.reason == "low_likelihood"
    # entropy exactly at the maximum is kept: (4,0,0,0,4) is 1 bit
    edge = _one(Counts(wiser=4, impressions=4), Parameters(max_entropy=1.0))
    assert edge.entropy == pytest.approx(1.0) and edge.kept
    # (4,1,0,0,4) over 9: 2 × 4/9·1.1699 + 1/9·3.1699 = 1.0399 + 0.3522 = 1.392 bits
    over = _one(Counts(wiser=4, not_wiser=1, impressions=4), Parameters(max_entropy=1.0))
    assert over.entropy == pytest.approx(1.3921, abs=1e-4) and over.reason == "high_entropy"
    # a maximum equal to a computed entropy (log2 5 = 2.3219) keeps it; just below drops it
    uniform = Counts(1, 1, 1, 1, 1)
    assert _one(uniform, Parameters(min_wiser=1, min_likelihood=0, max_entropy=math.log2(5))).kept
    assert _one(uniform, Parameters(min_wiser=1, min_likelihood=0, max_entropy=2.32)).reason == "high_entropy"


def test_the_first_failing_rule_is_the_reason():
    # wiser 1, likelihood (1-3)/8 < 0, entropy high: all three fail; the first is reported.
    c = Counts(wiser=1, not_wiser=2, unsure=2, less_wise=3, impressions=8)
    assert _one(c).reason == "too_few_wiser"
    # with enough wiser votes, likelihood (2-3)/9 fails before entropy
    assert _one(Counts(wiser=2, not_wiser=2, unsure=2, less_wise=3, impressions=8)).reason == "low_likelihood"


def test_default_entropy_counts_impressions_as_the_original_did():
    # Kept: (6,1,1,0,4) over 12: .5·1 + 2 × 1/12·3.585 + 1/3·1.585 = .5 + .5975 + .5283 = 1.6258 ≤ 1.69;
    # likelihood 6/8 = .75.
    kept = _one(Counts(wiser=6, not_wiser=1, unsure=1, impressions=4))
    assert kept.kept and kept.entropy == pytest.approx(1.6258, abs=1e-4) and kept.likelihood == 0.75
    # Dropped: (3,2,2,0,3): likelihood 3/7 = .43; five-count entropy 1.971 > 1.69;
    # over the answers only 1.557 ≤ 1.69 -> kept.
    counts = Counts(wiser=3, not_wiser=2, unsure=2, impressions=3)
    assert _one(counts).reason == "high_entropy"
    answers_only = _one(counts, Parameters(entropy_over="answers"))
    assert answers_only.kept and answers_only.entropy == pytest.approx(1.5567, abs=1e-4)


# --- direction disagreement and cycles ---------------------------------------------------


def test_two_way_disagreement_drops_both_directions():
    cells = [Cell(1, 2, 1, yes=3), Cell(2, 1, 1, yes=4)]
    counts = pair_counts(cells)
    # 1→2: (3 - 4) / 7 = -0.143; 2→1: (4 - 3) / 7 = 0.143; entropy H(3/7, 4/7) = 0.985 both ways.
    loose = Parameters(min_likelihood=-1.0)
    edges, cycles = decide_edges(counts, pair_contexts(cells), loose)
    assert [(e.source, e.target, e.kept, e.reason) for e in edges] == [
        (1, 2, False, "two_way"),
        (2, 1, False, "two_way"),
    ]
    assert edges[0].likelihood == pytest.approx(-1 / 7) and edges[1].likelihood == pytest.approx(1 / 7)
    assert cycles == []
    # When only one direction passes, it is kept and the other fails on its own threshold.
    edges, _ = decide_edges(counts, {}, Parameters(min_likelihood=0.1))
    assert [(e.kept, e.reason) for e in edges] == [(False, "low_likelihood"), (True, "")]
    # With the default 0.33 neither passes: 1/7 is too low too.
    edges, _ = decide_edges(counts, {}, DEFAULT)
    assert [e.reason for e in edges] == ["low_likelihood", "low_likelihood"]
    assert build(cells, loose).scores == {}


def test_a_three_cycle_is_listed_once_and_excluded_and_its_tail_kept():
    cells = [Cell(1, 2, 1, yes=3), Cell(2, 3, 1, yes=3), Cell(3, 1, 1, yes=3), Cell(3, 4, 1, yes=3)]
    result = build(cells)
    reasons = {(e.source, e.target): e.reason for e in result.edges}
    assert reasons == {(1, 2): "cycle", (2, 3): "cycle", (3, 1): "cycle", (3, 4): ""}
    assert result.cycles == [[1, 2, 3]]
    assert [(e.source, e.target) for e in result.kept()] == [(3, 4)]
    # Only the tail is ranked: 3 → 4 alone, so 4 first.
    assert set(result.scores) == {3, 4} and positions(result.scores) == {4: 1, 3: 2}


def test_a_chord_inside_a_cycle_is_dropped_and_both_cycles_listed():
    # 1→2→3→4→1 with the chord 1→3: cycles (1,2,3,4) and (1,3,4); every edge lies on one.
    pairs = [(1, 2), (2, 3), (3, 4), (4, 1), (1, 3), (4, 5)]
    counts = {p: Counts(wiser=3) for p in pairs}
    edges, cycles = decide_edges(counts, {}, DEFAULT)
    assert cycles == [[1, 2, 3, 4], [1, 3, 4]]
    assert {(e.source, e.target) for e in edges if e.reason == "cycle"} == set(pairs) - {(4, 5)}
    assert [(e.source, e.target) for e in edges if e.kept] == [(4, 5)]


# A 3-cycle 1 → 2 → 3 → 1 with a tail 3 → 4. Likelihoods: 1→2 3/3 = 1, 2→3 3/4 = 0.75,
# 3→1 2/3 (the weakest), 3→4 1.
THREE_CYCLE = [Cell(1, 2, 1, yes=3), Cell(2, 3, 1, yes=3, no=1), Cell(3, 1, 1, yes=2, no=1), Cell(3, 4, 1, yes=3)]


def _reasons(result):
    return {(e.source, e.target): e.reason for e in result.edges}


def test_cycle_policy_drop_excludes_the_whole_three_cycle():
    result = build(THREE_CYCLE, Parameters(cycle_policy="drop"))
    assert _reasons(result) == {(1, 2): "cycle", (2, 3): "cycle", (3, 1): "cycle", (3, 4): ""}
    assert result.cycles == [[1, 2, 3]]
    assert build(THREE_CYCLE).scores == result.scores  # drop is the default


def test_cycle_policy_keep_keeps_the_cycle_and_lists_none():
    result = build(THREE_CYCLE, Parameters(cycle_policy="keep"))
    assert _reasons(result) == {(1, 2): "", (2, 3): "", (3, 1): "", (3, 4): ""}
    assert result.cycles == []
    assert set(result.scores) == {1, 2, 3, 4}


def test_cycle_policy_break_weakest_removes_the_lowest_likelihood_edge():
    result = build(THREE_CYCLE, Parameters(cycle_policy="break_weakest"))
    assert _reasons(result) == {(1, 2): "", (2, 3): "", (3, 1): "weakest_in_cycle", (3, 4): ""}
    assert result.cycles == [[1, 2, 3]]  # still listed: it was found, then broken
    # What is left is the chain 1 → 2 → 3 → 4: score flows down it, so 4 first and 1 last.
    assert [(e.source, e.target) for e in result.kept()] == [(1, 2), (2, 3), (3, 4)]
    assert positions(result.scores) == {4: 1, 3: 2, 2: 3, 1: 4}


def test_break_weakest_ties_go_to_the_smaller_pair():
    cells = [Cell(1, 2, 1, yes=3), Cell(2, 3, 1, yes=3), Cell(3, 1, 1, yes=3)]
    result = build(cells, Parameters(cycle_policy="break_weakest"))
    assert _reasons(result) == {(1, 2): "weakest_in_cycle", (2, 3): "", (3, 1): ""}
    # the same whatever order the cells come in
    assert _reasons(build(cells[::-1], Parameters(cycle_policy="break_weakest"))) == _reasons(result)


def test_break_weakest_repeats_until_no_cycle_is_left():
    # 1→2→3→4→1 with the chord 1→3. First the weakest of the whole component, 2→3 (0.6); then
    # 1→3→4→1 is still a cycle and its weakest, 4→1 (0.75), goes.
    counts = {
        (1, 2): Counts(wiser=3),
        (2, 3): Counts(wiser=3, not_wiser=2),
        (3, 4): Counts(wiser=3),
        (4, 1): Counts(wiser=3, not_wiser=1),
        (1, 3): Counts(wiser=3),
        (4, 5): Counts(wiser=3),
    }
    edges, cycles = decide_edges(counts, {}, Parameters(cycle_policy="break_weakest"))
    assert cycles == [[1, 2, 3, 4], [1, 3, 4]]
    assert {(e.source, e.target) for e in edges if e.reason == "weakest_in_cycle"} == {(2, 3), (4, 1)}
    assert [(e.source, e.target) for e in edges if e.kept] == [(1, 2), (1, 3), (3, 4), (4, 5)]


def test_cycle_listing_is_capped_at_100():
    # A tournament on 8 values (i→j when j - i mod 8 is 1, 2 or 3, and i→i+4) has 367 simple cycles.
    pairs = [
        (i, j)
        for i in range(1, 9)
        for j in range(1, 9)
        if i != j and ((j - i) % 8 in (1, 2, 3) or ((j - i) % 8 == 4 and i < j))
    ]
    edges, cycles = decide_edges({p: Counts(wiser=3) for p in pairs}, {}, DEFAULT)
    assert len(edges) == 28 and all(e.reason == "cycle" for e in edges)
    assert len(cycles) == 100
    assert all(c[0] == min(c) for c in cycles) and len({tuple(c) for c in cycles}) == 100


def test_edge_to_dict_is_json_ready():
    edges, _ = decide_edges({(1, 2): Counts(wiser=2, not_wiser=1, impressions=3)}, {(1, 2): [7, 9]}, DEFAULT)
    # likelihood 2/3; entropy of (2,1,0,0,3) over 6: 1/3·1.585 + 1/6·2.585 + 1/2·1 = 1.459148
    assert edges[0].to_dict() == {
        "source": 1,
        "target": 2,
        "counts": {"wiser": 2, "not_wiser": 1, "unsure": 0, "less_wise": 0, "impressions": 3},
        "likelihood": 0.666667,
        "entropy": 1.459148,
        "contexts": [7, 9],
        "kept": True,
        "reason": "",
    }
    assert REASONS["two_way"] == "kept in both directions (participants disagree on direction)"
    assert set(REASONS) == {"too_few_wiser", "low_likelihood", "high_entropy", "two_way", "cycle", "weakest_in_cycle"}


# --- PageRank -------------------------------------------------------------------------


def test_pagerank_flows_to_the_wiser_value():
    # One edge 1→2, 2 dangling: x1 = .15/2 + .85·x2/2 and x1 + x2 = 1
    # -> x1 = .075 + .425(1 - x1) -> x1 = .5 / 1.425 = .350877, x2 = .649123
    scores = pagerank([_edge(1, 2, 1.0)])
    assert scores[1] == pytest.approx(0.350877, abs=1e-5)
    assert scores[2] == pytest.approx(0.649123, abs=1e-5)
    # alpha .5: x1 = .25 + .25·x2 -> x1 = .5 / 1.25 = .4
    assert pagerank([_edge(1, 2, 1.0)], alpha=0.5)[1] == pytest.approx(0.4, abs=1e-5)
    # An isolated value: x1 = x3 = t, x2 = t + .85t, 3.85t = 1 -> t = .259740, x2 = .480519
    with_isolated = pagerank([_edge(1, 2, 1.0)], nodes=[3])
    assert with_isolated == pytest.approx({1: 0.259740, 2: 0.480519, 3: 0.259740}, abs=1e-5)
    assert pagerank([], nodes=[]) == {} and pagerank([]) == {}
    assert pagerank([], nodes=[5]) == pytest.approx({5: 1.0})


def test_pagerank_weights_follow_likelihood():
    # 1→2 (likelihood 1.0) and 1→3 (0.6): 1 sends 1/1.6 = .625 of its flow to 2, .375 to 3.
    # x1 = t = 1/3 / (1 + .85/3) = .259740; x2 = t(1 + .85·.625) = .397727; x3 = t(1 + .85·.375) = .342532
    cells = [Cell(1, 2, 1, yes=3), Cell(1, 3, 1, yes=3, no=2)]
    result = build(cells)
    assert [e.likelihood for e in result.kept()] == [1.0, 0.6]
    assert result.scores == pytest.approx({1: 0.259740, 2: 0.397727, 3: 0.342532}, abs=1e-5)
    assert sum(result.scores.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "n, n_edges, alpha, seed",
    [
        (2, 1, 0.85, 0),
        (12, 20, 0.85, 1),
        (60, 150, 0.5, 2),
        (250, 400, 0.85, 3),
        (800, 1500, 0.85, 4),
        (2000, 1200, 0.95, 5),
        (400, 4000, 0.3, 6),
    ],
)
def test_pagerank_matches_networkx_on_random_graphs(n, n_edges, alpha, seed):
    """The array PageRank against networkx's own, on graphs with dangling
    and isolated values, weights from 1e-9 to 1, some pairs both ways, on
    both sides of the dense/sparse switch; same keys in the same order."""
    import networkx as nx

    rng = np.random.default_rng(seed)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, (n_edges, 2)) if a != b}
    ids = rng.permutation(10 * n)[:n] + 1  # ids are not 0..n-1
    edges = [
        _edge(int(ids[a]), int(ids[b]), float(w))
        for (a, b), w in zip(sorted(pairs), rng.choice([1e-9, 0.2, 0.5, 1.0], len(pairs)))
    ]
    nodes = [int(i) for i in ids[rng.random(n) < 0.5]]
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_weighted_edges_from((e.source, e.target, max(e.likelihood, 1e-9)) for e in edges)
    expected = nx.pagerank(graph, alpha=alpha, weight="weight", tol=1e-6, max_iter=10_000)
    scores = pagerank(edges, nodes=nodes, alpha=alpha)
    assert list(scores) == list(expected)
    assert max(abs(scores[k] - expected[k]) for k in expected) < 1e-9
    assert sum(scores.values()) == pytest.approx(1.0)


def test_pagerank_of_a_pair_given_twice_takes_the_last_weight_as_networkx_does():
    twice = pagerank([_edge(1, 2, 0.2), _edge(1, 3, 1.0), _edge(1, 2, 1.0)])
    assert twice == pytest.approx(pagerank([_edge(1, 2, 1.0), _edge(1, 3, 1.0)]))
    assert list(twice) == [1, 2, 3]


def test_positions_break_ties_by_smaller_id():
    assert positions({1: 0.2, 2: 0.5, 3: 0.2}) == {2: 1, 1: 2, 3: 3}
    assert positions({}) == {}
    # 0.1 + 0.2 is 0.30000000000000004 in floating point: still a tie with 0.3, so id 1 first
    assert positions({2: 0.3, 1: 0.1 + 0.2, 3: 0.4}) == {3: 1, 1: 2, 2: 3}


def test_ranking_within_contexts():
    # 1→2 in context 10, 3→2 in 20, 2→4 in both.
    cells = [Cell(1, 2, 10, yes=3), Cell(3, 2, 20, yes=3), Cell(2, 4, 10, yes=2), Cell(2, 4, 20, yes=2)]
    result = build(cells)
    assert [(e.source, e.target, e.contexts) for e in result.kept()] == [(1, 2, [10]), (2, 4, [10, 20]), (3, 2, [20])]
    # A chain a→b→c: x_a = t, x_b = 1.85t, x_c = t(1 + .85·1.85) = 2.5725t; 5.4225t = 1
    # -> t = .184417, x_b = .341171, x_c = .474412
    chain = (0.184417, 0.341171, 0.474412)
    assert rank_subset(result, {10}) == pytest.approx(dict(zip((1, 2, 4), chain)), abs=1e-5)
    assert rank_subset(result, {20}) == pytest.approx(dict(zip((3, 2, 4), chain)), abs=1e-5)
    # Both contexts: the global graph (1 and 3 feed 2, which feeds 4).
    assert rank_subset(result, {10, 20}) == pytest.approx(result.scores)
    assert rank_subset(result, {99}) == {}


@pytest.mark.parametrize("seed", range(4))
def test_rank_scopes_equal_pagerank_on_each_scopes_edges(seed):
    """Many scopes ranked in one pass give, to the bit and in the same key
    order, PageRank over each scope's own kept edges (rank_subset's rule)."""
    rng = np.random.default_rng(seed)
    cells = _random_cells(rng, n_values=[6, 40, 400, 25][seed], n_cells=[30, 400, 4000, 300][seed], n_contexts=6)
    result = build(cells, Parameters(min_wiser=1, min_likelihood=0.2, max_entropy=3.0, cycle_policy="break_weakest"))
    kept = result.kept()
    assert kept
    scopes = {"one": {1}, "three": {2, 4, 6}, "all": set(range(1, 7)), "none": {99}, "empty": set()}
    ranked = rank_scopes(kept, scopes)
    for name, contexts in scopes.items():
        expected = pagerank([e for e in kept if contexts.intersection(e.contexts)])
        assert ranked[name] == expected and list(ranked[name]) == list(expected)
        assert rank_subset(result, contexts) == expected


# --- bootstrap -------------------------------------------------------------------------


def test_bootstrap_is_deterministic_and_certain_of_a_clear_winner():
    clear = [Cell(1, 2, 1, yes=40, no=2), Cell(3, 2, 1, yes=40, no=1), Cell(4, 2, 1, yes=35, no=3)]
    params = Parameters(bootstrap_samples=50, bootstrap_seed=3)
    first = bootstrap(clear, params)
    assert first == bootstrap(clear, params)
    assert set(first) == {1, 2, 3, 4}
    assert first[2] == {"rank": 1, "rank_low": 1, "rank_high": 1, "rank_median": 1.0, "top_share": 1.0}
    assert bootstrap(clear, Parameters(bootstrap_samples=0)) == {}
    assert bootstrap([], params) == {}


def test_bootstrap_is_wide_when_votes_are_few():
    clear = [Cell(1, 2, 1, yes=40, no=2), Cell(3, 2, 1, yes=40, no=1), Cell(4, 2, 1, yes=35, no=3)]
    # Two separate edges with 2 yes / 1 no each: a resample often leaves one of them with < 2 yes,
    # so 2 and 4 trade places (tied, 2 wins by id; if 1→2 drops, 4 leads).
    noisy = [Cell(1, 2, 1, yes=2, no=1), Cell(3, 4, 1, yes=2, no=1)]
    spread = bootstrap(noisy, Parameters(bootstrap_samples=200, bootstrap_seed=3))
    certain = bootstrap(clear, Parameters(bootstrap_samples=200, bootstrap_seed=3))
    assert spread[2]["rank"] == 1 and spread[4]["rank"] == 2
    assert spread[2]["rank_high"] - spread[2]["rank_low"] > certain[2]["rank_high"] - certain[2]["rank_low"] == 0
    assert 0 < spread[2]["top_share"] < 1 and 0 < spread[4]["top_share"] < 1


def _replay_bootstrap(cells, params, nodes=None):
    """The documented draw (default_rng(seed), one multinomial of all answers
    over the (cell, yes/no/unsure) categories per sample, impressions kept)
    replayed through `build`: each value's positions over the samples."""
    full = positions(build(cells, params, nodes).scores)
    answers = np.array([[c.yes, c.no, c.unsure] for c in cells]).reshape(-1)
    rng = np.random.default_rng(params.bootstrap_seed)
    ranks = {n: [] for n in full}
    for _ in range(params.bootstrap_samples):
        draw = rng.multinomial(answers.sum(), answers / answers.sum()).reshape(-1, 3)
        sample = [
            Cell(c.source, c.target, c.context, *map(int, d), impressions=c.impressions) for c, d in zip(cells, draw)
        ]
        sample_positions = positions(build(sample, params, nodes=list(full)).scores)
        for n in full:
            ranks[n].append(sample_positions[n])
    return full, ranks


REPLAY_CELLS = [
    Cell(1, 2, 1, yes=3, no=1, impressions=4),
    Cell(2, 1, 1, yes=1, impressions=2),
    Cell(2, 3, 2, yes=2, unsure=1, impressions=3),
    Cell(3, 1, 2, yes=2, impressions=2),
    Cell(3, 4, 1, yes=4, no=2, unsure=1, impressions=7),
    Cell(5, 4, 2, yes=2, impressions=1),
    Cell(6, 7, 1, yes=1, no=2),
    Cell(7, 6, 1, yes=2, no=1),
    Cell(8, 5, 2, impressions=3),
]


@pytest.mark.parametrize(
    "params, nodes",
    [
        (Parameters(bootstrap_samples=60, bootstrap_seed=11, min_likelihood=0.2), [1, 2, 3, 4, 5, 6, 9]),
        (Parameters(bootstrap_samples=60, bootstrap_seed=5), None),
        (Parameters(bootstrap_samples=60, bootstrap_seed=7, min_likelihood=-1.0, entropy_over="answers"), None),
        (Parameters(bootstrap_samples=60, bootstrap_seed=2, min_wiser=0, min_likelihood=-0.5), None),
        (Parameters(bootstrap_samples=60, bootstrap_seed=3, min_likelihood=0.2, cycle_policy="keep"), None),
        (
            Parameters(bootstrap_samples=60, bootstrap_seed=4, min_likelihood=0.2, cycle_policy="break_weakest"),
            [1, 2, 3, 4, 5, 6, 9],
        ),
        (
            Parameters(
                bootstrap_samples=60, bootstrap_seed=9, min_wiser=0, min_likelihood=-0.5, cycle_policy="break_weakest"
            ),
            None,
        ),
    ],
)
def test_bootstrap_samples_follow_the_same_rules_as_build(params, nodes):
    got = bootstrap(REPLAY_CELLS, params, nodes=nodes)
    full, ranks = _replay_bootstrap(REPLAY_CELLS, params, nodes)
    assert set(got) == set(full)
    for n, column in ranks.items():
        assert got[n]["rank"] == full[n]
        assert got[n]["rank_low"] == int(np.percentile(column, 2.5, method="lower"))
        assert got[n]["rank_high"] == int(np.percentile(column, 97.5, method="higher"))
        assert got[n]["rank_median"] == float(np.median(column))
        assert got[n]["top_share"] == round(column.count(1) / params.bootstrap_samples, 4)
    # and the samples did vary (the check above is not comparing constants)
    assert any(len(set(column)) > 1 for column in ranks.values())


def _replay_context_bootstrap(cells, params, context):
    """The same draws replayed through `build` and `rank_subset`'s rule: per
    sample, PageRank over the sample's kept edges voted on in the context,
    with the values ranked there on the full data counted even without edges."""
    full = positions(rank_subset(build(cells, params), {context}, params.pagerank_alpha))
    answers = np.array([[c.yes, c.no, c.unsure] for c in cells]).reshape(-1)
    rng = np.random.default_rng(params.bootstrap_seed)
    ranks = {n: [] for n in full}
    for _ in range(params.bootstrap_samples):
        draw = rng.multinomial(answers.sum(), answers / answers.sum()).reshape(-1, 3)
        sample = [
            Cell(c.source, c.target, c.context, *map(int, d), impressions=c.impressions) for c, d in zip(cells, draw)
        ]
        edges = [e for e in build(sample, params).kept() if context in e.contexts]
        sample_positions = positions(pagerank(edges, nodes=list(full), alpha=params.pagerank_alpha))
        for n in full:
            ranks[n].append(sample_positions[n])
    return full, ranks


@pytest.mark.parametrize(
    "params",
    [
        Parameters(bootstrap_samples=60, bootstrap_seed=11, min_likelihood=0.2),
        Parameters(bootstrap_samples=60, bootstrap_seed=5, min_wiser=1),
        Parameters(
            bootstrap_samples=60, bootstrap_seed=9, min_wiser=0, min_likelihood=-0.5, cycle_policy="break_weakest"
        ),
    ],
)
def test_the_rank_interval_within_each_context_follows_the_same_rules(params):
    got = bootstrap_by_context(REPLAY_CELLS, params)
    varied = False
    for context in (1, 2):
        full, ranks = _replay_context_bootstrap(REPLAY_CELLS, params, context)
        assert set(got.get(context, {})) == set(full)
        for n, column in ranks.items():
            assert got[context][n]["rank"] == full[n]
            assert got[context][n]["rank_low"] == int(np.percentile(column, 2.5, method="lower"))
            assert got[context][n]["rank_high"] == int(np.percentile(column, 97.5, method="higher"))
            assert got[context][n]["top_share"] == round(column.count(1) / params.bootstrap_samples, 4)
            varied |= len(set(column)) > 1
    assert varied  # the samples did vary


def test_a_value_settled_in_one_context_and_contested_in_another():
    cells = [
        Cell(1, 2, 10, yes=40, no=1),
        Cell(3, 2, 10, yes=38, no=2),  # in 10, 2 is clearly wisest
        Cell(4, 5, 20, yes=2, no=1),
        Cell(6, 7, 20, yes=2, no=1),
    ]  # in 20, 5 and 7 trade places
    params = Parameters(bootstrap_samples=200, bootstrap_seed=3)
    got = bootstrap_by_context(cells, params)
    assert set(got) == {10, 20} and set(got[10]) == {1, 2, 3} and set(got[20]) == {4, 5, 6, 7}
    assert got[10][2] == {"rank": 1, "rank_low": 1, "rank_high": 1, "rank_median": 1.0, "top_share": 1.0}
    assert got[20][5]["rank"] == 1 and got[20][5]["rank_high"] > 1 and 0 < got[20][5]["top_share"] < 1
    assert bootstrap_by_context(cells, params, contexts=[20]).keys() == {20}
    assert bootstrap_by_context(cells, Parameters(bootstrap_samples=0)) == {}
    # One context holding every vote: the same interval as the global bootstrap.
    one = [Cell(c.source, c.target, 10, c.yes, c.no, c.unsure, c.impressions) for c in REPLAY_CELLS]
    assert bootstrap_by_context(one, params)[10] == bootstrap(one, params)


# --- parameters -----------------------------------------------------------------------


def test_parameters_round_trip_and_refuse_bad_values():
    params = Parameters(min_wiser=3, entropy_over="answers", max_entropy=2)
    assert params.max_entropy == 2.0 and isinstance(params.max_entropy, float)
    assert Parameters.from_dict(params.to_dict()) == params
    assert Parameters.from_dict({}) == DEFAULT
    assert DEFAULT.to_dict() == {
        "min_wiser": 2,
        "min_likelihood": 0.33,
        "max_entropy": 1.69,
        "entropy_over": "five",
        "pagerank_alpha": 0.85,
        "bootstrap_samples": 200,
        "bootstrap_seed": 0,
        "cycle_policy": "drop",
    }
    with pytest.raises(ValueError, match="unknown graph parameters: colour"):
        Parameters.from_dict({"colour": "red", "min_wiser": 2})
    bad = [
        ({"entropy_over": "six"}, "entropy_over"),
        ({"pagerank_alpha": 1.0}, "pagerank_alpha"),
        ({"pagerank_alpha": 0}, "pagerank_alpha"),
        ({"pagerank_alpha": 1.5}, "pagerank_alpha"),
        ({"bootstrap_samples": -1}, "bootstrap_samples"),
        ({"bootstrap_samples": 2.5}, "bootstrap_samples"),
        ({"min_wiser": "3"}, "min_wiser"),
        ({"min_wiser": -1}, "min_wiser"),
        ({"min_likelihood": 1.5}, "min_likelihood"),
        ({"max_entropy": -0.1}, "max_entropy"),
        ({"max_entropy": float("nan")}, "max_entropy"),
        ({"bootstrap_seed": -2}, "bootstrap_seed"),
        ({"cycle_policy": "ignore"}, "cycle_policy"),
    ]
    for data, name in bad:
        with pytest.raises(ValueError, match=name):
            Parameters.from_dict(data)
    with pytest.raises(ValueError, match="mapping"):
        Parameters.from_dict([("min_wiser", 2)])


# --- trajectory (paper Fig. 12) ----------------------------------------------------------

STAGES = [
    # 1: 1→2 shown 3 times, 2 yes, 1 unsure: (2,0,1,0,3) entropy 1.459, likelihood 2/3 -> kept
    [
        (1, 2, 1, "impression"),
        (1, 2, 1, "yes"),
        (1, 2, 1, "impression"),
        (1, 2, 1, "yes"),
        (1, 2, 1, "impression"),
        (1, 2, 1, "unsure"),
    ],
    # 2: value 4 gets 6 direct votes from 3 and 5
    [(3, 4, 1, "yes")] * 3 + [(5, 4, 1, "yes")] * 3,
    # 3: 4→2: (2,0,0,0,4) entropy 0.918 -> kept; 2 now has 4 direct votes
    [
        (4, 2, 1, "impression"),
        (4, 2, 1, "yes"),
        (4, 2, 1, "impression"),
        (4, 2, 1, "yes"),
        (4, 2, 1, "impression"),
        (4, 2, 1, "impression"),
    ],
    # 4: value 10 gets 5 direct votes from 9: (5,0,0,0,1) entropy 0.650 -> kept
    [(9, 10, 2, "yes")] * 5 + [(9, 10, 2, "impression")],
]
EVENTS = [e for stage in STAGES for e in stage]


def test_trajectory_rises_by_pagerank_while_falling_by_votes():
    points = trajectory(EVENTS, value=2, checkpoints=4)  # checkpoints after each stage of 6 events
    # Base score t for values without incoming edges:
    # after 6:  1→2 only; 2 first both ways.
    # after 12: x2 = t + .85t = 1.85t < x4 = t + .85·2t = 2.7t -> 2 second; votes 4:6, 2:2 -> second.
    # after 18: x4 = 2.7t, x2 = t + .85(t + 2.7t) = 4.145t -> 2 first; votes 4:6, 2:4 -> second.
    # after 24: x10 = 1.85t < x4 < x2 -> 2 still first; votes 4:6, 10:5, 2:4 -> third.
    assert points == [
        {"events": 6, "pagerank_position": 1, "votes_position": 1},
        {"events": 12, "pagerank_position": 2, "votes_position": 2},
        {"events": 18, "pagerank_position": 1, "votes_position": 2},
        {"events": 24, "pagerank_position": 1, "votes_position": 3},
    ]
    assert [p["pagerank_position"] for p in trajectory(EVENTS, value=4, checkpoints=4)] == [None, 1, 2, 2]


def test_trajectory_positions_are_none_before_a_value_is_in_the_graph():
    # 8 checkpoints of 3 events; after 3 events 1→2 has a single yes: no kept edge yet.
    points = trajectory(EVENTS, value=2, checkpoints=8)
    assert [p["events"] for p in points] == [3, 6, 9, 12, 15, 18, 21, 24]
    assert points[0] == {"events": 3, "pagerank_position": None, "votes_position": 1}
    assert trajectory(EVENTS, value=99, checkpoints=2) == [
        {"events": 12, "pagerank_position": None, "votes_position": None},
        {"events": 24, "pagerank_position": None, "votes_position": None},
    ]
    # Stricter parameters: with min_wiser 3, neither edge into 2 (2 yes each) is kept.
    strict = trajectory(EVENTS, value=2, checkpoints=1, params=Parameters(min_wiser=3))
    assert strict == [{"events": 24, "pagerank_position": None, "votes_position": 3}]
    with pytest.raises(ValueError, match="event kind"):
        trajectory([(1, 2, 1, "maybe")], value=2, checkpoints=1)
    with pytest.raises(ValueError, match="checkpoints"):
        trajectory(EVENTS, value=2, checkpoints=0)
