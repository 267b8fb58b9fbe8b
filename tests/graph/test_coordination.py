"""The coordinated-voting detector on votes alone (no database): a hand-
computed pair, a planted bloc in a 300-participant study, the same study
without it, and the timing signal."""

import math

import networkx as nx
import pytest

from graph.coordination import (
    DetectionParameters,
    VoteRow,
    detect,
    precision_recall,
    quasi_cliques,
    synthetic_votes,
)


def test_a_pair_that_always_agrees_is_tested_against_the_items_base_rate_by_hand():
    # Four items; A and B answer yes to all, C and D no to all. Each item's answers are half yes,
    # half no, so two people agree by chance with p = 0.5² + 0.5² = 0.5 (no pseudo-votes).
    # A–B share 4 items and agree on 4: expected 2, P(Bin(4, 0.5) ≥ 4) = 1/16.
    votes = [VoteRow(p, 1, 2 + k, 1, "yes" if p in "AB" else "no") for p in "ABCD" for k in range(4)]
    params = DetectionParameters(prior_votes=0, alpha=0.5, min_group=2)  # 6 pairs: threshold 0.5 / 6 = 1/12
    detection = detect(votes, params=params)
    assert detection.flagged_ids == {"A", "B", "C", "D"}
    assert sorted(detection.groups) == [["A", "B"], ["C", "D"]]
    evidence = detection.flagged["A"].partners[0]
    assert (evidence.partner, evidence.shared, evidence.agreements) == ("B", 4, 4)
    assert evidence.expected == pytest.approx(2.0)
    assert evidence.log10_p == pytest.approx(math.log10(1 / 16))
    assert evidence.signals == ["agreement"] and evidence.co_timed == 0
    assert detection.stats["pairs_tested"] == 6
    # At the default error rate, four agreements are no evidence at all.
    assert detect(votes, params=DetectionParameters(prior_votes=0)).flagged == {}


def test_quasi_cliques_peel_the_loosely_attached():
    graph = nx.complete_graph(["a", "b", "c", "d"])
    graph.add_edges_from([("d", "e"), ("e", "f")])  # a tail hanging off the clique
    assert quasi_cliques(graph, min_size=3, density=0.5) == [{"a", "b", "c", "d"}]
    assert quasi_cliques(nx.path_graph(5), min_size=3, density=0.9) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_planted_ten_percent_bloc_is_found_among_300_participants(seed):
    votes, groups, bloc = synthetic_votes(300, bloc_share=0.1, seed=seed, bloc_timing=False)
    assert len(bloc) == 30
    detection = detect(votes, groups)
    precision, recall = precision_recall(detection.flagged_ids, bloc)
    assert precision >= 0.9 and recall >= 0.9
    # The evidence names partners in the bloc, with far more agreement than expected.
    some = detection.flagged[sorted(bloc)[0]]
    assert some.partners and all(p.partner in bloc for p in some.partners)
    assert all(p.agreements > p.expected + 5 and "agreement" in p.signals for p in some.partners)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nobody_is_flagged_in_the_same_study_without_the_bloc(seed):
    votes, groups, bloc = synthetic_votes(300, bloc_share=0.0, seed=seed)
    assert not bloc
    detection = detect(votes, groups)
    assert detection.flagged == {} and detection.stats["suspicious_pairs"] == 0
    # Heavy voters (20 stories each) share many stories, and still nobody is flagged.
    votes, groups, _ = synthetic_votes(300, bloc_share=0.0, seed=seed, per_participant=20)
    detection = detect(votes, groups)
    assert detection.stats["pairs_tested"] > 10_000 and detection.flagged == {}


def test_groups_base_rates_keep_like_minded_voters_apart_from_blocs():
    # Two camps that answer 24 items oppositely and consistently. Each item is half yes, half no,
    # so two people of a camp agreeing on all 24 has chance 0.5^24 overall; within the camp it is
    # what the camp's own answers predict, so nobody is flagged when the groups are given.
    votes = []
    groups = {}
    for i in range(40):
        camp = i % 2
        groups[f"p{i}"] = f"camp{camp}"
        for k in range(24):
            answer = "yes" if (k + camp) % 2 else "no"
            votes.append(VoteRow(f"p{i}", 1, 10 + k, 1, answer))
    assert detect(votes, groups).flagged == {}
    # Without the groups, each camp is one big "bloc" (as it votes identically).
    assert len(detect(votes).flagged) == 40


def test_timing_is_a_second_signal_with_its_own_evidence():
    votes, groups, bloc = synthetic_votes(300, bloc_share=0.1, seed=4, bloc_timing=True)
    detection = detect(votes, groups)
    assert precision_recall(detection.flagged_ids, bloc) == (1.0, 1.0)
    evidence = detection.flagged[sorted(bloc)[0]].partners[0]
    assert evidence.signals == ["agreement", "timing"]
    assert evidence.co_timed == evidence.shared and evidence.expected_co_timed < 0.1
    assert detection.stats["timing_pairs"] == 30 * 29 // 2
    # The same bloc at random times: found by agreement alone, and no pair is timed together.
    votes, groups, bloc = synthetic_votes(300, bloc_share=0.1, seed=4, bloc_timing=False)
    detection = detect(votes, groups)
    assert detection.flagged_ids == bloc and detection.stats["timing_pairs"] == 0


def test_answering_together_without_agreeing_is_not_coordination():
    # 20 people answer the same 15 stories in the same few seconds, each answer an honest coin
    # toss: timed together far beyond chance, but agreeing no more than expected: nobody flagged.
    import random

    rng = random.Random(7)
    votes = [
        VoteRow(f"p{i}", 1, 10 + k, 1, rng.choice(["yes", "no", "unsure"]), 1000.0 + k * 60 + rng.random())
        for i in range(20)
        for k in range(15)
    ]
    votes += [
        VoteRow(f"q{i}", 1, 10 + k, 1, rng.choice(["yes", "no", "unsure"]), rng.random() * 86400)
        for i in range(40)
        for k in rng.sample(range(15), 4)
    ]
    detection = detect(votes)
    assert detection.flagged == {}
    assert detection.stats["timing_pairs"] == 0


def test_precision_and_recall():
    assert precision_recall({"a", "b", "x"}, {"a", "b", "c", "d"}) == (2 / 3, 0.5)
    assert precision_recall(set(), {"a"}) == (None, 0.0)
