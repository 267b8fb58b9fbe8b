"""The base layer's share of the study export: when each step began and
ended, and the retest rounds each participant was invited to; of the
participant trail: the steps, the language chosen beside Prolific's answer
and the retest rounds; on withdrawal, the invitations and their audit-trail
copies."""

from django.utils import timezone

from studies import demographics, steps
from studies.contributions import TrailSection, export_table, iso, participant_content, participant_trail
from studies.models import RetestInvitation, StepTiming
from studies.selectors import skipped_steps


def _steps(study, pids):
    skipped = skipped_steps(pids)
    return (
        (
            t.participant_id,
            t.step,
            iso(t.started_at),
            iso(t.ended_at),
            t.seconds,
            t.step in skipped.get(t.participant_id, ()),
            1,  # step timings are of the first round until the retest journey records its own (issue 29)
        )
        for t in StepTiming.objects.filter(participant__in=pids).order_by("participant", "started_at")
    )


def _invitations(study, pids):
    return (
        (i.participant_id, i.round.number, i.stratum, iso(i.created_at), iso(i.started_at))
        for i in RetestInvitation.objects.filter(participant__in=pids)
        .select_related("round")
        .order_by("round__number", "participant")
    )


def _delete(participant) -> dict[str, int]:
    return {"retest_invitations": RetestInvitation.objects.filter(participant=participant).delete()[0]}


def _audit_copies(participant) -> dict[str, list]:
    return {
        "studies.RetestInvitationEvent": list(
            RetestInvitation.objects.filter(participant=participant).values_list("pk", flat=True)
        )
    }


def _trail(participant) -> list[TrailSection]:
    def when(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "still here"

    skipped = skipped_steps([participant.pk]).get(participant.pk, set())
    rows = [
        [
            steps.label(t.step) + (" (skipped)" if t.step in skipped else ""),
            when(t.started_at),
            when(t.ended_at),
            f"{t.seconds / 60:.1f}" if t.seconds is not None else "",
        ]
        for t in StepTiming.objects.filter(participant=participant).order_by("started_at", "pk")
    ]
    sections = [
        TrailSection(
            "Language",
            ["chosen on entry", 'Prolific\'s "Language"'],
            [[participant.language, demographics.prolific_language(participant) or "not imported or missing"]],
        ),
        TrailSection(
            "Steps",
            ["step", "entered", "left", "minutes"],
            rows,
            empty="No step timings yet: the participant is still at the consent page.",
        ),
    ]
    invitations = RetestInvitation.objects.filter(participant=participant).select_related("round")
    if invitations:  # shown once the participant was sampled into a retest round
        sections.append(
            TrailSection(
                "Retest rounds",
                ["round", "stratum", "invited", "began"],
                [
                    [
                        str(i.round.number),
                        i.stratum or "(not stratified)",
                        when(i.created_at),
                        when(i.started_at) if i.started_at else "not yet",
                    ]
                    for i in invitations
                ],
            )
        )
    return sections


def register() -> None:
    export_table(
        "participants_steps.csv",
        ["participant", "step", "started_at", "ended_at", "seconds", "skipped", "round"],
        _steps,
    )
    export_table(
        "retest_invitations.csv", ["participant", "round", "stratum", "invited_at", "started_at"], _invitations
    )
    participant_content(_delete, _audit_copies)
    participant_trail(_trail)
