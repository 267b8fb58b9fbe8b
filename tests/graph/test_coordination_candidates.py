"""Candidate pairs for coordinated-voting detection at scale (graph/candidates.py):
the detector run on MinHash candidates flags the blocs the exhaustive
detector flags, while testing a small share of the pairs. Pure functions, no
database."""

import numpy as np
import pytest

from graph import candidates
from graph.coordination import ANSWERS, DetectionParameters, VoteRow, _Matrices, detect, synthetic_votes


def _partial(votes, bloc, keep, noise, seed=1):
    """The bloc answers only `keep` of its items, and `noise` of those at
    random: members alike, not identical."""
    rng = np.random.default_rng(seed)
    out = []
    for v in votes:
        if v.participant in bloc:
            if rng.random() > keep:
                continue
            if rng.random() < noise:
                v = VoteRow(v.participant, v.source, v.target, v.context, ANSWERS[rng.integers(3)], v.at)
        out.append(v)
    return out


PLANTED = {
    # name: (synthetic_votes keywords, (keep, noise) or None)
    "identical bloc, answering together": (dict(bloc_share=0.02), None),
    "alike bloc, answering together": (dict(bloc_share=0.02), (0.7, 0.1)),
    "alike bloc, at random times": (dict(bloc_share=0.02, bloc_timing=False), (0.8, 0.1)),
    "small alike bloc, at random times": (dict(bloc_share=0.005, bloc_timing=False), (0.8, 0.05)),
}


@pytest.mark.parametrize("name", list(PLANTED))
def test_candidates_flag_what_testing_every_pair_flags(name):
    kwargs, alike = PLANTED[name]
    votes, groups, bloc = synthetic_votes(1500, items=300, values=14, per_participant=10, seed=3, **kwargs)
    if alike:
        votes = _partial(votes, bloc, *alike)
    every = detect(votes, groups, DetectionParameters(candidates="all"))
    some = detect(votes, groups, DetectionParameters(candidates="lsh"))
    assert every.stats["candidates"] == "all" and some.stats["candidates"] == "lsh"
    assert every.flagged_ids, "the planted bloc is found by the exhaustive detector"
    assert every.flagged_ids <= bloc  # and nobody honest
    found = len(some.flagged_ids & every.flagged_ids) / len(every.flagged_ids)
    assert found >= 0.95, f"{name}: candidates found {found:.0%} of what testing every pair flagged"
    assert some.flagged_ids <= bloc
    # The point: a small share of the pairs is tested one by one ...
    assert some.stats["candidate_pairs"] < 0.05 * every.stats["pairs_tested"]
    # ... with the Bonferroni count of the exhaustive detector, estimated.
    assert some.stats["pairs_tested"] == pytest.approx(every.stats["pairs_tested"], rel=0.15)


def test_auto_tests_every_pair_when_cheap_and_candidates_when_not():
    votes, groups, bloc = synthetic_votes(400, bloc_share=0.02, items=120, seed=2)
    assert detect(votes, groups).stats["candidates"] == "all"
    costly = detect(votes, groups, DetectionParameters(max_exhaustive_work=1000))
    assert costly.stats["candidates"] == "lsh"
    assert costly.flagged_ids == detect(votes, groups, DetectionParameters(candidates="all")).flagged_ids


def test_minhash_collides_about_as_often_as_the_jaccard_similarity_says():
    """Two sets with Jaccard similarity s agree on one MinHash with chance s."""
    rng = np.random.default_rng(0)
    people, tokens = [], []
    for p in range(300):  # pairs (2k, 2k+1): 30 shared tokens of 50 in their union, s = 0.6
        base = rng.choice(10**6, size=50, replace=False)
        people += [2 * p] * 40 + [2 * p + 1] * 40
        tokens += [*base[:40], *base[10:50]]
    sig = candidates.minhash_signatures(np.array(people), np.array(tokens), 600, n_hashes=64, seed=1)
    agree = (sig[:, 0::2] == sig[:, 1::2]).mean()
    assert agree == pytest.approx(0.6, abs=0.03)
    # and strangers (disjoint sets) almost never agree
    assert (sig[:, 0:-2:2] == sig[:, 3::2]).mean() < 0.01


def test_a_huge_bucket_is_cut_so_its_pairs_stay_bounded():
    signatures = np.zeros((4, 1000), dtype=np.uint64)  # everyone identical: one bucket of 1,000
    everyone = candidates.band_pairs(signatures, bands=1, rows=4, max_bucket=1000)
    assert len(everyone) == 1000 * 999 // 2
    cut = candidates.band_pairs(signatures, bands=1, rows=4, max_bucket=100)
    assert len(cut) == 10 * (100 * 99 // 2)


def test_the_pair_sums_match_the_all_pairs_product():
    votes, groups, _ = synthetic_votes(200, bloc_share=0.05, items=60, seed=4)
    data = _Matrices.from_votes(votes, groups, DetectionParameters())
    voted = data.voted.tocsr()
    full = (voted @ voted.T).toarray()
    i, j = np.triu_indices(voted.shape[0], k=1)
    assert np.array_equal(candidates.pair_row_sums(voted, voted, i, j), full[i, j])
    rates = np.linspace(0.1, 0.9, voted.shape[1])
    expected = (voted.multiply(rates[None, :]) @ voted.T).toarray()
    assert np.allclose(candidates.pair_weighted_sums(voted, i, j, rates), expected[i, j])
    exact = int(((full >= 3) & ~np.eye(len(full), dtype=bool)).sum() // 2)
    assert candidates.estimate_pairs_sharing(voted, 3, sample=10**6) == exact
