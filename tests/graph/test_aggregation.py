"""The graph's maths with hand-computed cases (no database)."""

import math

import pytest

from graph.aggregation import (
    Cell,
    Counts,
    Parameters,
    bootstrap,
    build,
    decide_edges,
    entropy,
    likelihood,
    pagerank,
    pair_contexts,
    pair_counts,
    positions,
    rank_subset,
    trajectory,
)

DEFAULT = Parameters()


def test_counts_sum_contexts_and_take_less_wise_from_the_reverse_direction():
    cells = [Cell(1, 2, 10, yes=3, no=1, impressions=5), Cell(1, 2, 11, yes=1, unsure=2, impressions=4),
             Cell(2, 1, 10, yes=2, no=4, impressions=7)]
    counts = pair_counts(cells)
    assert counts[(1, 2)] == Counts(wiser=4, not_wiser=1, unsure=2, less_wise=2, impressions=9)
    assert counts[(2, 1)] == Counts(wiser=2, not_wiser=4, unsure=0, less_wise=4, impressions=7)
    assert counts[(1, 2)].votes == 9
    assert pair_contexts(cells) == {(1, 2): [10, 11], (2, 1): [10]}
    # A direction nobody was shown does not appear, even when its reverse was voted on.
    assert (3, 1) not in pair_counts([Cell(1, 3, 10, yes=2)])


def test_likelihood():
    assert likelihood(Counts(wiser=4, not_wiser=1, unsure=2, less_wise=2)) == pytest.approx(2 / 9)
    assert likelihood(Counts(wiser=1, less_wise=3)) == pytest.approx(-0.5)
    assert likelihood(Counts(impressions=5)) == 0.0


def test_entropy_over_five_counts_and_over_answers_only():
    c = Counts(wiser=4, impressions=4)
    assert entropy(c, "five") == pytest.approx(1.0)      # two equal parts
    assert entropy(c, "answers") == pytest.approx(0.0)   # all answers agree
    assert entropy(Counts(1, 1, 1, 1, 1), "five") == pytest.approx(math.log2(5))
    # (3,2,2,0,3) over 10: -(2*.3*log2 .3 + 2*.2*log2 .2) = 1.971
    assert entropy(Counts(3, 2, 2, 0, 3), "five") == pytest.approx(1.9710, abs=1e-4)
    # (3,2,2,0) over 7: 1.557
    assert entropy(Counts(3, 2, 2, 0, 3), "answers") == pytest.approx(1.5567, abs=1e-4)
    assert entropy(Counts(), "five") == 0.0


def _one(counts: Counts, params=DEFAULT):
    edges, _ = decide_edges({(1, 2): counts}, {}, params)
    return edges[0]


def test_thresholds_at_their_boundaries():
    assert _one(Counts(wiser=2, impressions=2)).kept                     # wiser = 2 kept
    assert _one(Counts(wiser=1, impressions=1)).reason == "too_few_wiser"
    # likelihood exactly 0.33: (33 - 0) / (33 + 67) with no impressions; entropy 0.915
    at = _one(Counts(wiser=33, not_wiser=67))
    assert at.likelihood == pytest.approx(0.33) and at.kept
    below = _one(Counts(wiser=32, not_wiser=68))
    assert below.reason == "low_likelihood"
    # entropy exactly at the maximum is kept
    edge = _one(Counts(wiser=4, impressions=4), Parameters(max_entropy=1.0))
    assert edge.entropy == pytest.approx(1.0) and edge.kept
    # (4,1,0,0,4) over 9: 1.392 bits
    assert _one(Counts(wiser=4, not_wiser=1, impressions=4), Parameters(max_entropy=1.0)).reason == "high_entropy"


def test_default_entropy_counts_impressions_as_the_original_did():
    # (3,2,2,0,3): likelihood 3/7 = .43; five-count entropy 1.971 > 1.69 -> dropped;
    # over the answers only 1.557 -> kept.
    counts = Counts(wiser=3, not_wiser=2, unsure=2, impressions=3)
    assert _one(counts).reason == "high_entropy"
    assert _one(counts, Parameters(entropy_over="answers")).kept


def test_two_way_disagreement_drops_both_directions():
    params = Parameters(min_likelihood=-1.0, max_entropy=3)
    counts = pair_counts([Cell(1, 2, 1, yes=3, no=1), Cell(2, 1, 1, yes=3, no=1)])
    edges, cycles = decide_edges(counts, {}, params)
    assert [(e.source, e.target, e.kept, e.reason) for e in edges] == [(1, 2, False, "two_way"),
                                                                        (2, 1, False, "two_way")]
    assert cycles == []


def test_a_three_cycle_is_listed_once_and_excluded_and_its_tail_kept():
    cells = [Cell(1, 2, 1, yes=3), Cell(2, 3, 1, yes=3), Cell(3, 1, 1, yes=3), Cell(3, 4, 1, yes=3)]
    result = build(cells)
    reasons = {(e.source, e.target): e.reason for e in result.edges}
    assert reasons == {(1, 2): "cycle", (2, 3): "cycle", (3, 1): "cycle", (3, 4): ""}
    assert result.cycles == [[1, 2, 3]]
    assert [(e.source, e.target) for e in result.kept()] == [(3, 4)]


def test_pagerank_flows_to_the_wiser_value_and_follows_likelihood():
    cells = [Cell(1, 2, 1, yes=5), Cell(3, 4, 1, yes=3, no=2, impressions=0)]
    result = build(cells, Parameters(max_entropy=3))
    scores = result.scores
    assert scores[2] > scores[1] and scores[4] > scores[3]
    # 1→2 has likelihood 1.0, 3→4 0.6: but with one out-edge each, all weight goes to the target;
    # so compare a node with two incoming edges of different likelihood instead.
    fan = build([Cell(1, 3, 1, yes=5), Cell(2, 4, 1, yes=5), Cell(1, 4, 1, yes=3, no=2)], Parameters(max_entropy=3))
    assert fan.scores[4] > fan.scores[3]
    assert sum(scores.values()) == pytest.approx(1.0)
    assert pagerank([], nodes=[]) == {}
    assert positions({1: 0.2, 2: 0.5, 3: 0.2}) == {2: 1, 1: 2, 3: 3}


def test_ranking_within_contexts():
    result = build([Cell(1, 2, 10, yes=3), Cell(3, 4, 20, yes=3)])
    within = rank_subset(result, {10})
    assert set(within) == {1, 2} and within[2] > within[1]
    assert rank_subset(result, {99}) == {}


def test_bootstrap_is_deterministic_and_wide_when_votes_are_few():
    clear = [Cell(1, 2, 1, yes=40, no=2), Cell(3, 2, 1, yes=40, no=1), Cell(4, 2, 1, yes=35, no=3)]
    params = Parameters(bootstrap_samples=50, bootstrap_seed=3)
    first = bootstrap(clear, params)
    assert first == bootstrap(clear, params)
    assert first[2]["rank"] == first[2]["rank_low"] == first[2]["rank_high"] == 1
    assert first[2]["top_share"] == 1.0
    noisy = [Cell(1, 2, 1, yes=2, no=1), Cell(3, 4, 1, yes=2, no=1)]
    spread = bootstrap(noisy, Parameters(bootstrap_samples=200, bootstrap_seed=3, max_entropy=3))
    assert spread[2]["rank_high"] > spread[2]["rank_low"]
    assert 0 < spread[2]["top_share"] < 1
    assert bootstrap(clear, Parameters(bootstrap_samples=0)) == {}


def test_parameters_round_trip_and_refuse_bad_values():
    params = Parameters(min_wiser=3, entropy_over="answers")
    assert Parameters.from_dict(params.to_dict()) == params
    with pytest.raises(ValueError, match="unknown graph parameters: colour"):
        Parameters.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="entropy_over"):
        Parameters(entropy_over="six")
    with pytest.raises(ValueError, match="pagerank_alpha"):
        Parameters(pagerank_alpha=1.5)


def test_trajectory_positions_by_pagerank_and_by_direct_votes():
    events = [
        (1, 2, 1, "yes"), (1, 2, 1, "yes"),                  # after 2 events: 1→2 kept; 2 leads both rankings
        (3, 1, 1, "yes"), (3, 1, 1, "yes"), (3, 1, 1, "yes"),  # 1 gets 3 direct votes: most voted
        (4, 2, 1, "yes"), (4, 2, 1, "yes"),                  # 2 gets flow from 1 (and 3 through 1) and 4
    ]
    points = trajectory(events, value=2, checkpoints=7)
    assert [p["events"] for p in points] == [1, 2, 3, 4, 5, 6, 7]
    assert points[0] == {"events": 1, "pagerank_position": None, "votes_position": 1}
    assert points[1]["pagerank_position"] == 1 and points[1]["votes_position"] == 1
    # After 5 events value 1 has 3 direct votes and value 2 has 2: second by votes, still first by PageRank.
    assert points[4] == {"events": 5, "pagerank_position": 1, "votes_position": 2}
    assert points[6]["votes_position"] == 1 and points[6]["pagerank_position"] == 1
