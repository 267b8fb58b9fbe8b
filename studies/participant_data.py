"""The base layer's share of the study export: when each step began and ended."""

from studies.contributions import export_table, iso
from studies.models import StepTiming


def _steps(study, pids):
    return ((t.participant_id, t.step, iso(t.started_at), iso(t.ended_at), t.seconds)
            for t in StepTiming.objects.filter(participant__in=pids).order_by("participant", "started_at"))


def register() -> None:
    export_table("participants_steps.csv", ["participant", "step", "started_at", "ended_at", "seconds"], _steps)
