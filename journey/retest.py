"""Opening a test–retest round (issue 29): the sample is drawn by
`studies.rounds`, the invitations are rows of `studies.RetestInvitation`,
and they reach the participants through their signed follow-up links
(`surveys.services.deliver_links`, which makes a link for whoever has none
and moves a sooner expiry on). Here because it writes to both layers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from journey import events
from mgeplatform.audit import record_event
from studies import rounds
from studies.models import RetestInvitation, Round, Study
from studies.rounds import RoundError
from surveys import services as survey_services

__all__ = ["RoundError", "Opened", "open_retest_round"]


@dataclass(frozen=True)
class Opened:
    round: Round
    invited: int
    links_made: int
    links_extended: int
    by_stratum: dict[str, tuple[int, int]]

    def summary(self) -> str:
        strata = "; ".join(f"{s or 'all'}: {k} of {m}" for s, (m, k) in self.by_stratum.items())
        return (
            f"Opened round {self.round.number} of {self.round.study.slug}: {self.invited} of "
            f"{self.round.eligible} completed participants invited (seed {self.round.seed}; {strata}). "
            f"Follow-up links: {self.links_made} made, {self.links_extended} extended; export them from "
            "Surveys › Follow-up links to send them."
        )


@transaction.atomic
def open_retest_round(
    study: Study,
    *,
    n: int | None = None,
    fraction: float | None = None,
    seed: int,
    stratify_by: str | None = None,
    days_valid: int = 30,
    user=None,
) -> Opened:
    """Open the study's next round for a seeded, stratified sample of its
    completed participants (`n` of them, or `fraction` of them), and invite
    each through their follow-up link. `stratify_by` None: by arm when the
    study has arms. Opening a round with the settings of one already open is
    refused (RoundError), so a double click invites nobody twice."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    rule = rounds.default_strata(study) if stratify_by is None else stratify_by
    same = Round.objects.filter(
        study=study, seed=seed, sample_size=n, sample_fraction=fraction, stratify_by=rule
    ).first()
    if same is not None:
        raise RoundError(
            f"round {same.number} of {study.slug} was already opened with these settings "
            f"({same.opened_at:%Y-%m-%d %H:%M}); nobody was invited again"
        )
    drawn = rounds.draw(study, n=n, fraction=fraction, seed=seed, stratify_by=rule)
    number = max(study.rounds.aggregate(last=Max("number"))["last"] or 1, 1) + 1
    opened = Round.objects.create(
        study=study,
        number=number,
        seed=seed,
        sample_size=n,
        sample_fraction=fraction,
        stratify_by=rule,
        eligible=drawn.eligible,
    )
    RetestInvitation.objects.bulk_create(
        RetestInvitation(round=opened, participant=p, stratum=stratum) for p, stratum in drawn.sample
    )
    links = survey_services.deliver_links([p for p, _ in drawn.sample], days_valid=days_valid)
    record_event(
        events.RETEST_ROUND_OPENED,
        user=user,
        study_slug=study.slug,
        subject=opened,
        payload={
            "round": number,
            "seed": seed,
            "sample_size": n,
            "sample_fraction": fraction,
            "stratify_by": rule,
            "eligible": drawn.eligible,
            "invited": len(drawn.sample),
            "by_stratum": {s: {"eligible": m, "invited": k} for s, (m, k) in drawn.by_stratum.items()},
            "links_made": links["made"],
            "links_extended": links["extended"],
            "days_valid": days_valid,
        },
    )
    return Opened(
        round=opened,
        invited=len(drawn.sample),
        links_made=links["made"],
        links_extended=links["extended"],
        by_stratum=drawn.by_stratum,
    )
