"""The moral graph's maths (paper 4.4, 5.5, footnotes 15 and 23), as pure
functions: no database, so every rule is tested by hand-computed cases.

Votes arrive as `Cell`s: for one story direction (source value → target
value) in one moral context, how many participants answered yes / no / not
sure to "did this person become wiser?", and how often it was shown.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import networkx as nx
import numpy as np

ANSWERS = ("yes", "no", "unsure")
ENTROPY_CHOICES = ("five", "answers")
MAX_CYCLES_LISTED = 100

REASONS = {
    "too_few_wiser": "too few participants marked the move as wiser",
    "low_likelihood": "wiser-likelihood below the threshold (participants disagreed or found it less wise)",
    "high_entropy": "answers too spread out (entropy above the threshold)",
    "two_way": "kept in both directions (participants disagree on direction)",
    "cycle": "part of a cycle (no consensus on direction; excluded)",
}


@dataclass(frozen=True)
class Cell:
    source: int
    target: int
    context: int
    yes: int = 0
    no: int = 0
    unsure: int = 0
    impressions: int = 0


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

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Parameters:
    """Defaults reproduce the original implementation's published graph."""

    min_wiser: int = 2
    min_likelihood: float = 0.33
    max_entropy: float = 1.69
    entropy_over: str = "five"
    pagerank_alpha: float = 0.85
    bootstrap_samples: int = 200
    bootstrap_seed: int = 0

    def __post_init__(self):
        if self.entropy_over not in ENTROPY_CHOICES:
            raise ValueError(f"entropy_over must be one of {ENTROPY_CHOICES}, not {self.entropy_over!r}")
        if not 0 < self.pagerank_alpha < 1:
            raise ValueError("pagerank_alpha must be between 0 and 1")
        if self.bootstrap_samples < 0 or self.min_wiser < 0:
            raise ValueError("bootstrap_samples and min_wiser cannot be negative")
        if self.max_entropy < 0:
            raise ValueError("max_entropy cannot be negative")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Parameters":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown graph parameters: {', '.join(sorted(unknown))}")
        return cls(**data)


def likelihood(c: Counts) -> float:
    return (c.wiser - c.less_wise) / c.votes if c.votes else 0.0


def entropy(c: Counts, over: str = "five") -> float:
    """Shannon entropy in bits. The original implementation took it over the
    four answer counts and the impressions ("five"); "answers" leaves the
    impressions out."""
    parts = [c.wiser, c.not_wiser, c.unsure, c.less_wise] + ([c.impressions] if over == "five" else [])
    total = sum(parts)
    if not total:
        return 0.0
    return -sum(n / total * math.log2(n / total) for n in parts if n)


def pair_counts(cells) -> dict[tuple[int, int], Counts]:
    own: dict[tuple[int, int], list[int]] = {}
    for cell in cells:
        t = own.setdefault((cell.source, cell.target), [0, 0, 0, 0])
        t[0] += cell.yes
        t[1] += cell.no
        t[2] += cell.unsure
        t[3] += cell.impressions
    return {(a, b): Counts(wiser=t[0], not_wiser=t[1], unsure=t[2], impressions=t[3],
                           less_wise=own.get((b, a), (0,))[0])
            for (a, b), t in own.items()}


def pair_contexts(cells) -> dict[tuple[int, int], list[int]]:
    out: dict[tuple[int, int], set[int]] = {}
    for cell in cells:
        if cell.yes or cell.no or cell.unsure or cell.impressions:
            out.setdefault((cell.source, cell.target), set()).add(cell.context)
    return {k: sorted(v) for k, v in out.items()}


@dataclass
class Edge:
    source: int
    target: int
    counts: Counts
    likelihood: float
    entropy: float
    contexts: list[int]
    kept: bool = True
    reason: str = ""

    def to_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "counts": self.counts.as_dict(),
                "likelihood": round(self.likelihood, 6), "entropy": round(self.entropy, 6),
                "contexts": list(self.contexts), "kept": self.kept, "reason": self.reason}


@dataclass
class GraphResult:
    edges: list[Edge]
    cycles: list[list[int]] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)

    def kept(self) -> list[Edge]:
        return [e for e in self.edges if e.kept]


def _threshold_reason(e: Edge, params: Parameters) -> str:
    if e.counts.wiser < params.min_wiser:
        return "too_few_wiser"
    if e.likelihood < params.min_likelihood:
        return "low_likelihood"
    if e.entropy > params.max_entropy:
        return "high_entropy"
    return ""


def _canonical_cycle(cycle: list[int]) -> list[int]:
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


def decide_edges(counts: dict, contexts: dict, params: Parameters) -> tuple[list[Edge], list[list[int]]]:
    """Every pair with the first rule it fails: thresholds, then agreement
    on direction, then cycles (footnotes 15, 23)."""
    edges = []
    for (a, b), c in sorted(counts.items()):
        e = Edge(a, b, c, likelihood(c), entropy(c, params.entropy_over), contexts.get((a, b), []))
        e.reason = _threshold_reason(e, params)
        e.kept = not e.reason
        edges.append(e)
    passing = {(e.source, e.target): e for e in edges if e.kept}
    for (a, b), e in passing.items():
        if (b, a) in passing:
            e.kept, e.reason = False, "two_way"
    graph = nx.DiGraph()
    graph.add_edges_from((e.source, e.target) for e in edges if e.kept)
    cycles = []
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        # In a strongly connected component every edge lies on some cycle.
        sub = graph.subgraph(component)
        for cycle in nx.simple_cycles(sub):
            cycles.append(_canonical_cycle(list(cycle)))
            if len(cycles) >= MAX_CYCLES_LISTED:
                break
        for e in edges:
            if e.kept and e.source in component and e.target in component:
                e.kept, e.reason = False, "cycle"
    return edges, sorted(cycles)[:MAX_CYCLES_LISTED]


def pagerank(edges, nodes=None, alpha: float = 0.85) -> dict[int, float]:
    """The wiser value receives the score; weights are likelihoods."""
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes or [])
    graph.add_weighted_edges_from((e.source, e.target, max(e.likelihood, 1e-9)) for e in edges)
    if graph.number_of_nodes() == 0:
        return {}
    return {int(k): float(v) for k, v in nx.pagerank(graph, alpha=alpha, weight="weight").items()}


def build(cells, params: Parameters = Parameters(), nodes=None) -> GraphResult:
    edges, cycles = decide_edges(pair_counts(cells), pair_contexts(cells), params)
    kept = [e for e in edges if e.kept]
    return GraphResult(edges=edges, cycles=cycles, scores=pagerank(kept, nodes=nodes, alpha=params.pagerank_alpha))


def rank_subset(result: GraphResult, contexts: set[int], alpha: float = 0.85) -> dict[int, float]:
    """PageRank within some contexts (a scenario's, or one): kept edges with
    any of them, and only the values those edges touch."""
    subset = [e for e in result.kept() if contexts.intersection(e.contexts)]
    return pagerank(subset, alpha=alpha) if subset else {}


def positions(scores: dict[int, float]) -> dict[int, int]:
    ordered = sorted(scores, key=lambda k: (-scores[k], k))
    return {k: i + 1 for i, k in enumerate(ordered)}


# --- uncertainty ------------------------------------------------------------------

def _sparse_pagerank(n: int, src, dst, weight, alpha: float, tol: float = 1e-6, max_iter: int = 100):
    """networkx's power iteration (uniform teleport and dangling weights) on
    index arrays, without building a graph object per bootstrap sample."""
    import scipy.sparse as sparse

    matrix = sparse.csr_array((weight, (src, dst)), shape=(n, n))
    out = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, out, out=np.zeros_like(out), where=out != 0)
    matrix = sparse.dia_array((scale, 0), shape=(n, n)).tocsr() @ matrix
    dangling = out == 0
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = alpha * (x @ matrix + x[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(x - last).sum() < n * tol:
            break
    return x


class _Resampler:
    """The graph rules (thresholds, two-way, cycles, PageRank) as array
    operations over ordered pairs, for many resampled vote counts."""

    def __init__(self, cells: list[Cell], params: Parameters, node_ids: list[int]):
        self.params = params
        self.node_ids = node_ids
        index = {n: i for i, n in enumerate(node_ids)}
        pairs: dict[tuple[int, int], int] = {}
        for c in cells:
            pairs.setdefault((c.source, c.target), len(pairs))
        self.cell_pair = np.array([pairs[(c.source, c.target)] for c in cells], dtype=np.int64)
        self.n_pairs = len(pairs)
        keys = list(pairs)
        self.reverse = np.array([pairs.get((b, a), -1) for a, b in keys], dtype=np.int64)
        self.src = np.array([index[a] for a, _ in keys], dtype=np.int64)
        self.dst = np.array([index[b] for _, b in keys], dtype=np.int64)
        self.impressions = np.bincount(self.cell_pair, weights=[c.impressions for c in cells],
                                       minlength=self.n_pairs)

    def positions(self, answers: np.ndarray) -> np.ndarray:
        """1-based PageRank position of every node for per-cell (yes, no, unsure)."""
        from scipy.sparse.csgraph import connected_components

        p, n_pairs = self.params, self.n_pairs
        wiser, not_wiser, unsure = (np.bincount(self.cell_pair, weights=answers[:, k], minlength=n_pairs)
                                    for k in range(3))
        has_reverse = self.reverse >= 0
        less_wise = np.where(has_reverse, wiser[np.where(has_reverse, self.reverse, 0)], 0.0)
        votes = wiser + not_wiser + unsure + less_wise
        like = np.divide(wiser - less_wise, votes, out=np.zeros(n_pairs), where=votes > 0)
        parts = [wiser, not_wiser, unsure, less_wise] + ([self.impressions] if p.entropy_over == "five" else [])
        total = sum(parts)
        ent = np.zeros(n_pairs)
        for part in parts:
            share = np.divide(part, total, out=np.zeros(n_pairs), where=total > 0)
            ent -= np.where(share > 0, share * np.log2(np.where(share > 0, share, 1)), 0)
        kept = (wiser >= p.min_wiser) & (like >= p.min_likelihood) & (ent <= p.max_entropy + 1e-12)
        kept &= ~(has_reverse & kept[np.where(has_reverse, self.reverse, 0)])
        n = len(self.node_ids)
        if kept.any():
            import scipy.sparse as sparse

            graph = sparse.csr_array((np.ones(kept.sum()), (self.src[kept], self.dst[kept])), shape=(n, n))
            _, labels = connected_components(graph, directed=True, connection="strong")
            kept &= ~(labels[self.src] == labels[self.dst])
        scores = _sparse_pagerank(n, self.src[kept], self.dst[kept], np.maximum(like[kept], 1e-9),
                                  p.pagerank_alpha)
        order = np.lexsort((np.asarray(self.node_ids), -scores))
        ranks = np.empty(n, dtype=np.int32)
        ranks[order] = np.arange(1, n + 1)
        return ranks


def bootstrap(cells, params: Parameters, nodes=None) -> dict[int, dict]:
    """How stable each value's rank is: resample the votes with replacement
    (a multinomial draw over (cell, answer) in proportion to their counts,
    impressions as observed), apply the same rules to each sample, and
    report percentiles of every value's position."""
    cells = list(cells)
    if params.bootstrap_samples == 0:
        return {}
    full = build(cells, params, nodes)
    base_positions = positions(full.scores)
    if not base_positions:
        return {}
    node_ids = sorted(set(base_positions) | {n for c in cells for n in (c.source, c.target)})
    resampler = _Resampler(cells, params, node_ids)
    counts = np.array([[c.yes, c.no, c.unsure] for c in cells], dtype=np.int64).reshape(-1)
    total = int(counts.sum())
    rng = np.random.default_rng(params.bootstrap_seed)
    samples = np.empty((params.bootstrap_samples, len(node_ids)), dtype=np.int32)
    for s in range(params.bootstrap_samples):
        draw = (rng.multinomial(total, counts / total) if total else counts).reshape(-1, 3).astype(float)
        samples[s] = resampler.positions(draw)
    out = {}
    for i, node in enumerate(node_ids):
        if node not in base_positions:
            continue
        column = samples[:, i]
        out[node] = {"rank": base_positions[node], "rank_low": int(np.percentile(column, 2.5, method="lower")),
                     "rank_high": int(np.percentile(column, 97.5, method="higher")),
                     "rank_median": float(np.median(column)), "top_share": round(float(np.mean(column == 1)), 4)}
    return out


# --- scalability (paper 5.5, Fig. 12) -------------------------------------------

def trajectory(events, value: int, checkpoints: int = 11, params: Parameters = Parameters()) -> list[dict]:
    """A value's position by PageRank and by direct votes (yes answers where
    it is the wiser value) after growing shares of the chronological events
    (source, target, context, kind), kind in yes/no/unsure/impression."""
    events = list(events)
    out = []
    for k in range(1, checkpoints + 1):
        n = round(len(events) * k / checkpoints)
        cells: dict[tuple, list[int]] = {}
        direct: dict[int, int] = {}
        for source, target, context, kind in events[:n]:
            t = cells.setdefault((source, target, context), [0, 0, 0, 0])
            t[{"yes": 0, "no": 1, "unsure": 2, "impression": 3}[kind]] += 1
            if kind == "yes":
                direct[target] = direct.get(target, 0) + 1
        prefix = [Cell(a, b, c, *t) for (a, b, c), t in cells.items()]
        result = build(prefix, params)
        kept_nodes = {e.source for e in result.kept()} | {e.target for e in result.kept()}
        by_pagerank = positions({n_: s for n_, s in result.scores.items() if n_ in kept_nodes})
        by_votes = positions({n_: float(v) for n_, v in direct.items()})
        out.append({"events": n, "pagerank_position": by_pagerank.get(value), "votes_position": by_votes.get(value)})
    return out
