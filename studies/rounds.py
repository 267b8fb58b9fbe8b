"""Test–retest rounds (issue 29): which participants a retest round samples.

Round 1 is the first elicitation and has no row; a retest round
(`studies.models.Round`, number 2 and on) invites a seeded random sample of
the participants who completed the study. The sample is stratified like the
arms: by arm (the default when the study has arms), by arm and the stratum
the arm was drawn in, by language, or not at all; each stratum gives its
share of the sample by the largest-remainder rule, and within a stratum the
participants are shuffled by (seed, stratum). The same seed and the same
completed participants give the same sample, whatever order the database
returns them in.

Opening a round (its invitations delivered by the follow-up links) is an
orchestration of two layers: `journey.retest.open_retest_round`.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass

from studies.models import Participant, Study

STRATA = ("", "arm", "arm_stratum", "language")


class RoundError(ValueError):
    """A retest round that cannot be opened as asked (the message says why)."""


@dataclass(frozen=True)
class Draw:
    eligible: int
    sample: list[tuple[Participant, str]]  # (participant, stratum), in the drawn order
    by_stratum: dict[str, tuple[int, int]]  # stratum: (eligible, sampled)


def default_strata(study: Study) -> str:
    """What a round is stratified by when the coordinator says nothing: by arm in a study with arms."""
    return "arm" if study.arms.exists() else ""


def eligible(study: Study):
    """Who a retest may invite: real participants who completed the study
    (so never a withdrawn, screened-out or simulated one, nor a preview)."""
    return Participant.objects.filter(study=study).real().completed().select_related("arm")


def stratum_of(participant: Participant, rule: str) -> str:
    arm = participant.arm.name if participant.arm is not None else "no-arm"
    if rule == "arm":
        return arm
    if rule == "arm_stratum":
        return f"{arm}/{participant.arm_stratum}" if participant.arm_stratum else arm
    if rule == "language":
        return participant.language
    return ""


def allocate(sizes: dict[str, int], n: int, seed: int) -> dict[str, int]:
    """How many of `n` each stratum gives: its proportional share, floored,
    and the places left to the largest remainders (ties by a seeded draw)."""
    total = sum(sizes.values())
    if total == 0:
        return dict.fromkeys(sizes, 0)
    quotas = {s: n * size / total for s, size in sizes.items()}
    given = {s: math.floor(q) for s, q in quotas.items()}
    tiebreak = random.Random(f"{seed}:allocate")
    order = sorted(sizes, key=lambda s: (-(quotas[s] - given[s]), tiebreak.random(), s))
    for s in order[: n - sum(given.values())]:
        given[s] += 1
    return given


def draw(study: Study, *, n: int | None = None, fraction: float | None = None, seed: int, stratify_by: str) -> Draw:
    """The sample of a retest round, without writing anything."""
    if (n is None) == (fraction is None):
        raise RoundError("give either a number of participants or a fraction, not both")
    if stratify_by not in STRATA:
        raise RoundError(f"stratify by one of: {', '.join(repr(s) for s in STRATA)}")
    pool = sorted(eligible(study), key=lambda p: str(p.pk))
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise RoundError("the fraction is more than 0 and at most 1")
        n = round(fraction * len(pool))
    assert n is not None
    if n < 1:
        raise RoundError(f"a round needs at least one participant; {len(pool)} completed the study")
    if n > len(pool):
        raise RoundError(f"{n} asked for, but only {len(pool)} real participants completed the study")
    strata: dict[str, list[Participant]] = defaultdict(list)
    for p in pool:
        strata[stratum_of(p, stratify_by)].append(p)
    quota = allocate({s: len(members) for s, members in strata.items()}, n, seed)
    sample: list[tuple[Participant, str]] = []
    for s in sorted(strata):
        members = list(strata[s])
        random.Random(f"{seed}:{s}").shuffle(members)
        sample.extend((p, s) for p in members[: quota[s]])
    return Draw(
        eligible=len(pool),
        sample=sample,
        by_stratum={s: (len(strata[s]), quota[s]) for s in sorted(strata)},
    )


def round_of(participant: Participant) -> int:
    """The latest round the participant was invited to (1 if none)."""
    latest = participant.retest_invitations.order_by("-round__number").values_list("round__number", flat=True).first()
    return latest or 1
