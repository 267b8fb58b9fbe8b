"""Coordinated voting: participants whose wisdom votes agree far more often
than the votes' base rates predict, in dense groups, with timing as a
second signal. In the spirit of Community Notes' two detectors (pairs of
raters that are too alike, grouped into quasi-cliques; ratings close in
time). Pure functions over vote rows, no database.

Entry point: `detect(votes, groups=None, params=None) -> Detection`.

How it decides
--------------
An *item* is one question: (from value, to value, context). For every two
participants who answered at least `min_shared` of the same items:

- agreement: `a` of their `n` shared items have the same answer. Under
  independence, item k's agreement probability is p_k = Σ_answer q_k(answer)²,
  with q_k the item's answer shares (shrunk towards the whole study's answer
  shares by `prior_votes` pseudo-votes; within the pair's group when both
  are in one group with at least `min_group_votes` answers on the item, so
  like-minded people agreeing is not taken for coordination). The p-value
  is P(Binomial(n, p̄) ≥ a) with p̄ the mean p_k over the shared items,
  which by Hoeffding (1956) is never smaller than the exact Poisson-binomial
  tail for a ≥ n·p̄ + 1: conservative.
- timing: `c` of the shared items were answered by both in the same or
  neighbouring bins of `window_seconds` (so always when less than a window
  apart, sometimes up to two); item k's chance of that under independence
  is r_k = min(1, 3·window / span_k), span_k the time between its first
  and last answer. P(Binomial(n, r̄) ≥ c) as above.

A pair is suspicious when its agreement p-value is below alpha / (pairs
tested) (Bonferroni), or when its timing p-value is *and* its agreement
p-value is below `timing_agreement_p` without correction (timing alone is
not enough: people answering a newly written story in the same minute are
not a bloc unless they also answer alike). Suspicious pairs
form a graph; a connected piece of at least `min_group` participants is
peeled (the least-connected participant removed) until every member is
linked to at least `density` of the others (a γ-quasi-clique); its members
are flagged.

A bloc that dominates an item also shifts its base rate towards itself
(its agreements then look unsurprising), so the first round takes one
study-wide agreement rate for every item, which a bloc cannot bend; later
rounds take each item's own rate estimated without the participants the
round before flagged, up to `rounds` rounds or until the flagged set stops
changing. The final decision is always made on per-item rates, so honest
consensus on an item is not mistaken for coordination.

Cost
----
Participants × items are sparse matrices; the pair counts are sparse
products X·Xᵀ (shared items), Z·Zᵀ with one column per (item, answer)
(agreements) and (X∘p)·Xᵀ (expected agreements; again each round), done in
blocks of rows so memory stays bounded.
Only pairs that share an item are ever touched (an inverted index in
effect), so the work is Σ_k n_k² over items k with n_k answers, not
participants². When the number of stories is fixed and participants grow,
n_k grows with them and that sum is quadratic in participants (each story
pairs everyone who answered it); when stories grow with participants (new
values, new stories, as in a real study) it grows roughly linearly.
Above `max_exhaustive_work` (Σ_k n_k²) the pairs tested are candidates
instead (`candidates="auto"`; graph/candidates.py): pairs alike in their
(item, answer) sets by MinHash banding, and pairs with two or more answers
timed together, each then tested exactly as above, with the Bonferroni count
of the pairs the exhaustive detector would test estimated from a sample of
people; once the first round has found suspicious pairs, every pair inside
each connected piece of them is tested too, so a group's density is judged
on all its members' links. Time and memory then grow with the votes and the
candidates, not with the co-voting pairs.
docs/performance.md ("Coordinated-voting detection") has the figures.
Timing is counted by sparse products too, over (item, time bin) columns,
so a large bloc answering at once costs memory for its pairs once, not
once per story.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

import networkx as nx
import numpy as np
import scipy.sparse as sparse
from scipy.sparse import csgraph
from scipy.stats import binom

from graph import candidates

ANSWERS = ("yes", "no", "unsure")
MAX_PARTNERS_LISTED = 25


@dataclass(frozen=True)
class VoteRow:
    """One participant's answer on one item; `at` in seconds (any epoch), or None."""

    participant: str
    source: int
    target: int
    context: int
    answer: str
    at: float | None = None


@dataclass(frozen=True)
class DetectionParameters:
    min_shared: int = 3  # items two participants must share to be tested
    alpha: float = 0.01  # family-wise error rate over the pairs tested (Bonferroni)
    window_seconds: float = 10.0  # answers this close in time count as "together"
    min_group: int = 3  # smallest group flagged
    density: float = 0.5  # each member linked to at least this share of the group
    prior_votes: float = 3.0  # pseudo-votes shrinking an item's answer shares to the study's
    min_group_votes: int = 5  # answers a group needs on an item for its own base rate
    timing_agreement_p: float = 0.01  # a timed-together pair must also agree this surprisingly (uncorrected)
    rounds: int = 3  # base rates re-estimated without the flagged
    block_rows: int = 4096  # participants per block of the sparse products
    # Which pairs are tested: "all" (every pair sharing min_shared items),
    # "lsh" (candidates from MinHash banding and answers timed together,
    # graph/candidates.py), or "auto": "lsh" when testing all would touch more
    # than max_exhaustive_work pairs of answers (Σ_k n_k² over items).
    candidates: str = "auto"
    max_exhaustive_work: int = 5_000_000
    lsh_bands: int = 40
    lsh_rows: int = 5  # a pair of Jaccard similarity s is a candidate with chance 1 − (1 − s^5)^40
    lsh_max_bucket: int = 5000
    tested_sample: int = 300  # people whose partners are counted to estimate the pairs tested
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PairEvidence:
    partner: str
    shared: int
    agreements: int
    expected: float
    log10_p: float
    co_timed: int
    expected_co_timed: float
    timing_log10_p: float
    signals: list[str]

    def to_dict(self) -> dict:
        return {
            "partner": self.partner,
            "shared": self.shared,
            "agreements": self.agreements,
            "expected": round(self.expected, 3),
            "log10_p": round(self.log10_p, 3),
            "co_timed": self.co_timed,
            "expected_co_timed": round(self.expected_co_timed, 3),
            "timing_log10_p": round(self.timing_log10_p, 3),
            "signals": list(self.signals),
        }


@dataclass
class Flagged:
    participant: str
    group: int
    partners: list[PairEvidence]  # strongest first, at most MAX_PARTNERS_LISTED
    suspicious_pairs: int  # all of them, listed or not

    def to_dict(self) -> dict:
        return {
            "participant": self.participant,
            "group": self.group,
            "suspicious_pairs": self.suspicious_pairs,
            "partners": [p.to_dict() for p in self.partners],
        }


@dataclass
class Detection:
    flagged: dict[str, Flagged] = field(default_factory=dict)
    groups: list[list[str]] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def flagged_ids(self) -> set[str]:
        return set(self.flagged)

    def to_dict(self) -> dict:
        return {
            "flagged": [self.flagged[p].to_dict() for p in sorted(self.flagged)],
            "groups": self.groups,
            "parameters": self.parameters,
            "stats": self.stats,
        }


def detect(
    votes: Iterable[VoteRow], groups: Mapping[str, str] | None = None, params: DetectionParameters | None = None
) -> Detection:
    """Participants who vote together far beyond chance (see the module
    docstring). `groups` maps participants to a group (e.g. political
    affiliation) whose own base rates apply to pairs inside it."""
    params = params or DetectionParameters()
    started = _time.perf_counter()
    data = _Matrices.from_votes(votes, groups or {}, params)
    # Round 0 takes one study-wide agreement rate for every item, which a bloc
    # cannot bend towards itself; later rounds take each item's own rate,
    # estimated without the participants the round before flagged.
    base = _pair_base(data, params)
    flagged: set[int] = set()
    rounds = 0
    pairs: _Pairs | None = None
    graph_groups: list = []
    for rounds in range(max(params.rounds, 1) + 1):
        excluded = np.zeros(len(data.people), dtype=bool)
        excluded[list(flagged)] = True
        pairs = _pair_statistics(data, base, excluded, params, per_item=rounds > 0)
        if base.mode == "lsh" and rounds == 0:  # complete the candidates inside suspicious groups, once
            base = _with_pairs_inside(data, base, pairs, params)
            pairs = _pair_statistics(data, base, excluded, params, per_item=False)
        found, graph_groups = _groups(pairs, params)
        if rounds > 1 and found == flagged:
            break
        flagged = found
    assert pairs is not None  # the loop runs at least once
    detection = _report(data, pairs, graph_groups, params)
    detection.stats.update(
        {
            "participants": len(data.people),
            "votes": data.n_votes,
            "items": len(data.items),
            "pairs_tested": pairs.tested,
            "candidates": base.mode,
            "candidate_pairs": len(base.i),
            "threshold_log10_p": round(pairs.threshold, 3),
            "rounds": rounds,
            "seconds": round(_time.perf_counter() - started, 4),
        }
    )
    return detection


# --- the matrices ----------------------------------------------------------------------


@dataclass
class _Matrices:
    people: list[str]
    items: list[tuple[int, int, int]]
    voted: sparse.csr_array  # participants × items, 1 where answered
    by_answer: list[sparse.csr_array]  # one per ANSWERS
    times: np.ndarray  # participants × items is too big: per vote arrays instead
    vote_person: np.ndarray
    vote_item: np.ndarray
    vote_answer: np.ndarray
    group_of: np.ndarray  # group index per participant, −1 for none
    n_groups: int
    n_votes: int

    @classmethod
    def from_votes(cls, votes, groups, params) -> _Matrices:
        people_index: dict[str, int] = {}
        item_index: dict[tuple, int] = {}
        last: dict[tuple[int, int], tuple[int, float]] = {}  # one answer per participant and item (the last)
        answer_index = {a: i for i, a in enumerate(ANSWERS)}
        for v in votes:
            if v.answer not in answer_index or v.source == v.target:
                continue
            p = people_index.setdefault(str(v.participant), len(people_index))
            k = item_index.setdefault((v.source, v.target, v.context), len(item_index))
            last[(p, k)] = (answer_index[v.answer], math.nan if v.at is None else float(v.at))
        n_p, n_k = len(people_index), len(item_index)
        keys = np.array(list(last.keys()), dtype=np.int64).reshape(-1, 2)
        vals = np.array(list(last.values()), dtype=float).reshape(-1, 2)
        person, item = keys[:, 0], keys[:, 1]
        answer = vals[:, 0].astype(np.int64)
        ones = np.ones(len(person))
        voted = sparse.csr_array((ones, (person, item)), shape=(n_p, n_k))
        by_answer = [
            sparse.csr_array((ones[answer == a], (person[answer == a], item[answer == a])), shape=(n_p, n_k))
            for a in range(len(ANSWERS))
        ]
        group_names = sorted({g for g in groups.values() if g not in (None, "")})
        gi = {g: i for i, g in enumerate(group_names)}
        people = list(people_index)
        group_of = np.array([gi.get(groups.get(p), -1) for p in people], dtype=np.int64)
        return cls(
            people=people,
            items=list(item_index),
            voted=voted,
            by_answer=by_answer,
            times=vals[:, 1],
            vote_person=person,
            vote_item=item,
            vote_answer=answer,
            group_of=group_of,
            n_groups=len(group_names),
            n_votes=len(person),
        )


def _agreement_rates(
    data: _Matrices, keep: np.ndarray, params: DetectionParameters, group: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """p_k per item from the answers of the participants in `keep` (and in
    `group`, when given), shrunk to the study's answer shares."""
    if not keep.any():  # everyone flagged: nobody else to take base rates from
        keep = np.ones_like(keep)
    mask = keep if group is None else keep & (data.group_of == group)
    counts = np.stack(
        [np.asarray(m[mask].sum(axis=0)).ravel() if mask.any() else np.zeros(len(data.items)) for m in data.by_answer],
        axis=1,
    )  # items × answers
    total = counts.sum()
    overall = counts.sum(axis=0) / total if total else np.full(len(ANSWERS), 1 / len(ANSWERS))
    answered = counts.sum(axis=1, keepdims=True) + params.prior_votes
    shares = np.where(answered > 0, (counts + params.prior_votes * overall) / np.maximum(answered, 1e-12), overall)
    return (shares**2).sum(axis=1), counts.sum(axis=1)


def _study_rate(data: _Matrices, keep: np.ndarray) -> float:
    """Σ_answer q(answer)² over the whole study's answers."""
    if not keep.any():
        keep = np.ones_like(keep)
    counts = np.array([m[keep].sum() for m in data.by_answer], dtype=float)
    return float(((counts / counts.sum()) ** 2).sum()) if counts.sum() else 1 / len(ANSWERS)


def _co_timing_rates(data: _Matrices, params: DetectionParameters) -> np.ndarray:
    """r_k: chance that two answers on item k fall in the same or
    neighbouring time bins, were they spread evenly over the item's span."""
    rates = np.zeros(len(data.items))
    ok = ~np.isnan(data.times)
    if not ok.any():
        return rates
    first = np.full(len(data.items), np.inf)
    latest = np.full(len(data.items), -np.inf)
    np.minimum.at(first, data.vote_item[ok], data.times[ok])
    np.maximum.at(latest, data.vote_item[ok], data.times[ok])
    span = latest - first
    has = np.isfinite(span)
    rates[has] = np.minimum(1.0, 3 * params.window_seconds / np.maximum(span[has], 1e-9))
    return rates


def _time_bins(data: _Matrices, params: DetectionParameters) -> tuple[sparse.csr_array, sparse.csr_array]:
    """Participants × (item, time bin of `window_seconds`), and the same
    shifted one bin later. Two answers on an item less than a window apart
    fall in the same or neighbouring bins, so T·Tᵀ + T·T'ᵀ + T'·Tᵀ counts,
    per pair, the shared items answered within about a window (up to two)
    of each other: a product, so a bloc answering at once costs its pairs
    once, not once per item in memory."""
    ok = ~np.isnan(data.times)
    n = len(data.people)
    if not ok.any():
        empty = sparse.csr_array((n, 1))
        return empty, empty
    t = data.times[ok]
    bins = np.floor((t - t.min()) / params.window_seconds).astype(np.int64)
    width = int(bins.max()) + 2
    key = data.vote_item[ok].astype(np.int64) * width + bins
    person = data.vote_person[ok]
    # Only the (item, bin) columns someone answered in, numbered densely.
    columns = np.unique(key)
    shape = (n, len(columns))
    ones = np.ones(len(key))
    later = np.searchsorted(columns, key + 1)
    has_later = (later < len(columns)) & (columns[np.minimum(later, len(columns) - 1)] == key + 1)
    return (
        sparse.csr_array((ones, (person, np.searchsorted(columns, key))), shape=shape),
        sparse.csr_array((ones[has_later], (person[has_later], later[has_later])), shape=shape),
    )


@dataclass
class _Pairs:
    i: np.ndarray
    j: np.ndarray
    shared: np.ndarray
    agree: np.ndarray
    expected: np.ndarray
    log10_p: np.ndarray
    co_timed: np.ndarray
    expected_co_timed: np.ndarray
    timing_log10_p: np.ndarray
    suspicious_agreement: np.ndarray
    suspicious_timing: np.ndarray
    tested: int
    threshold: float


def _log10_tail(k: np.ndarray, n: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """log10 P(Binomial(n, rate) ≥ k); 0 when k ≤ 0."""
    rate = np.clip(rate, 1e-12, 1.0)
    out = binom.logsf(k - 1, n, rate) / math.log(10)
    out = np.where(k <= 0, 0.0, out)
    return np.where(np.isfinite(out), out, np.where(rate >= 1.0, 0.0, -300.0))


def _lookup(matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """matrix[rows, cols] as a flat array (0 where the product has no
    entry). Few lookups: scipy's, which scans each row asked for; many
    (more than a row's length each): sort the product's keys once and
    search them."""
    matrix = matrix.tocsr()
    nnz, n_rows = matrix.nnz, max(matrix.shape[0], 1)
    if not nnz or not len(rows):
        return np.zeros(len(rows))
    if len(rows) * (nnz / n_rows) < nnz * max(math.log2(nnz), 1):
        return np.asarray(matrix[rows, cols], dtype=float).ravel()
    coo = matrix.tocoo()
    n_cols = np.int64(matrix.shape[1])
    keys = coo.row.astype(np.int64) * n_cols + coo.col
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], coo.data[order]
    wanted = rows.astype(np.int64) * n_cols + cols
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, values[at], 0.0)


def _scaled(block: sparse.csr_array, rates: np.ndarray, row_rate: np.ndarray | None = None) -> sparse.csr_array:
    """The block with each answered item's 1 replaced by its rate (by the
    row's own rate vector, rates[row_rate[row]], when given)."""
    block = block.tocsr().copy()
    if row_rate is None:
        block.data = rates[block.indices].astype(float)
    else:
        row_of = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        block.data = rates[row_rate[row_of], block.indices].astype(float)
    return block


@dataclass
class _Base:
    """What does not change between rounds: the pairs sharing enough items,
    their shared items, agreements, answers timed together and its chance."""

    i: np.ndarray
    j: np.ndarray
    shared: np.ndarray
    agree: np.ndarray
    co_timed: np.ndarray
    expected_co_timed: np.ndarray
    # With candidates, the pairs the exhaustive detector would have tested
    # (estimated), for the Bonferroni count; None: every pair kept was tested.
    tested: int | None = None
    mode: str = "all"


def exhaustive_work(data: _Matrices) -> int:
    """Σ_k n_k² over items: the pairs of answers testing every co-voting pair touches."""
    answers = np.bincount(data.vote_item, minlength=len(data.items)).astype(np.int64)
    return int((answers * answers).sum())


def _mode(data: _Matrices, params: DetectionParameters) -> str:
    if params.candidates in ("all", "lsh"):
        return params.candidates
    return "lsh" if exhaustive_work(data) > params.max_exhaustive_work else "all"


def _pair_base(data: _Matrices, params: DetectionParameters) -> _Base:
    if _mode(data, params) == "lsh":
        return _candidate_base(data, params)
    r = _co_timing_rates(data, params)
    binned, shifted = _time_bins(data, params)
    binned_t, shifted_t = binned.T.tocsr(), shifted.T.tocsr()
    voted = data.voted
    voted_t = voted.T.tocsr()
    # One column per (item, answer): a product counts agreements in one go.
    coded = _coded(data)
    coded_t = coded.T.tocsr()
    parts = []
    n = len(data.people)
    for lo in range(0, n, params.block_rows):
        hi = min(n, lo + params.block_rows)
        block = voted[lo:hi]
        shared = (block @ voted_t).tocoo()
        rows, cols, counts = shared.row + lo, shared.col, shared.data
        take = (cols > rows) & (counts >= params.min_shared)
        if not take.any():
            continue
        rows, cols, counts = rows[take], cols[take], counts[take]
        local = rows - lo
        timed = binned[lo:hi] @ binned_t + binned[lo:hi] @ shifted_t + shifted[lo:hi] @ binned_t
        parts.append(
            (
                rows,
                cols,
                counts,
                _lookup(coded[lo:hi] @ coded_t, local, cols),
                _lookup(timed, local, cols),
                _lookup(_scaled(block, r) @ voted_t, local, cols),
            )
        )
    if not parts:
        empty = np.zeros(0)
        return _Base(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), empty, empty, empty, empty)
    i, j, shared, agree, co_timed, expected = (np.concatenate(x) for x in zip(*parts))
    return _Base(i, j, shared, agree, co_timed, expected)


def _coded(data: _Matrices) -> sparse.csr_array:
    """Participants × (item, answer): one column per answer of each item."""
    n_a = len(ANSWERS)
    return sparse.csr_array(
        (np.ones(data.n_votes), (data.vote_person, data.vote_item * n_a + data.vote_answer)),
        shape=(len(data.people), len(data.items) * n_a),
    )


def _candidate_base(data: _Matrices, params: DetectionParameters) -> _Base:
    """_pair_base on candidate pairs only (graph/candidates.py): pairs alike
    in their (item, answer) sets, and pairs with two or more answers timed
    together; each pair's counts are then exact."""
    n = len(data.people)
    tokens = data.vote_item.astype(np.int64) * len(ANSWERS) + data.vote_answer
    signatures = candidates.minhash_signatures(
        data.vote_person, tokens, n, params.lsh_bands * params.lsh_rows, seed=params.seed
    )
    alike = candidates.band_pairs(signatures, params.lsh_bands, params.lsh_rows, params.lsh_max_bucket)
    del signatures
    binned, shifted = _time_bins(data, params)
    binned_t, shifted_t = binned.T.tocsr(), shifted.T.tocsr()
    timed_codes = []
    for lo in range(0, n, params.block_rows):
        hi = min(n, lo + params.block_rows)
        timed = (binned[lo:hi] @ binned_t + binned[lo:hi] @ shifted_t + shifted[lo:hi] @ binned_t).tocoo()
        rows = timed.row + lo
        take = (timed.col > rows) & (timed.data >= 2)  # one answer together is never significant at this scale
        timed_codes.append(rows[take].astype(np.int64) * n + timed.col[take])
    codes = candidates.sorted_unique(np.concatenate([alike, *timed_codes]))
    tested = candidates.estimate_pairs_sharing(data.voted.tocsr(), params.min_shared, params.tested_sample, params.seed)
    base = _exact_counts(data, codes // n, codes % n, params, bins=(binned, shifted))
    base.tested = max(tested, len(base.i))
    return base


def _exact_counts(
    data: _Matrices,
    i: np.ndarray,
    j: np.ndarray,
    params: DetectionParameters,
    bins: tuple[sparse.csr_array, sparse.csr_array] | None = None,
) -> _Base:
    """Shared items, agreements and answers timed together of the given
    pairs, computed pair by pair; the pairs sharing fewer than min_shared
    items are dropped."""
    i, j = i.astype(np.int64), j.astype(np.int64)
    voted = data.voted.tocsr()
    shared = candidates.pair_row_sums(voted, voted, i, j)
    keep = shared >= params.min_shared
    i, j, shared = i[keep], j[keep], shared[keep]
    coded = _coded(data)
    binned, shifted = bins if bins is not None else _time_bins(data, params)
    return _Base(
        i=i,
        j=j,
        shared=shared,
        agree=candidates.pair_row_sums(coded, coded, i, j),
        co_timed=candidates.pair_row_sums(binned, binned, i, j)
        + candidates.pair_row_sums(binned, shifted, i, j)
        + candidates.pair_row_sums(shifted, binned, i, j),
        expected_co_timed=candidates.pair_weighted_sums(voted, i, j, _co_timing_rates(data, params)),
        mode="lsh",
    )


def _with_pairs_inside(data: _Matrices, base: _Base, pairs: _Pairs, params: DetectionParameters) -> _Base:
    """Candidates miss some pairs of a bloc whose members answer alike but not
    identically. Every pair inside a connected piece of the suspicious pairs
    (of at least min_group people, at most lsh_max_bucket) is added and
    tested, so each member's links to the rest are all judged before the
    group's density is."""
    suspicious = pairs.suspicious_agreement | pairs.suspicious_timing
    if not suspicious.any():
        return base
    n = len(data.people)
    graph = sparse.coo_array(
        (np.ones(int(suspicious.sum())), (base.i[suspicious], base.j[suspicious])), shape=(n, n)
    ).tocsr()
    pieces, label = csgraph.connected_components(graph, directed=False)
    sizes = np.bincount(label, minlength=pieces)
    involved = np.unique(np.r_[base.i[suspicious], base.j[suspicious]])
    new_codes = []
    for piece in np.unique(label[involved]):
        if not params.min_group <= sizes[piece] <= params.lsh_max_bucket:
            continue
        members = np.sort(np.flatnonzero(label == piece))
        a, b = np.triu_indices(len(members), k=1)
        new_codes.append(members[a].astype(np.int64) * n + members[b])
    if not new_codes:
        return base
    known = base.i.astype(np.int64) * n + base.j
    fresh = np.setdiff1d(candidates.sorted_unique(np.concatenate(new_codes)), known, assume_unique=True)
    if not len(fresh):
        return base
    more = _exact_counts(data, fresh // n, fresh % n, params)
    return _Base(
        i=np.r_[base.i, more.i],
        j=np.r_[base.j, more.j],
        shared=np.r_[base.shared, more.shared],
        agree=np.r_[base.agree, more.agree],
        co_timed=np.r_[base.co_timed, more.co_timed],
        expected_co_timed=np.r_[base.expected_co_timed, more.expected_co_timed],
        tested=max(base.tested or 0, len(base.i) + len(more.i)),
        mode="lsh",
    )


def _expected_agreements(
    data: _Matrices, base: _Base, p_all: np.ndarray, p_rows: np.ndarray | None, params: DetectionParameters
) -> np.ndarray:
    """Σ p_k over each pair's shared items; for two members of one group,
    with the group's own rates (p_rows: groups × items, the study's rates
    in the last row for participants without a group)."""
    same = (
        (data.group_of[base.i] == data.group_of[base.j]) & (data.group_of[base.i] >= 0)
        if p_rows is not None
        else np.zeros(len(base.i), dtype=bool)
    )
    if base.mode == "lsh":  # per pair: the candidates are few, the all-pairs products are not
        voted_r = data.voted.tocsr()
        out = candidates.pair_weighted_sums(voted_r, base.i, base.j, p_all)
        if p_rows is not None and same.any():
            out[same] = candidates.pair_weighted_sums(
                voted_r, base.i[same], base.j[same], p_rows, row_rate=data.group_of[base.i[same]]
            )
        return out
    voted = data.voted
    voted_t = voted.T.tocsr()
    out = np.zeros(len(base.i))
    n = len(data.people)
    for lo in range(0, n, params.block_rows):
        hi = min(n, lo + params.block_rows)
        here = (base.i >= lo) & (base.i < hi)
        if not here.any():
            continue
        block = voted[lo:hi]
        out[here] = _lookup(_scaled(block, p_all) @ voted_t, base.i[here] - lo, base.j[here])
        mine = here & same
        if p_rows is not None and mine.any():
            row_rate = np.where(data.group_of[lo:hi] >= 0, data.group_of[lo:hi], len(p_rows) - 1)
            out[mine] = _lookup(_scaled(block, p_rows, row_rate) @ voted_t, base.i[mine] - lo, base.j[mine])
    return out


def _pair_statistics(
    data: _Matrices, base: _Base, excluded: np.ndarray, params: DetectionParameters, *, per_item: bool = True
) -> _Pairs:
    keep = ~excluded
    p_all, _ = _agreement_rates(data, keep, params)
    if not per_item:
        p_all = np.full(len(data.items), _study_rate(data, keep))
    p_rows = None
    if per_item and data.n_groups:
        rows = []
        for g in range(data.n_groups):
            pg, ng = _agreement_rates(data, keep, params, group=g)
            # an item counts with the group's own rate only where the group answered it enough
            rows.append(np.where(ng >= params.min_group_votes, pg, p_all))
        p_rows = np.vstack([*rows, p_all])
    expected = _expected_agreements(data, base, p_all, p_rows, params)
    shared, agree, co_timed, co_expected = base.shared, base.agree, base.co_timed, base.expected_co_timed
    tested = len(base.i) if base.tested is None else base.tested
    threshold = math.log10(params.alpha / max(tested, 1))
    log10_p = _log10_tail(agree, shared, expected / np.maximum(shared, 1))
    timing = _log10_tail(co_timed, shared, co_expected / np.maximum(shared, 1))
    sus_agree = log10_p <= threshold
    sus_timing = (timing <= threshold) & (log10_p <= math.log10(params.timing_agreement_p))
    return _Pairs(
        i=base.i,
        j=base.j,
        shared=shared.astype(int),
        agree=agree.astype(int),
        expected=expected,
        log10_p=log10_p,
        co_timed=co_timed.astype(int),
        expected_co_timed=co_expected,
        timing_log10_p=timing,
        suspicious_agreement=sus_agree,
        suspicious_timing=sus_timing,
        tested=tested,
        threshold=threshold,
    )


# --- groups ----------------------------------------------------------------------------


def quasi_cliques(graph: nx.Graph, min_size: int, density: float) -> list[set]:
    """Within each connected piece, remove the least-connected node (ties:
    the smallest) until every node is linked to ≥ density·(size − 1) of the
    others, looking again at each piece that is left; pieces ending with ≥
    min_size nodes. Greedy peeling, as for k-cores."""
    out = []
    stack = [set(c) for c in nx.connected_components(graph)]
    while stack:
        nodes = stack.pop()
        if len(nodes) < min_size:
            continue
        degrees = dict(graph.subgraph(nodes).degree())
        worst = min(nodes, key=lambda n: (degrees[n], n))
        if degrees[worst] >= density * (len(nodes) - 1):
            out.append(nodes)
            continue
        stack.extend(set(c) for c in nx.connected_components(graph.subgraph(nodes - {worst})))
    return sorted(out, key=lambda s: (-len(s), min(s)))


def _groups(pairs: _Pairs, params: DetectionParameters) -> tuple[set[int], list[set[int]]]:
    suspicious = pairs.suspicious_agreement | pairs.suspicious_timing
    graph = nx.Graph()
    graph.add_edges_from(zip(pairs.i[suspicious].tolist(), pairs.j[suspicious].tolist()))
    found = quasi_cliques(graph, params.min_group, params.density)
    return set().union(*found) if found else set(), found


def _report(data: _Matrices, pairs: _Pairs, found: list[set[int]], params: DetectionParameters) -> Detection:
    group_of = {p: g for g, members in enumerate(found) for p in members}
    suspicious = pairs.suspicious_agreement | pairs.suspicious_timing
    evidence: dict[int, list[tuple[float, PairEvidence]]] = {p: [] for p in group_of}
    for idx in np.flatnonzero(suspicious):
        a, b = int(pairs.i[idx]), int(pairs.j[idx])
        signals = [
            name
            for name, on in (("agreement", pairs.suspicious_agreement[idx]), ("timing", pairs.suspicious_timing[idx]))
            if on
        ]
        for me, other in ((a, b), (b, a)):
            if me in group_of and group_of.get(other) == group_of[me]:
                evidence[me].append(
                    (
                        float(min(pairs.log10_p[idx], pairs.timing_log10_p[idx])),
                        PairEvidence(
                            partner=data.people[other],
                            shared=int(pairs.shared[idx]),
                            agreements=int(pairs.agree[idx]),
                            expected=float(pairs.expected[idx]),
                            log10_p=float(pairs.log10_p[idx]),
                            co_timed=int(pairs.co_timed[idx]),
                            expected_co_timed=float(pairs.expected_co_timed[idx]),
                            timing_log10_p=float(pairs.timing_log10_p[idx]),
                            signals=signals,
                        ),
                    )
                )
    flagged = {}
    for p, rows in evidence.items():
        rows.sort(key=lambda r: (r[0], r[1].partner))
        flagged[data.people[p]] = Flagged(
            participant=data.people[p],
            group=group_of[p],
            suspicious_pairs=len(rows),
            partners=[r[1] for r in rows[:MAX_PARTNERS_LISTED]],
        )
    return Detection(
        flagged=flagged,
        groups=[sorted(data.people[p] for p in g) for g in found],
        parameters=params.to_dict(),
        stats={
            "suspicious_pairs": int(suspicious.sum()),
            "agreement_pairs": int(pairs.suspicious_agreement.sum()),
            "timing_pairs": int(pairs.suspicious_timing.sum()),
        },
    )


def precision_recall(flagged: set[str], bloc: set[str]) -> tuple[float | None, float | None]:
    """Against a known bloc: share of the flagged who are in it (None when
    nobody is flagged), share of it flagged (None for an empty bloc)."""
    hits = len(flagged & bloc)
    return (hits / len(flagged) if flagged else None, hits / len(bloc) if bloc else None)


# --- a synthetic study, for tests, the benchmark and the docs --------------------------


def synthetic_votes(
    participants: int = 300,
    *,
    bloc_share: float = 0.0,
    items: int = 120,
    values: int = 12,
    contexts: int = 3,
    per_participant: int = 6,
    target: int = 0,
    seed: int = 0,
    groups: int = 2,
    duration_seconds: float = 3 * 86400.0,
    bloc_timing: bool = True,
) -> tuple[list[VoteRow], dict[str, str], set[str]]:
    """Votes of `participants` people, `bloc_share` of them a bloc. Honest
    people draw `per_participant` items each (some items more popular than
    others; an item drawn twice is answered once), arriving over `duration_seconds` and answering a story a
    minute or so apart; each item is a real upgrade or not (yes 70% / no 20%
    / unsure 10%, or 25 / 60 / 15), two groups disagree on a third of the
    items, and one answer in five is a whim (any answer). The bloc answers
    every item touching `target`: yes towards it, no away from it, all
    members within seconds of each other when `bloc_timing`, else at random
    times. Returns (votes, group per participant, bloc ids)."""
    rng = np.random.default_rng(seed)
    pairs = [(a, b, c) for a in range(values) for b in range(values) if a != b for c in range(contexts)]
    chosen = rng.choice(len(pairs), size=min(items, len(pairs)), replace=False)
    item_list = [pairs[i] for i in sorted(chosen)]
    upgrade = rng.random(len(item_list)) < 0.5
    contested = rng.random(len(item_list)) < 1 / 3
    popularity = rng.pareto(1.5, len(item_list)) + 1
    popularity /= popularity.sum()
    n_bloc = int(round(participants * bloc_share))
    honest = participants - n_bloc
    rows, group_of = [], {}
    per = min(per_participant, len(item_list))
    # Drawn for everyone at once (a participant may draw an item twice: the last answer counts).
    picks = rng.choice(len(item_list), size=(honest, per), p=popularity)
    group = rng.integers(groups, size=honest) if groups else np.zeros(honest, dtype=int)
    up = upgrade[picks] ^ (contested[picks] & (group[:, None] == 1))
    lean = np.where(up[..., None], [0.7, 0.2, 0.1], [0.25, 0.6, 0.15]).cumsum(axis=-1)
    answer = (rng.random((honest, per, 1)) > lean).sum(axis=-1)
    whim = rng.random((honest, per)) < 0.2
    answer = np.where(whim, rng.integers(3, size=(honest, per)), answer)
    at = (rng.random(honest) * duration_seconds)[:, None] + np.cumsum(rng.uniform(30, 120, (honest, per)), axis=1)
    for person in range(honest):
        pid = f"p{person:06d}"
        group_of[pid] = f"g{group[person]}"
        for n in range(per):
            a, b, c = item_list[picks[person, n]]
            rows.append(VoteRow(pid, a, b, c, ANSWERS[answer[person, n]], float(at[person, n])))
    bloc = {f"b{m:06d}" for m in range(n_bloc)}
    burst = rng.random() * duration_seconds
    touching = [k for k, (a, b, _) in enumerate(item_list) if target in (a, b)]
    for pid in sorted(bloc):
        group_of[pid] = f"g{int(rng.integers(groups)) if groups else 0}"
        for n, k in enumerate(touching):
            a, b, c = item_list[k]
            when = (burst + n * 60 + rng.uniform(0, 8)) if bloc_timing else rng.random() * duration_seconds
            rows.append(VoteRow(pid, a, b, c, "yes" if b == target else "no", when))
    return rows, group_of, bloc
