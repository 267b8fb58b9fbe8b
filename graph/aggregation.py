"""The moral graph's maths (paper 4.2, 4.4, 5.5, footnotes 15 and 23), as
pure functions: no database, so every rule is tested by hand-computed cases.

Votes arrive as `Cell`s: for one story direction (source value → target
value) in one moral context, how many participants answered yes / no / not
sure to "did this person become wiser?", and how often it was shown.

Pipeline (`build`): cells → per-pair `Counts` (summed over contexts, with
the reverse direction's "yes" as `less_wise`) → thresholds (wiser votes,
wiser-likelihood, entropy) → drop pairs kept in both directions → list
cycles and drop, keep or break them (`Parameters.cycle_policy`) → PageRank
over the kept edges, score flowing to the wiser value. `bootstrap` repeats the pipeline on resampled votes to say how
stable each value's rank is; `trajectory` replays it over growing prefixes
of the events (paper Fig. 12).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import networkx as nx
import numpy as np

ANSWERS = ("yes", "no", "unsure")
EVENT_KINDS = ANSWERS + ("impression",)
ENTROPY_CHOICES = ("five", "answers")
# What to do with edges that form cycles: "drop" every edge of a strongly
# connected component (the original rule), "keep" them all, or
# "break_weakest": remove the lowest-likelihood edge of each cycle until none is left.
CYCLE_POLICIES = ("drop", "keep", "break_weakest")
MAX_CYCLES_LISTED = 100
# Threshold comparisons allow this much floating-point slack, identically in
# `decide_edges` and in the vectorised bootstrap, so both reach the same
# decision for a value that sits on a boundary.
_SLACK = 1e-9
_PAGERANK_TOL = 1e-6
_TIE_DECIMALS = 12
_PAGERANK_MAX_ITER = 10_000  # alpha close to 1 converges slowly; never give up early
_DENSE_PAGERANK_MAX = 300  # the bootstrap's PageRank runs on a dense matrix up to this many values

REASONS = {
    "too_few_wiser": "too few participants marked the move as wiser",
    "low_likelihood": "wiser-likelihood below the threshold (participants disagreed or found it less wise)",
    "high_entropy": "answers too spread out (entropy above the threshold)",
    "two_way": "kept in both directions (participants disagree on direction)",
    "cycle": "part of a cycle (no consensus on direction; excluded)",
    "weakest_in_cycle": "the weakest edge (lowest likelihood) of a cycle, removed to break it",
}
# How pages describe each cycle policy.
CYCLE_POLICY_TEXT = {
    "drop": "every edge on a cycle excluded",
    "keep": "cycles kept (not looked for)",
    "break_weakest": "each cycle broken at its weakest edge (lowest likelihood)",
}
REASON_ORDER = ("too_few_wiser", "low_likelihood", "high_entropy", "two_way", "cycle", "weakest_in_cycle")


@dataclass(frozen=True)
class Cell:
    """Aggregated data for one story direction in one context."""

    source: int
    target: int
    context: int
    yes: int = 0
    no: int = 0
    unsure: int = 0
    impressions: int = 0

    def is_empty(self) -> bool:
        return not (self.yes or self.no or self.unsure or self.impressions)


@dataclass(frozen=True)
class Counts:
    """Per ordered pair, summed over contexts. `less_wise` is the yes votes
    on the reverse direction's stories."""

    wiser: int = 0
    not_wiser: int = 0
    unsure: int = 0
    less_wise: int = 0
    impressions: int = 0

    @property
    def votes(self) -> int:
        return self.wiser + self.not_wiser + self.unsure + self.less_wise

    def to_dict(self) -> dict:
        # Spelled out: dataclasses.asdict deep-copies, which cost a second per 40,000 edges.
        return {
            "wiser": self.wiser,
            "not_wiser": self.not_wiser,
            "unsure": self.unsure,
            "less_wise": self.less_wise,
            "impressions": self.impressions,
        }

    as_dict = to_dict


# --- parameters -------------------------------------------------------------------

_INT_FIELDS = ("min_wiser", "bootstrap_samples", "bootstrap_seed")
_FLOAT_FIELDS = ("min_likelihood", "max_entropy", "pagerank_alpha")


@dataclass(frozen=True)
class Parameters:
    """Defaults reproduce the original implementation's published graph."""

    min_wiser: int = 2
    min_likelihood: float = 0.33
    max_entropy: float = 1.69
    entropy_over: str = "five"  # "five": answers and impressions (original); "answers": answers only
    pagerank_alpha: float = 0.85
    bootstrap_samples: int = 200
    bootstrap_seed: int = 0
    cycle_policy: str = "drop"  # one of CYCLE_POLICIES; "drop" is the original rule

    def __post_init__(self):
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer, not {value!r}")
            object.__setattr__(self, name, int(value))
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float, np.integer, np.floating))
                or not math.isfinite(value)
            ):
                raise ValueError(f"{name} must be a finite number, not {value!r}")
            object.__setattr__(self, name, float(value))
        if self.entropy_over not in ENTROPY_CHOICES:
            raise ValueError(f"entropy_over must be one of {', '.join(ENTROPY_CHOICES)}, not {self.entropy_over!r}")
        if self.cycle_policy not in CYCLE_POLICIES:
            raise ValueError(f"cycle_policy must be one of {', '.join(CYCLE_POLICIES)}, not {self.cycle_policy!r}")
        if self.min_wiser < 0:
            raise ValueError(f"min_wiser cannot be negative (got {self.min_wiser})")
        if not -1.0 <= self.min_likelihood <= 1.0:
            raise ValueError(f"min_likelihood must be between -1 and 1, as likelihoods are (got {self.min_likelihood})")
        if self.max_entropy < 0:
            raise ValueError(f"max_entropy cannot be negative (got {self.max_entropy})")
        if not 0.0 < self.pagerank_alpha < 1.0:
            raise ValueError(f"pagerank_alpha must be strictly between 0 and 1 (got {self.pagerank_alpha})")
        if self.bootstrap_samples < 0:
            raise ValueError(f"bootstrap_samples cannot be negative (got {self.bootstrap_samples})")
        if self.bootstrap_seed < 0:
            raise ValueError(f"bootstrap_seed cannot be negative (got {self.bootstrap_seed})")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Parameters:
        if not isinstance(data, dict):
            raise ValueError(f"graph parameters must be a mapping, not {type(data).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known), key=str)
        if unknown:
            raise ValueError(f"unknown graph parameters: {', '.join(map(str, unknown))} (known: {', '.join(known)})")
        return cls(**data)


# --- per-pair statistics -----------------------------------------------------------


def likelihood(c: Counts) -> float:
    """(wiser − less wise) / all votes on the pair, in [−1, 1]; 0 without votes."""
    return (c.wiser - c.less_wise) / c.votes if c.votes else 0.0


def _entropy_parts(c: Counts, over: str) -> list[int]:
    if over not in ENTROPY_CHOICES:
        raise ValueError(f"entropy over must be one of {', '.join(ENTROPY_CHOICES)}, not {over!r}")
    parts = [c.wiser, c.not_wiser, c.unsure, c.less_wise]
    return parts + [c.impressions] if over == "five" else parts


def entropy(c: Counts, over: str = "five") -> float:
    """Shannon entropy in bits. The original implementation took it over the
    four answer counts and the impressions ("five"); "answers" leaves the
    impressions out. Zero counts contribute nothing; no data gives 0."""
    parts = _entropy_parts(c, over)
    total = sum(parts)
    if not total:
        return 0.0
    return -sum(n / total * math.log2(n / total) for n in parts if n)


def _usable(cells):
    """Cells that say something: not a value compared with itself, not empty."""
    return [c for c in cells if c.source != c.target and not c.is_empty()]


def _pair_table(cells):
    """The usable cells as arrays: the ordered pairs (sorted), each cell's
    pair, context and counts (yes, no, unsure, impressions). One pass over
    the cells, the rest in numpy: a build at a million votes has 50,000 cells."""
    rows = [(c.source, c.target, c.context, c.yes, c.no, c.unsure, c.impressions) for c in _usable(cells)]
    if rows and _weighted(rows[0][3]):
        # Weighted cells (graph/weighting.py): the same table, the counts as floats.
        weighted = np.array(rows, dtype=float).reshape(len(rows), 7)
        ids = weighted[:, :3].astype(np.int64)
        pairs, pair_of = np.unique(ids[:, :2], axis=0, return_inverse=True)
        return pairs, pair_of.reshape(-1), ids[:, 2], weighted[:, 3:]
    table = np.array(rows, dtype=np.int64).reshape(len(rows), 7)
    pairs, pair_of = np.unique(table[:, :2], axis=0, return_inverse=True)
    return pairs, pair_of.reshape(-1), table[:, 2], table[:, 3:]


def _weighted(count) -> bool:
    """Whether counts are sums of survey weights: a weighted build's cells and
    pair counts hold floats in every count (graph/weighting.py), an
    unweighted build's ints; so one count tells, and the integer path stays as it was."""
    return isinstance(count, float)


def _reverse_index(pairs: np.ndarray) -> np.ndarray:
    """For each pair (a, b) of the sorted pairs, the row of (b, a), or -1."""
    if not len(pairs):
        return np.zeros(0, dtype=np.int64)
    ids, ends = np.unique(pairs, return_inverse=True)
    ends = ends.reshape(pairs.shape)
    k = len(ids)
    key = ends[:, 0] * k + ends[:, 1]  # sorted, as the pairs are
    wanted = ends[:, 1] * k + ends[:, 0]
    at = np.minimum(np.searchsorted(key, wanted), len(key) - 1)
    return np.where(key[at] == wanted, at, -1)


def pair_counts_and_contexts(cells) -> tuple[dict[tuple[int, int], Counts], dict[tuple[int, int], list[int]]]:
    """`pair_counts` and `pair_contexts` from one pass over the cells, both
    keyed by the pairs in sorted order."""
    pairs, pair_of, context, counts = _pair_table(cells)
    n = len(pairs)
    kind = float if counts.dtype == float else np.int64
    sums = [np.bincount(pair_of, weights=counts[:, k], minlength=n).astype(kind) for k in range(4)]
    reverse = _reverse_index(pairs)
    less_wise = np.where(reverse >= 0, sums[0][np.maximum(reverse, 0)], 0)
    keys = list(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist()))
    out_counts = {
        key: Counts(w, nw, u, lw, i)
        for key, w, nw, u, lw, i in zip(
            keys, sums[0].tolist(), sums[1].tolist(), sums[2].tolist(), less_wise.tolist(), sums[3].tolist()
        )
    }
    # Each pair's distinct contexts, sorted: sort by (pair, context), drop repeats, cut at each new pair.
    order = np.lexsort((context, pair_of))
    p, c = pair_of[order], context[order]
    first = np.ones(len(p), dtype=bool)
    first[1:] = (p[1:] != p[:-1]) | (c[1:] != c[:-1])
    p, c = p[first], c[first]
    bounds = [0, *(np.flatnonzero(p[1:] != p[:-1]) + 1).tolist(), len(p)]
    c = c.tolist()  # sliced as a list: a numpy split into 40,000 arrays costs more than the rest
    out_contexts = {key: c[i:j] for key, i, j in zip(keys, bounds, bounds[1:])} if len(p) else {}
    return out_counts, out_contexts


def pair_counts(cells) -> dict[tuple[int, int], Counts]:
    """Cells summed over contexts per ordered pair. A pair appears only when
    a story in its own direction was shown or voted on; its `less_wise` is
    the yes answers on the reverse direction's stories."""
    return pair_counts_and_contexts(cells)[0]


def pair_contexts(cells) -> dict[tuple[int, int], list[int]]:
    """Sorted contexts with any vote or impression on each direction."""
    return pair_counts_and_contexts(cells)[1]


# --- edges ---------------------------------------------------------------------------


@dataclass
class Edge:
    source: int
    target: int
    counts: Counts
    likelihood: float
    entropy: float
    contexts: list[int]
    kept: bool = True
    reason: str = ""  # "" when kept, else a key of REASONS

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "target": self.target,
            "counts": self.counts.to_dict(),
            "likelihood": round(self.likelihood, 6),
            "entropy": round(self.entropy, 6),
            "contexts": list(self.contexts),
            "kept": self.kept,
            "reason": self.reason,
        }


@dataclass
class GraphResult:
    edges: list[Edge]
    cycles: list[list[int]] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)

    def kept(self) -> list[Edge]:
        return [e for e in self.edges if e.kept]


def _threshold_reason(c: Counts, like: float, ent: float, params: Parameters) -> str:
    if c.wiser < params.min_wiser - _SLACK:
        return "too_few_wiser"
    if like < params.min_likelihood - _SLACK:
        return "low_likelihood"
    if ent > params.max_entropy + _SLACK:
        return "high_entropy"
    return ""


def _threshold_reasons(rows: list[Counts], params: Parameters) -> tuple[list[float], list[float], list[str]]:
    """`likelihood`, `entropy` and `_threshold_reason` of many pairs' counts
    at once, to the same bits: the same float operations in numpy, and
    math.log2 itself applied to each distinct share (a few hundred)."""
    kind = float if rows and _weighted(rows[0].wiser) else np.int64
    m = np.array([(c.wiser, c.not_wiser, c.unsure, c.less_wise, c.impressions) for c in rows], dtype=kind).reshape(
        len(rows), 5
    )
    n = len(rows)
    votes = m[:, :4].sum(axis=1)
    like = np.divide((m[:, 0] - m[:, 3]).astype(float), votes.astype(float), out=np.zeros(n), where=votes != 0)
    if params.entropy_over not in ENTROPY_CHOICES:
        raise ValueError(f"entropy over must be one of {', '.join(ENTROPY_CHOICES)}, not {params.entropy_over!r}")
    parts = m if params.entropy_over == "five" else m[:, :4]
    total = parts.sum(axis=1)
    nonzero = parts != 0
    share = np.divide(parts.astype(float), total.astype(float)[:, None], out=np.zeros(parts.shape), where=nonzero)
    distinct, which = np.unique(share[nonzero], return_inverse=True)
    terms = np.zeros(parts.shape)
    terms[nonzero] = share[nonzero] * np.array([math.log2(x) for x in distinct.tolist()])[which.reshape(-1)]
    ent = np.zeros(n)
    for k in range(parts.shape[1]):  # left to right, as sum() adds them
        ent = ent + terms[:, k]
    ent = np.where(total != 0, -ent, 0.0)
    reason = np.full(n, "", dtype=object)
    reason[ent > params.max_entropy + _SLACK] = "high_entropy"
    reason[like < params.min_likelihood - _SLACK] = "low_likelihood"
    reason[m[:, 0] < params.min_wiser - _SLACK] = "too_few_wiser"  # slack: weighted sums; no change for ints
    return like.tolist(), ent.tolist(), reason.tolist()


def _has_cycle(pairs: list[tuple[int, int]]) -> bool:
    """Whether the directed graph of these (source, target) pairs, with no
    self-loops, has a cycle: a strongly connected component of two or more
    values (scipy, in a fraction of the time networkx takes to build the graph)."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    if not pairs:
        return False
    ends = np.array(pairs, dtype=np.int64)
    ids, index = np.unique(ends, return_inverse=True)
    index = index.reshape(ends.shape)
    graph = csr_array((np.ones(len(index)), (index[:, 0], index[:, 1])), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=True, connection="strong")
    return bool((labels[index[:, 0]] == labels[index[:, 1]]).any())


def _canonical_cycle(cycle) -> list[int]:
    cycle = list(cycle)
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


def _weakest_in_cycles(n: int, src, dst, like) -> np.ndarray:
    """Which edges (index arrays over n nodes) to remove so that no cycle is
    left, removing each time the weakest edge of a cycle. Every edge inside a
    strongly connected component lies on a cycle, so the component's weakest
    edge is the weakest of some cycle; remove it from every component at once
    (components do not share edges) and look again. Weakest = lowest
    likelihood (to 12 decimals), ties to the smaller source then target
    index, so the result does not depend on the order edges come in."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import connected_components

    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    removed = np.zeros(len(src), dtype=bool)
    if not len(src):
        return removed
    order = np.lexsort((dst, src, np.round(np.asarray(like, dtype=float), _TIE_DECIMALS)))
    while True:
        alive = ~removed
        graph = csr_array((np.ones(int(alive.sum())), (src[alive], dst[alive])), shape=(n, n))
        _, labels = connected_components(graph, directed=True, connection="strong")
        inside = alive & (labels[src] == labels[dst])  # src != dst, so the component has a cycle
        if not inside.any():
            return removed
        candidates = order[inside[order]]  # weakest first
        _, first = np.unique(labels[src[candidates]], return_index=True)
        removed[candidates[first]] = True


def decide_edges(counts: dict, contexts: dict, params: Parameters) -> tuple[list[Edge], list[list[int]]]:
    """Every pair, kept or with the first rule it fails: the thresholds, then
    agreement on direction (footnote 15), then cycles (footnotes 15, 23) as
    `params.cycle_policy` says. Returns the edges (sorted by pair) and the
    cycles found among the edges left after the two-way rule, each starting
    at its smallest id, at most MAX_CYCLES_LISTED of them ("keep" does not
    look for cycles and lists none)."""
    keys = sorted(counts)
    rows = [counts[k] for k in keys]
    likes, ents, reasons = _threshold_reasons(rows, params)
    edges = [
        Edge(a, b, c, like, ent, list(contexts.get((a, b), ())), kept=not reason, reason=reason)
        for (a, b), c, like, ent, reason in zip(keys, rows, likes, ents, reasons)
    ]

    passing = {(e.source, e.target) for e in edges if e.kept}
    for e in edges:
        if e.kept and (e.target, e.source) in passing:
            e.kept, e.reason = False, "two_way"
    if params.cycle_policy == "keep":
        return edges, []

    if not _has_cycle([(e.source, e.target) for e in edges if e.kept]):
        return edges, []
    graph = nx.DiGraph()
    graph.add_edges_from((e.source, e.target) for e in edges if e.kept)
    component_of = {}
    cyclic = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:  # self-loops were filtered out with the cells
            cyclic.append(component)
            for node in component:
                component_of[node] = len(cyclic)
    if params.cycle_policy == "drop":
        # In a strongly connected component every edge lies on some cycle.
        for e in edges:
            if (
                e.kept
                and component_of.get(e.source) is not None
                and component_of.get(e.source) == component_of.get(e.target)
            ):
                e.kept, e.reason = False, "cycle"
    else:
        kept = [e for e in edges if e.kept]
        index = {node: i for i, node in enumerate(sorted(graph.nodes))}  # index order = id order, for ties
        removed = _weakest_in_cycles(
            len(index), [index[e.source] for e in kept], [index[e.target] for e in kept], [e.likelihood for e in kept]
        )
        for e, out in zip(kept, removed):
            if out:
                e.kept, e.reason = False, "weakest_in_cycle"

    cycles: list[list] = []
    for component in sorted(cyclic, key=min):
        for cycle in nx.simple_cycles(graph.subgraph(component)):
            if len(cycles) >= MAX_CYCLES_LISTED:
                break
            cycles.append(_canonical_cycle(cycle))
    return edges, sorted(cycles)


# --- ranking -------------------------------------------------------------------------


def pagerank(edges, nodes=None, alpha: float = 0.85) -> dict[int, float]:
    """PageRank over edges source → target, so the wiser value receives the
    score, weighted by likelihood (a non-positive likelihood, only possible
    with min_likelihood ≤ 0, counts as a negligible weight). `nodes` adds
    values without edges. Scores sum to 1; an empty graph gives {}.
    networkx's pagerank (same iteration, dangling rule and tolerance; tested
    against it) on index arrays: building a networkx graph cost ten times
    the ranking. Keys come in networkx's node order: `nodes`, then the
    edges' ends as they first appear."""
    edges = list(edges)
    ends = np.array([(e.source, e.target) for e in edges], dtype=np.int64).reshape(len(edges), 2)
    weight = np.array([max(e.likelihood, 1e-9) for e in edges], dtype=float)
    first = np.array(list(dict.fromkeys(nodes)) if nodes is not None else [], dtype=np.int64)
    return _ranked(np.concatenate([first, ends.reshape(-1)]), ends, weight, alpha)


def _ranked(appearing: np.ndarray, ends: np.ndarray, weight: np.ndarray, alpha: float) -> dict[int, float]:
    """PageRank of the edges `ends` (rows of source, target ids) weighted by
    `weight`, over the ids in `appearing`, keyed in their order of first
    appearance there."""
    if not len(appearing):
        return {}
    ids, first, inverse = np.unique(appearing, return_index=True, return_inverse=True)
    position = np.empty(len(ids), dtype=np.int64)
    position[np.argsort(first, kind="stable")] = np.arange(len(ids))
    order = ids[np.argsort(first, kind="stable")]
    n = len(ids)
    tail = inverse.reshape(-1)[len(appearing) - 2 * len(ends) :]  # the edges' ends come last
    src, dst = position[tail[0::2]], position[tail[1::2]]
    pair = src * n + dst
    if len(np.unique(pair)) < len(pair):
        # A pair given twice: networkx keeps the last weight; the matrix would add them.
        _, last = np.unique(pair[::-1], return_index=True)
        last = np.sort(len(pair) - 1 - last)
        src, dst, weight = src[last], dst[last], weight[last]
    return dict(zip(order.tolist(), _sparse_pagerank(n, src, dst, weight, alpha).tolist()))


def build(cells, params: Parameters = Parameters(), nodes=None) -> GraphResult:
    cells = list(cells)
    edges, cycles = decide_edges(*pair_counts_and_contexts(cells), params)
    kept = [e for e in edges if e.kept]
    return GraphResult(edges=edges, cycles=cycles, scores=pagerank(kept, nodes=nodes, alpha=params.pagerank_alpha))


def rank_subset(result: GraphResult, contexts: set[int], alpha: float = 0.85) -> dict[int, float]:
    """PageRank within some contexts (a scenario's, or one): the kept edges
    with any of them, over only the values those edges touch."""
    return rank_scopes(result.kept(), {"subset": set(contexts)}, alpha)["subset"]


def rank_scopes(kept, scopes: dict, alpha: float = 0.85) -> dict:
    """`rank_subset` for many scopes ({name: contexts}) over the same kept
    edges, with one pass over the edges: {name: scores}."""
    kept = list(kept)
    ends = np.array([(e.source, e.target) for e in kept], dtype=np.int64).reshape(len(kept), 2)
    weight = np.array([max(e.likelihood, 1e-9) for e in kept], dtype=float)
    edge_of = np.array([i for i, e in enumerate(kept) for _ in e.contexts], dtype=np.int64)
    context_of = np.array([c for e in kept for c in e.contexts], dtype=np.int64)
    out = {}
    for name, contexts in scopes.items():
        wanted = np.array(sorted(contexts), dtype=np.int64)
        chosen = np.unique(edge_of[np.isin(context_of, wanted)])  # in the kept edges' order
        out[name] = _ranked(ends[chosen].reshape(-1), ends[chosen], weight[chosen], alpha) if len(chosen) else {}
    return out


def _tie_rounded(scores):
    """Scores as compared for ranking. Values in symmetric positions of the
    graph should score the same, but floating-point summation order can
    make them differ in the last digits; scores equal to 12 decimals tie."""
    return np.round(np.asarray(scores, dtype=float), _TIE_DECIMALS)


def positions(scores: dict[int, float]) -> dict[int, int]:
    """1 = highest score; equal scores (to 12 decimals) ordered by smaller id."""
    keys = list(scores)
    rounded = dict(zip(keys, _tie_rounded([scores[k] for k in keys]).tolist()))
    ordered = sorted(keys, key=lambda k: (-rounded[k], k))
    return {k: i + 1 for i, k in enumerate(ordered)}


# --- uncertainty ------------------------------------------------------------------


def _sparse_pagerank(n: int, src, dst, weight, alpha: float) -> np.ndarray:
    """networkx's power iteration (uniform teleport and dangling weights,
    same tolerance) on index arrays, without a graph object per sample:
    on a dense matrix up to _DENSE_PAGERANK_MAX values, where building a
    sparse one costs more than it saves, else on a sparse one."""
    import scipy.sparse as sparse

    if n == 0:
        return np.zeros(0)
    weight = np.asarray(weight, dtype=float)
    if n <= _DENSE_PAGERANK_MAX:
        matrix = np.zeros((n, n))
        np.add.at(matrix, (np.asarray(src), np.asarray(dst)), weight)
        out = matrix.sum(axis=1)
        scale = np.divide(1.0, out, out=np.zeros_like(out), where=out != 0)
        matrix = (matrix * scale[:, None]).T
    else:
        matrix = sparse.csr_array((weight, (src, dst)), shape=(n, n))
        out = np.asarray(matrix.sum(axis=1)).ravel()
        scale = np.divide(1.0, out, out=np.zeros_like(out), where=out != 0)
        # Transposed once: x @ M would transpose M on every step.
        matrix = (sparse.dia_array((scale, 0), shape=(n, n)).tocsr() @ matrix).T.tocsr()
    dangling = out == 0
    x = np.full(n, 1.0 / n)
    for _ in range(_PAGERANK_MAX_ITER):
        last = x
        x = alpha * (matrix @ x + x[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(x - last).sum() < n * _PAGERANK_TOL:
            break
    return x


class _Resampler:
    """The graph rules (thresholds, two-way, cycles, PageRank) as array
    operations over ordered pairs, for many resampled answer counts. For one
    sample, `positions` equals `positions(build(sample_cells, params,
    nodes=base_nodes).scores)` up to PageRank's numerical tolerance."""

    def __init__(self, cells: list[Cell], params: Parameters, node_ids: list[int], base_nodes):
        import scipy.sparse  # noqa: F401  (fail early if missing)

        self.params = params
        self.node_ids = np.asarray(node_ids, dtype=np.int64)
        index = {n: i for i, n in enumerate(node_ids)}
        pairs: dict[tuple[int, int], int] = {}
        cell_pair = np.empty(len(cells), dtype=np.int64)
        for i, c in enumerate(cells):
            cell_pair[i] = pairs.setdefault((c.source, c.target), len(pairs))
        self.cell_pair = cell_pair
        self.n_pairs = len(pairs)
        keys = list(pairs)
        self.reverse = np.array([pairs.get((b, a), -1) for a, b in keys], dtype=np.int64)
        self.has_reverse = self.reverse >= 0
        self.reverse_or_self = np.where(self.has_reverse, self.reverse, np.arange(self.n_pairs))
        self.src = np.array([index[a] for a, _ in keys], dtype=np.int64)
        self.dst = np.array([index[b] for _, b in keys], dtype=np.int64)
        self.impressions = np.bincount(
            cell_pair, weights=np.array([c.impressions for c in cells], dtype=float), minlength=self.n_pairs
        )
        self.base = np.zeros(len(node_ids), dtype=bool)
        self.base[[index[n] for n in base_nodes]] = True

    def kept_pairs(self, answers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mask of kept pairs and their likelihoods, for per-cell (yes, no, unsure)."""
        from scipy.sparse import csr_array
        from scipy.sparse.csgraph import connected_components

        p, n_pairs = self.params, self.n_pairs
        wiser, not_wiser, unsure = (
            np.bincount(self.cell_pair, weights=answers[:, k], minlength=n_pairs) for k in range(3)
        )
        less_wise = np.where(self.has_reverse, wiser[self.reverse_or_self], 0.0)
        votes = wiser + not_wiser + unsure + less_wise
        like = np.divide(wiser - less_wise, votes, out=np.zeros(n_pairs), where=votes > 0)
        parts = [wiser, not_wiser, unsure, less_wise] + ([self.impressions] if p.entropy_over == "five" else [])
        total = np.sum(parts, axis=0)
        ent = np.zeros(n_pairs)
        for part in parts:
            share = np.divide(part, total, out=np.zeros(n_pairs), where=total > 0)
            ent -= share * np.log2(np.where(share > 0, share, 1.0))
        # Without answers or impressions of its own in this sample, a pair is absent (as in pair_counts).
        present = wiser + not_wiser + unsure + self.impressions > 0
        kept = (
            present
            & (wiser >= p.min_wiser - _SLACK)
            & (like >= p.min_likelihood - _SLACK)
            & (ent <= p.max_entropy + _SLACK)
        )
        kept &= ~(self.has_reverse & kept[self.reverse_or_self])
        if kept.any() and p.cycle_policy == "drop":
            n = len(self.node_ids)
            graph = csr_array((np.ones(int(kept.sum())), (self.src[kept], self.dst[kept])), shape=(n, n))
            _, labels = connected_components(graph, directed=True, connection="strong")
            kept &= labels[self.src] != labels[self.dst]
        elif kept.any() and p.cycle_policy == "break_weakest":
            # node_ids are sorted, so index ties break as decide_edges' id ties do
            idx = np.flatnonzero(kept)
            kept[idx[_weakest_in_cycles(len(self.node_ids), self.src[idx], self.dst[idx], like[idx])]] = False
        return kept, like

    def positions(self, answers: np.ndarray) -> np.ndarray:
        """1-based position of every node among this sample's graph (the base
        nodes plus the ends of kept edges); 0 for nodes outside it."""
        kept, like = self.kept_pairs(answers)
        return self.positions_among(np.flatnonzero(kept), like, self.base)

    def positions_among(self, pairs: np.ndarray, like: np.ndarray, base: np.ndarray) -> np.ndarray:
        """`positions` over the given pair indices only, with `base` (a node
        mask) counted even without edges."""
        active = base.copy()
        active[self.src[pairs]] = True
        active[self.dst[pairs]] = True
        idx = np.flatnonzero(active)
        local = np.full(len(self.node_ids), -1, dtype=np.int64)
        local[idx] = np.arange(len(idx))
        scores = _sparse_pagerank(
            len(idx),
            local[self.src[pairs]],
            local[self.dst[pairs]],
            np.maximum(like[pairs], 1e-9),
            self.params.pagerank_alpha,
        )
        order = np.lexsort((self.node_ids[idx], -_tie_rounded(scores)))
        ranks = np.zeros(len(self.node_ids), dtype=np.int32)
        ranks[idx[order]] = np.arange(1, len(idx) + 1)
        return ranks


def bootstrap(cells, params: Parameters, nodes=None, resample=None) -> dict[int, dict]:
    """How stable each value's rank is. Resample the individual answers with
    replacement (a multinomial draw of all N answers over the (cell, answer)
    categories in proportion to their counts; impressions as observed),
    apply the same rules to each sample, and report per value of the
    full-data graph: its rank, the 2.5th / 97.5th percentiles and median of
    its rank over the samples, and the share of samples where it is first.
    In a sample, a full-data value none of whose edges survive still counts,
    as a value without edges (as `nodes` does in `build`). `resample(rng)`,
    when given, draws each sample's (yes, no, unsure) per cell instead (a
    weighted build resamples participants: graph/weighting.py); it needs
    usable cells, in its order."""
    if params.bootstrap_samples == 0:
        return {}
    cells = _checked_usable(cells, resample)
    full = build(cells, params, nodes)
    base_positions = positions(full.scores)
    if not base_positions:
        return {}
    node_ids = sorted(set(base_positions) | {n for c in cells for n in (c.source, c.target)})
    resampler = _Resampler(cells, params, node_ids, base_positions)
    counts = np.array([[c.yes, c.no, c.unsure] for c in cells], dtype=np.int64).reshape(-1)
    total = int(counts.sum())
    rng = np.random.default_rng(params.bootstrap_seed)
    samples = np.empty((params.bootstrap_samples, len(node_ids)), dtype=np.int32)
    shares = counts / total if total else None
    for s in range(params.bootstrap_samples):
        if resample is not None:
            samples[s] = resampler.positions(resample(rng))
            continue
        draw = rng.multinomial(total, shares) if shares is not None else counts
        samples[s] = resampler.positions(draw.reshape(-1, 3).astype(float))
    columns = [i for i, node in enumerate(node_ids) if node in base_positions]
    return dict(
        zip(
            (node_ids[i] for i in columns),
            _intervals([base_positions[node_ids[i]] for i in columns], samples[:, columns]),
        )
    )


def _checked_usable(cells, resample) -> list:
    usable = _usable(cells)
    if resample is not None and len(usable) != len(cells):
        raise ValueError("a resampler draws for every cell: give usable cells only (no self-pairs, none empty)")
    return usable


def _intervals(ranks: list[int], samples: np.ndarray) -> list[dict]:
    """Per column of `samples` (a value's positions over the samples): its
    full-data rank, the 2.5th / 97.5th percentiles, median and share of firsts."""
    if not ranks:
        return []
    low = np.percentile(samples, 2.5, axis=0, method="lower")
    high = np.percentile(samples, 97.5, axis=0, method="higher")
    median = np.median(samples, axis=0)
    top = np.mean(samples == 1, axis=0)
    return [
        {
            "rank": rank,
            "rank_low": int(low[j]),
            "rank_high": int(high[j]),
            "rank_median": float(median[j]),
            "top_share": round(float(top[j]), 4),
        }
        for j, rank in enumerate(ranks)
    ]


def bootstrap_by_context(
    cells, params: Parameters, contexts=None, full: GraphResult | None = None, resample=None
) -> dict[int, dict[int, dict]]:
    """`bootstrap`'s rank intervals within each context: {context: {value:
    interval}} for the values `rank_subset` ranks there on the full data (the
    kept edges with the context, over the values they touch). It uses the
    same resampled answers as `bootstrap` (same seed, same draws) and each
    sample's own edge decisions; in a sample a kept pair counts in a context
    when that sample has an answer or impression for it there, and a value
    ranked in the context on the full data still counts without edges.
    `contexts` limits it to those ids (default: every context with a cell);
    `full` is `build(cells, params)` when the caller has it already;
    `resample` as in `bootstrap`."""
    if params.bootstrap_samples == 0:
        return {}
    cells = _checked_usable(cells, resample)
    full = full if full is not None else build(cells, params)
    wanted = sorted({c.context for c in cells} if contexts is None else {int(c) for c in contexts})
    base = {cid: positions(rank_subset(full, {cid}, params.pagerank_alpha)) for cid in wanted}
    base = {cid: ranked for cid, ranked in base.items() if ranked}
    if not base:
        return {}
    node_ids = sorted({n for c in cells for n in (c.source, c.target)})
    node_index = {n: i for i, n in enumerate(node_ids)}
    resampler = _Resampler(cells, params, node_ids, base_nodes=[])
    ctx_ids = sorted(base)
    ctx_index = {cid: i for i, cid in enumerate(ctx_ids)}
    cell_ctx = np.array([ctx_index.get(c.context, -1) for c in cells], dtype=np.int64)
    seen = np.array([c.impressions > 0 for c in cells], dtype=bool)
    # The values ranked in each context on the full data, as (context, node) keys: always in that context's graph.
    n_nodes = len(node_ids)
    base_keys = np.array(
        [ctx_index[cid] * n_nodes + node_index[v] for cid in ctx_ids for v in sorted(base[cid])], dtype=np.int64
    )
    counts = np.array([[c.yes, c.no, c.unsure] for c in cells], dtype=np.int64).reshape(-1)
    total = int(counts.sum())
    rng = np.random.default_rng(params.bootstrap_seed)
    shares = counts / total if total else None
    samples = np.empty((params.bootstrap_samples, len(base_keys)), dtype=np.int32)
    for s in range(params.bootstrap_samples):
        if resample is not None:
            answers = resample(rng)
        else:
            draw = rng.multinomial(total, shares) if shares is not None else counts
            answers = draw.reshape(-1, 3).astype(float)
        kept, like = resampler.kept_pairs(answers)
        # (context, pair) for every kept pair with an answer or impression in the context in this sample
        use = (cell_ctx >= 0) & ((answers.sum(axis=1) > 0) | seen) & kept[resampler.cell_pair]
        key = np.unique(cell_ctx[use] * resampler.n_pairs + resampler.cell_pair[use])
        block, pair = key // resampler.n_pairs, key % resampler.n_pairs
        samples[s] = _block_positions(
            block,
            resampler.src[pair] + block * n_nodes,
            resampler.dst[pair] + block * n_nodes,
            np.maximum(like[pair], 1e-9),
            base_keys,
            n_nodes,
            resampler.node_ids,
            params.pagerank_alpha,
        )
    summary = iter(_intervals([base[cid][v] for cid in ctx_ids for v in sorted(base[cid])], samples))
    return {cid: {v: next(summary) for v in sorted(base[cid])} for cid in ctx_ids}


def _block_positions(block, src_keys, dst_keys, weight, base_keys, n_nodes, node_ids, alpha) -> np.ndarray:
    """Every context's PageRank in one power iteration over a block-diagonal
    matrix (a node is a (context, value) key: context * n_nodes + value
    index), each block stopping when it has converged by networkx's rule for
    a graph of its size, as a separate run would; then the 1-based position
    of each base key within its block (equal scores to 12 decimals: smaller
    id first)."""
    import scipy.sparse as sparse

    keys = np.unique(np.concatenate([base_keys, src_keys, dst_keys]))
    of_key = keys // n_nodes  # each node's block
    n = len(keys)
    src, dst = np.searchsorted(keys, src_keys), np.searchsorted(keys, dst_keys)
    out = np.bincount(src, weights=weight, minlength=n).astype(float)
    scale = np.divide(1.0, out, out=np.zeros_like(out), where=out != 0)
    transposed = sparse.csr_array((weight * scale[src], (dst, src)), shape=(n, n))
    n_blocks = int(of_key.max()) + 1 if n else 0
    size = np.bincount(of_key, minlength=n_blocks).astype(float)
    per_node = size[of_key]
    dangling = out == 0
    x = 1.0 / per_node
    running = np.ones(n_blocks, dtype=bool)
    for _ in range(_PAGERANK_MAX_ITER):
        mass = np.bincount(of_key, weights=np.where(dangling, x, 0.0), minlength=n_blocks)
        step = alpha * (transposed @ x + mass[of_key] / per_node) + (1 - alpha) / per_node
        change = np.bincount(of_key, weights=np.abs(step - x), minlength=n_blocks)
        x = np.where(running[of_key], step, x)
        running &= ~(change < size * _PAGERANK_TOL)
        if not running.any():
            break
    order = np.lexsort((node_ids[keys % n_nodes], -_tie_rounded(x), of_key))
    position = np.empty(n, dtype=np.int32)
    starts = np.searchsorted(of_key[order], np.arange(n_blocks))
    position[order] = np.arange(n) - starts[of_key[order]] + 1
    return position[np.searchsorted(keys, base_keys)]


# --- scalability (paper 5.5, Fig. 12) -------------------------------------------


def checkpoint_sizes(n_events: int, checkpoints: int) -> list[int]:
    """Prefix lengths at `checkpoints` even steps; the last is all events."""
    if checkpoints < 1:
        raise ValueError(f"checkpoints must be at least 1 (got {checkpoints})")
    return [n_events * k // checkpoints for k in range(1, checkpoints + 1)]


def trajectory(events, value: int, checkpoints: int = 11, params: Parameters = Parameters()) -> list[dict]:
    """A value's position by PageRank and by direct votes (yes answers where
    it is the wiser value) after growing shares of the chronological events
    (source, target, context, kind), kind in yes / no / unsure / impression.
    A position is None while the value is in no kept edge / has no votes."""
    events = list(events)
    slot = {"yes": 0, "no": 1, "unsure": 2, "impression": 3}
    cells: dict[tuple[int, int, int], list[int]] = {}
    direct: dict[int, int] = {}
    done = 0
    out = []
    for n in checkpoint_sizes(len(events), checkpoints):
        for source, target, context, kind in events[done:n]:
            if kind not in slot:
                raise ValueError(f"unknown event kind {kind!r} (expected one of {', '.join(EVENT_KINDS)})")
            cells.setdefault((source, target, context), [0, 0, 0, 0])[slot[kind]] += 1
            if kind == "yes":
                direct[target] = direct.get(target, 0) + 1
        done = n
        result = build([Cell(a, b, c, *t) for (a, b, c), t in cells.items()], params)
        by_pagerank = positions(result.scores)  # without `nodes`: only values in kept edges
        by_votes = positions({k: float(v) for k, v in direct.items()})
        out.append({"events": n, "pagerank_position": by_pagerank.get(value), "votes_position": by_votes.get(value)})
    return out
