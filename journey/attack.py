"""The manipulation simulator (issue 15, part 5): how many coordinated
voters it takes to make a chosen value win, under the moral graph's
PageRank and under the other aggregators, and whether the coordination
detector catches them.

A bloc of simulated participants (tagged `simulated`; their
`participant.joined` event says `attack_bloc`) judges every active story
that touches the target: "wiser" on each move towards it, "not wiser" on
each move away from it, all members within seconds of each other on each
story. With `cards`, each also submits a slogan-like values card pushing
the target (matched to it). Everything happens inside a transaction that
is rolled back, so the study is left as it was; only the results are kept,
as a `study.robustness_run` domain event the study report draws.

It lives in the journey layer because it writes participants (studies),
interviews and cards (interviews, values) and votes (graph), and builds
the graph: the features below it must not import each other for this.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from graph import aggregation, aggregators, coordination
from graph import selectors as graph_selectors
from graph import services as graph_services
from graph.models import StoryAssignment, TransitionStory, WisdomVote
from interviews import services as chat
from journey import events
from mgeplatform.audit import participant_context, record_event
from mgeplatform.models import DomainEvent
from studies import selectors as study_selectors
from studies import services as study_services
from studies.models import Participant
from values import selectors as value_selectors
from values.models import CanonicalValue, ValuesCard

STRATEGIES = ("votes", "cards", "both")
SWEEP_SHARES = (0.01, 0.05, 0.1, 0.2, 0.3)
# Beside the aggregators the table marks for the simulator: PageRank again
# after leaving out the participants the detector flagged ("defended").
DEFENDED = "pagerank_defended"
DEFENDED_LABEL = "PageRank without flagged voters"
SECONDS_BETWEEN_STORIES = 60
MEMBER_SPREAD_SECONDS = 8


def methods() -> list[str]:
    """The rankings reported, read from graph.aggregators' table each time."""
    return [*aggregators.names("attack"), DEFENDED]


def method_label(method: str) -> str:
    return DEFENDED_LABEL if method == DEFENDED else aggregators.label(method)


class AttackError(ValueError):
    pass


@dataclass
class AttackResult:
    share: float
    bloc: int
    voters: int  # counted participants with votes, before the bloc
    stories: int  # active stories touching the target
    bloc_votes: int
    cards: int
    ranks_before: dict[str, int | None]
    ranks_after: dict[str, int | None]
    ranked_values: int  # values ranked in the target's scenario after the attack (by PageRank)
    flagged: int
    flagged_in_bloc: int
    precision: float | None
    recall: float | None
    bloc_ids: list[str] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("bloc_ids")
        return out


class _RollBack(Exception):
    def __init__(self, result):
        super().__init__("rolled back on purpose")
        self.result = result


def _scenario_contexts(study, target: CanonicalValue) -> set[int]:
    scenarios = value_selectors.value_scenarios(study).get(target.pk, set())
    contexts = graph_selectors.snapshot_contexts(study)
    return {int(cid) for cid, c in contexts.items() if c["scenario"] in scenarios}


def target_ranks(
    study,
    target: CanonicalValue,
    *,
    include_simulated: bool,
    also=(),
    exclude=(),
    params: aggregation.Parameters | None = None,
) -> tuple[dict[str, int | None], int]:
    """The target's position (1 = first; None = not ranked) in its
    scenario's contexts under every aggregator, from the votes counted now,
    and how many values PageRank ranks there."""
    params = params or aggregation.Parameters(bootstrap_samples=0)
    cells, _ = graph_selectors.graph_cells(study, include_simulated=include_simulated, also=also, exclude=exclude)
    contexts = _scenario_contexts(study, target)
    result = aggregation.build(cells, params)
    pagerank = aggregation.rank_subset(result, contexts, params.pagerank_alpha) if contexts else result.scores
    # PageRank always: the defended rank is PageRank's, whatever the table's flags
    scores, _ = aggregators.rankings(
        cells, pagerank, contexts=contexts or None, methods={"pagerank", *aggregators.names("attack")}
    )
    ranks = {m: aggregation.positions(s).get(target.pk) if s else None for m, s in scores.items()}
    return ranks, len(pagerank)


def _target_stories(study, target: CanonicalValue) -> list[TransitionStory]:
    family = graph_selectors.value_family(target)
    return list(
        TransitionStory.objects.filter(
            Q(from_value__in=family) | Q(to_value__in=family), study=study, status=TransitionStory.Status.ACTIVE
        )
        .exclude(from_value__in=family, to_value__in=family)
        .order_by("context_id", "pk")
    )


def _bloc_member(study, rng: random.Random) -> Participant:
    return study_services.create_participant(study, via="attack", pk=uuid.UUID(int=rng.getrandbits(128), version=4))


def _slogan_card(study, participant, target: CanonicalValue) -> None:
    """A card that only chants the target's name, matched to it."""
    scenario_ids = value_selectors.value_scenarios(study).get(target.pk) or set()
    scenario = study.scenarios.filter(pk__in=scenario_ids).first() or study.scenarios.first()
    # a study taking part has its consent published
    study_services.record_consent(
        participant=participant,
        consent=study_selectors.current_consent(study),  # type: ignore[arg-type]
        accepted=True,
    )
    interview = chat.choose_scenario(participant=participant, scenario=scenario)
    slogan = target.title.upper()[:60]
    with participant_context(participant.pk):
        ValuesCard.objects.create(
            interview=interview,
            revision=1,
            title=f"{slogan}!"[:60],
            description=f"{target.title} is the only wise answer. Always."[:200],
            policies=[f"{slogan}, ALWAYS {slogan}"[:140]] * 3,
            source="participant_edit",
            submitted=True,
            submitted_at=timezone.now(),
            canonical=target,
        )


def add_bloc(study, target: CanonicalValue, n: int, *, strategy: str = "votes", seed: int = 0) -> dict:
    """`n` bloc members who vote every story touching the target its way,
    story after story a minute apart, members within seconds of each other;
    with `cards`, a slogan card each. Returns their ids and counts."""
    rng = random.Random(f"attack:{seed}:{study.pk}:{target.pk}:{n}")
    stories = _target_stories(study, target) if strategy in ("votes", "both") else []
    family = graph_selectors.value_family(target)
    # The bloc's session ends now (a vote's time taken counts from the story being shown).
    start = timezone.now() - timedelta(seconds=len(stories) * SECONDS_BETWEEN_STORIES + 60)
    members, votes, cards = [], 0, 0
    for _ in range(n):
        member = _bloc_member(study, rng)
        members.append(member)
        if strategy in ("cards", "both"):
            _slogan_card(study, member, target)
            cards += 1
        shown = [
            start + timedelta(seconds=i * SECONDS_BETWEEN_STORIES + rng.uniform(0, MEMBER_SPREAD_SECONDS))
            for i in range(len(stories))
        ]
        assignments = StoryAssignment.objects.bulk_create(
            [StoryAssignment(participant=member, story=s, position=i, shown_at=shown[i]) for i, s in enumerate(stories)]
        )
        for assignment, story, at in zip(assignments, stories, shown):
            vote = graph_services.record_vote(
                participant=member, assignment=assignment, answer="yes" if story.to_value_id in family else "no"
            )
            # Bloc-like timing: the answer a few seconds after the story was shown.
            WisdomVote.objects.filter(pk=vote.pk).update(created_at=at + timedelta(seconds=rng.uniform(2, 5)))
            votes += 1
    return {"ids": [str(p.pk) for p in members], "votes": votes, "cards": cards, "stories": len(stories)}


def counted_voters(study, include_simulated: bool) -> int:
    return len({v.participant for v in graph_selectors.coordination_votes(study, include_simulated=include_simulated)})


def bloc_size(share: float, voters: int) -> int:
    """Members making `share` of the voters once added (at least one)."""
    if not 0 < share < 1:
        raise AttackError(f"The bloc share must be between 0 and 1 (got {share}).")
    return max(1, round(share * voters / (1 - share)))


def default_include_simulated(study) -> bool:
    """As the build form: count simulated votes when every counted vote is simulated (a demo)."""
    return graph_selectors.vote_tally(study)["all_simulated"]


def run_attack(
    study,
    target: CanonicalValue,
    *,
    share: float,
    strategy: str = "votes",
    include_simulated: bool | None = None,
    seed: int = 0,
) -> AttackResult:
    """One attack, rolled back: the target's ranks before and after, and
    the detector's precision and recall against the bloc."""
    if strategy not in STRATEGIES:
        raise AttackError(f"Strategy must be one of {', '.join(STRATEGIES)}.")
    if target.study_id != study.pk or target.merged_into_id:
        raise AttackError("The target must be a live value of this study.")
    if include_simulated is None:
        include_simulated = default_include_simulated(study)
    try:
        with transaction.atomic():
            before, _ = target_ranks(study, target, include_simulated=include_simulated)
            before[DEFENDED] = before["pagerank"]
            voters = counted_voters(study, include_simulated)
            bloc = add_bloc(study, target, bloc_size(share, voters), strategy=strategy, seed=seed)
            after, ranked = target_ranks(study, target, include_simulated=include_simulated, also=bloc["ids"])
            detection = coordination.detect(
                graph_selectors.coordination_votes(study, include_simulated=include_simulated, also=bloc["ids"])
            )
            flagged = detection.flagged_ids
            defended, _ = target_ranks(
                study, target, include_simulated=include_simulated, also=bloc["ids"], exclude=flagged
            )
            after[DEFENDED] = defended["pagerank"]
            precision, recall = coordination.precision_recall(flagged, set(bloc["ids"]))
            raise _RollBack(
                AttackResult(
                    share=share,
                    bloc=len(bloc["ids"]),
                    voters=voters,
                    stories=bloc["stories"],
                    bloc_votes=bloc["votes"],
                    cards=bloc["cards"],
                    ranks_before=before,
                    ranks_after=after,
                    ranked_values=ranked,
                    flagged=len(flagged),
                    flagged_in_bloc=len(flagged & set(bloc["ids"])),
                    precision=precision,
                    recall=recall,
                    bloc_ids=bloc["ids"],
                )
            )
    except _RollBack as done:
        return done.result


def share_needed(results: list[AttackResult], method: str) -> float | None:
    """The smallest bloc share that made the target first under `method`; None if none did."""
    firsts = [r.share for r in results if r.ranks_after.get(method) == 1]
    return min(firsts) if firsts else None


def simulate_attack(
    study,
    target: CanonicalValue,
    *,
    shares=(0.1,),
    strategy: str = "votes",
    include_simulated: bool | None = None,
    seed: int = 0,
    user=None,
) -> dict:
    """Attacks at each share (each rolled back), then the results recorded
    as a `study.robustness_run` event: the study report's robustness curve."""
    if include_simulated is None:
        include_simulated = default_include_simulated(study)
    results = [
        run_attack(study, target, share=s, strategy=strategy, include_simulated=include_simulated, seed=seed)
        for s in sorted(shares)
    ]
    run = {
        "target": target.pk,
        "target_title": target.title,
        "strategy": strategy,
        "include_simulated": include_simulated,
        "seed": seed,
        "results": [r.to_dict() for r in results],
        "share_needed": {m: share_needed(results, m) for m in methods()},
    }
    with transaction.atomic():
        event = record_event(events.ROBUSTNESS_RUN, user=user, study_slug=study.slug, subject=target, payload=run)
    return {**run, "event": event.pk, "result_objects": results}


def robustness_runs(study, limit: int = 5) -> list[dict]:
    """The latest simulator runs on the study (newest first), as recorded."""
    rows = DomainEvent.objects.filter(kind=events.ROBUSTNESS_RUN, study_slug=study.slug).order_by("-created_at", "-id")[
        :limit
    ]
    return [{**e.payload, "at": e.created_at, "event": e.pk} for e in rows]


def curve_points(run: dict, method: str = "pagerank", other: str = "direct_votes") -> list[dict]:
    """Points for mgeplatform.charts.line_chart: the target's position at
    each bloc share (0% = before), by PageRank and by direct votes."""
    results = run.get("results", [])
    if not results:
        return []
    first = results[0]["ranks_before"]
    points = [{"events": "0%", "pagerank_position": first.get(method), "votes_position": first.get(other)}]
    for r in results:
        points.append(
            {
                "events": f"{r['share'] * 100:g}%",
                "pagerank_position": r["ranks_after"].get(method),
                "votes_position": r["ranks_after"].get(other),
            }
        )
    return points


def fmt_share(share: float | None) -> str:
    return "not reached" if share is None else f"{share * 100:g}%"


def fmt_rank(rank: int | None) -> str:
    return "–" if rank is None else str(rank)
