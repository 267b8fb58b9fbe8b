"""The base layer's share of the study export: when each step began and ended; and of the
participant trail: the steps, and the language chosen beside Prolific's answer."""

from django.utils import timezone

from studies import demographics, steps
from studies.contributions import TrailSection, export_table, iso, participant_trail
from studies.models import StepTiming
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
        )
        for t in StepTiming.objects.filter(participant__in=pids).order_by("participant", "started_at")
    )


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
    languages = TrailSection(
        "Language",
        ["chosen on entry", 'Prolific\'s "Language"'],
        [[participant.language, demographics.prolific_language(participant) or "not imported or missing"]],
    )
    return [
        languages,
        TrailSection(
            "Steps",
            ["step", "entered", "left", "minutes"],
            rows,
            empty="No step timings yet: the participant is still at the consent page.",
        ),
    ]


def register() -> None:
    export_table(
        "participants_steps.csv", ["participant", "step", "started_at", "ended_at", "seconds", "skipped"], _steps
    )
    participant_trail(_trail)
