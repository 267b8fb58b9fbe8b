"""The alignment target read from a built moral graph: for a moral context,
the values ranked by PageRank within that context (paper 6.2: "the highest
ranking value would be retrieved from the moral graph for that particular
context"). Pure reads of a GraphSnapshot's stored scores; no queries. A
value with fewer votes than GRAPH_MIN_VOTES_FOR_WINNER is still returned,
marked `too_few_votes` and without a rank interval."""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.explorer import min_votes, value_votes

TOP = 3


@dataclass(frozen=True)
class RankedValue:
    id: int
    title: str
    policies: list[str] = field(default_factory=list)
    position: int = 1  # 1 = the winner in this context
    score: float = 0.0  # PageRank within the context
    rank_low: int | None = None  # the bootstrap's 95% interval of the value's rank (see interval_scope)
    rank_high: int | None = None
    interval_scope: str = ""  # "context": within this context; "global": the global rank (older snapshots)
    votes: int = 0  # votes on stories with the value at either end
    too_few_votes: bool = False  # fewer than GRAPH_MIN_VOTES_FOR_WINNER: thin evidence, no interval given

    @property
    def is_winner(self) -> bool:
        return self.position == 1

    @property
    def interval(self) -> list[int] | None:
        if self.rank_low is None or self.rank_high is None:
            return None
        return [self.rank_low, self.rank_high]


def ranked_in_context(snapshot, context_id: int, top: int = TOP) -> list[RankedValue]:
    """The context's top values, highest score first (equal scores: smaller
    id first, as the explorer orders them). Empty when the graph kept no edge
    in the context: it says nothing about what is wise there. Each carries
    the bootstrap's 95% interval of its rank within the context, or, for a
    snapshot built before those were stored, of its global rank."""
    scores = (snapshot.scores or {}).get("context", {}).get(str(context_id), {})
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], int(kv[0])))[:top]
    within = (snapshot.scores or {}).get("context_intervals")
    votes, needed = value_votes(snapshot), min_votes()
    out = []
    for position, (vid, score) in enumerate(ordered, start=1):
        value = (snapshot.values or {}).get(vid, {})
        if within is not None:  # built with per-context intervals: the value's standing here
            b, scope = (within.get(str(context_id)) or {}).get(vid) or {}, "context"
        else:  # an older snapshot: only the global rank's interval
            b, scope = (snapshot.bootstrap or {}).get(vid) or {}, "global"
        thin = votes.get(vid, 0) < needed
        if thin:  # no rank interval from a vote or two
            b = {}
        out.append(
            RankedValue(
                id=int(vid),
                title=value.get("title", f"value {vid}"),
                policies=list(value.get("policies", [])),
                position=position,
                score=float(score),
                rank_low=b.get("rank_low"),
                rank_high=b.get("rank_high"),
                interval_scope=scope if b else "",
                votes=votes.get(vid, 0),
                too_few_votes=thin,
            )
        )
    return out


def winners(snapshot, context_ids) -> dict[int, RankedValue | None]:
    """{context id: the graph's winning value there, or None when it has none}."""
    return {cid: next(iter(ranked_in_context(snapshot, cid, top=1)), None) for cid in context_ids}
