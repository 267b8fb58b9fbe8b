"""Candidate pairs for the coordinated-voting detector (graph/coordination.py)
when testing every co-voting pair would cost too much.

Testing every pair that shares an item costs Σ_k n_k² over items k with n_k
answers: quadratic in participants when the stories stay few. A bloc's
members give the same answers on the same items, so their sets of
(item, answer) are alike; MinHash with banding (locality-sensitive hashing)
finds pairs of alike sets in time about linear in the votes, and the exact
test is then run on those pairs only. Pairs answering together in time come
from the sparse (item, time bin) products, which stay small unless many
people answer one story in the same seconds.

What is lost: a pair whose (item, answer) sets are little alike (Jaccard
similarity s) collides in a band with chance s^rows, in any of `bands`
bands with 1 − (1 − s^rows)^bands, so agreement spread thinly over many
items unshared can be missed. `tests/graph/test_coordination_candidates.py`
measures the recall against the exhaustive detector on planted blocs.

Pure functions over arrays, no database."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse

# Hashes h(x) = (a·x + c) mod p with p = 2³¹ − 1 (a prime) and a, c, x below
# p: a·x + c < 2⁶², so uint64 never overflows, and the modulus mixes.
_PRIME = np.uint64((1 << 31) - 1)


def minhash_signatures(
    person: np.ndarray, token: np.ndarray, n_people: int, n_hashes: int, seed: int = 0
) -> np.ndarray:
    """n_hashes × n_people: for each hash function h(x) = (a·x + c) mod p, the
    smallest h over each person's tokens (a person with no token gets the
    largest value, so they collide with nobody by it)."""
    rng = np.random.default_rng(seed)
    order = np.argsort(person, kind="stable")
    person, token = person[order], token[order].astype(np.uint64) % _PRIME
    starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]]) if len(person) else np.zeros(0, dtype=np.int64)
    owners = person[starts]
    out = np.full((n_hashes, n_people), np.iinfo(np.uint64).max, dtype=np.uint64)
    a = rng.integers(1, int(_PRIME), size=n_hashes, dtype=np.uint64)
    c = rng.integers(0, int(_PRIME), size=n_hashes, dtype=np.uint64)
    for m in range(n_hashes):
        hashed = (a[m] * token + c[m]) % _PRIME
        if len(hashed):
            out[m, owners] = np.minimum.reduceat(hashed, starts)
    return out


def band_pairs(signatures: np.ndarray, bands: int, rows: int, max_bucket: int) -> np.ndarray:
    """Pairs (i < j, as i·n + j codes, sorted, unique) of people whose
    signatures agree on every row of at least one band. A bucket larger than
    `max_bucket` people is split into runs of that size, so one huge bucket
    cannot exhaust memory (its pairs across runs are then found only through
    other bands)."""
    n_hashes, n = signatures.shape
    found: list[np.ndarray] = []
    empty = np.iinfo(np.uint64).max
    for b in range(min(bands, n_hashes // rows)):
        part = signatures[b * rows : (b + 1) * rows]
        alive = np.flatnonzero((part != empty).all(axis=0))
        if len(alive) < 2:
            continue
        # One key per person for the band: the rows mixed into 64 bits (a
        # collision of keys only adds a candidate, which the exact test judges).
        key = np.zeros(len(alive), dtype=np.uint64)
        for r in range(rows):
            key = (key * np.uint64(0x9E3779B97F4A7C15)) ^ part[r, alive]
        order = np.argsort(key, kind="stable")
        key, members = key[order], alive[order]
        cut = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
        sizes = np.diff(cut)
        codes = []
        twos = cut[:-1][sizes == 2]  # most buckets hold two people: their pairs at once
        if len(twos):
            lo_, hi_ = np.minimum(members[twos], members[twos + 1]), np.maximum(members[twos], members[twos + 1])
            codes.append(lo_.astype(np.int64) * n + hi_)
        for start, size in zip(cut[:-1][sizes > 2], sizes[sizes > 2]):
            for lo in range(start, start + size, max_bucket):
                group = np.sort(members[lo : min(start + size, lo + max_bucket)])
                if len(group) < 2:
                    continue
                i, j = np.triu_indices(len(group), k=1)
                codes.append(group[i].astype(np.int64) * n + group[j])
        if codes:
            found.append(sorted_unique(np.concatenate(codes)))
    return sorted_unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def sorted_unique(codes: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy's hashing unique is many times slower on
    millions of int64 pair codes)."""
    codes = np.sort(codes)
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes


def estimate_pairs_sharing(voted: sparse.csr_array, min_shared: int, sample: int, seed: int = 0) -> int:
    """How many pairs share at least `min_shared` items (the pairs the
    exhaustive detector tests, its Bonferroni count), from `sample` people's
    rows: each person's partners are counted exactly, and the mean, times
    n / 2, estimates the total. Exact when the sample is everyone."""
    n = voted.shape[0]
    if n < 2:
        return 0
    rng = np.random.default_rng(seed)
    rows = np.arange(n) if sample >= n else np.sort(rng.choice(n, size=sample, replace=False))
    voted_t = voted.T.tocsr()
    partners = 0
    for lo in range(0, len(rows), 32):  # 32 rows at a time: each may share items with most people
        chunk = rows[lo : lo + 32]
        prod = (voted[chunk] @ voted_t).tocoo()
        partners += int(((prod.data >= min_shared) & (chunk[prod.row] != prod.col)).sum())
    return int(round(partners * n / len(rows) / 2))


def pair_row_sums(
    left: sparse.csr_array, right: sparse.csr_array, i: np.ndarray, j: np.ndarray, chunk: int = 200_000
) -> np.ndarray:
    """Σ_k left[i, k] · right[j, k] for each pair: the shared items (or
    agreements, or answers timed together) of candidate pairs, without the
    all-pairs product."""
    out = np.zeros(len(i))
    for lo in range(0, len(i), chunk):
        hi = min(len(i), lo + chunk)
        out[lo:hi] = np.asarray(left[i[lo:hi]].multiply(right[j[lo:hi]]).sum(axis=1)).ravel()
    return out


def pair_weighted_sums(
    voted: sparse.csr_array,
    i: np.ndarray,
    j: np.ndarray,
    rates: np.ndarray,
    row_rate: np.ndarray | None = None,
    chunk: int = 200_000,
) -> np.ndarray:
    """Σ over each pair's shared items k of rates[k] (of rates[row_rate[pair], k]
    when rates is a matrix: a rate vector per pair)."""
    out = np.zeros(len(i))
    for lo in range(0, len(i), chunk):
        hi = min(len(i), lo + chunk)
        both = sparse.csr_array(voted[i[lo:hi]].multiply(voted[j[lo:hi]]))
        both.sort_indices()
        row_of = np.repeat(np.arange(hi - lo), np.diff(both.indptr))
        values = rates[both.indices] if row_rate is None else rates[row_rate[lo:hi][row_of], both.indices]
        out[lo:hi] = np.bincount(row_of, weights=values * both.data, minlength=hi - lo)
    return out
