"""Reads for the live study console: where participants are now, how long
each step takes, where people stop, who looks stuck, what the models have
cost and which background jobs failed. Counts are of real participants
(pilot included); staff previews and simulated participants are counted on
their own and never mixed in."""

from __future__ import annotations

from datetime import timedelta
from statistics import median, quantiles
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from graph import selectors as graph_selectors
from mgeplatform.llm import gateway, pricing
from mgeplatform.models import LLMCall
from studies import selectors as study_selectors
from studies import services as study_services
from studies import steps
from studies.models import Participant, Step, StepTiming, Study
from studies.steps import ENDED, JOURNEY
from weights import selectors as weight_selectors
from weights import targets

# Prolific replaces these with the participant's ids when it sends them to the study.
PROLIFIC_PLACEHOLDERS = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
BUDGET_WARNING_SHARE = 0.8  # warn from 80 % of the budget on


def participant_link(request, study: Study) -> str:
    """The study link with Prolific's placeholders, ready to paste into Prolific."""
    return f"{request.build_absolute_uri(reverse('journey:entry', args=[study.slug]))}?{PROLIFIC_PLACEHOLDERS}"


def _origin(scheme: str, netloc: str) -> tuple[str, str, int]:
    parts = urlsplit(f"{scheme}://{netloc}")
    host = (parts.hostname or "").lower()
    host = "localhost" if host in ("127.0.0.1", "::1") else host  # one machine, whichever name it is opened by
    return scheme, host, parts.port or (443 if scheme == "https" else 80)


def site_url_warning(request) -> str:
    """ "" when SITE_URL is the address this console was opened at; else what
    goes wrong: the follow-up links the platform sends are built on SITE_URL."""
    site = urlsplit((settings.SITE_URL or "").strip())
    if site.scheme and site.netloc and _origin(site.scheme, site.netloc) == _origin(request.scheme, request.get_host()):
        return ""
    here = f"{request.scheme}://{request.get_host()}"
    return (
        f"SITE_URL is {settings.SITE_URL or '(unset)'}, but this console is at {here}: follow-up links sent to "
        f"participants would point to {settings.SITE_URL or 'nowhere'}, not to this site. Set SITE_URL to the "
        "site's public address and restart the platform."
    )


def preview_link(request, study: Study) -> dict:
    """A link that lets whoever has it preview the study (as a participant,
    never counted) for PREVIEW_LINK_HOURS, with the hours it lasts."""
    base = request.build_absolute_uri(reverse("journey:entry", args=[study.slug]))
    return {"url": f"{base}?preview={study_services.preview_token(study)}", "hours": settings.PREVIEW_LINK_HOURS}


def preview_url(study: Study) -> str | None:
    try:
        return reverse("journey:preview", args=[study.slug])
    except NoReverseMatch:  # the preview page is not installed
        return None


def study_console(study: Study, now=None) -> dict:
    now = now or timezone.now()
    everyone = Participant.objects.filter(study=study)
    real = everyone.real()
    return {
        "now": now,
        "status": study.get_status_display(),
        "taking_part": study.is_open,
        "totals": _totals(everyone, real),
        "steps": _steps(real),
        "stuck": _stuck(study, real, now),
        "llm": _llm(study),
        "failed_jobs": _failed_jobs(study),
        "interviewer": _interviewer(study),
        "readiness": launch_readiness(study),
        "representativeness": representativeness(study),
    }


def representativeness(study: Study) -> dict:
    """The sample against the target of the study's latest weighting run
    (weights.selectors.representativeness; None when there is no run), and
    how to set a target: the shipped ones and the command."""
    shipped = targets.shipped_names()
    return {
        "figures": weight_selectors.representativeness(study),
        "shipped": shipped,
        "command": f"python manage.py weight_study --study {study.slug} --target {(shipped or ['FILE'])[0]}",
    }


def launch_readiness(study: Study) -> dict:
    """Before launch: does every question have values to mark and stories to
    judge (graph.selectors.launch_readiness), and how story writing stands."""
    return graph_selectors.launch_readiness(study)


def _totals(everyone, real) -> dict:
    counts = real.aggregate(
        participants=Count("id"),
        completed=Count("id", filter=Q(current_step=Step.COMPLETE)),
        pilot=Count("id", filter=Q(cohort="pilot")),
        still_in=Count("id", filter=~Q(current_step__in=ENDED)),
    )
    others = everyone.aggregate(
        previews=Count("id", filter=Q(cohort="preview")),
        simulated=Count("id", filter=Q(simulated=True) & ~Q(cohort="preview")),
    )
    return {**counts, **others}


def _percentile_90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=10, method="inclusive")[-1]


def _steps(real) -> list[dict]:
    """Per journey step: how many are there now, reached it, did it, skipped
    it (moved past it with nothing to do there, or after waiting too long),
    stopped there (declined, withdrew or were screened out), and how long
    it took those who did it."""
    here = dict(real.values_list("current_step").annotate(n=Count("id")).order_by())
    position: dict[str, int] = {step: i for i, step in enumerate(JOURNEY)}
    reached: dict[str, set] = {step: set() for step in JOURNEY}
    furthest: dict = {}
    durations: dict[str, list[float]] = {step: [] for step in JOURNEY}
    skipped_by = study_selectors.skipped_steps(real)
    for pid, step, started, ended in StepTiming.objects.filter(participant__in=real).values_list(
        "participant_id", "step", "started_at", "ended_at"
    ):
        if step not in position:
            continue  # declined, withdrawn, screened out: where they went, not a step they took
        reached[step].add(pid)
        furthest[pid] = max(furthest.get(pid, 0), position[step])
        if ended is not None and step not in skipped_by.get(pid, ()):  # a skip takes no time worth counting
            durations[step].append((ended - started).total_seconds())
    # Everyone begins at consent; the step is timed only once they leave it.
    for pid, step in real.values_list("id", "current_step"):
        reached[Step.CONSENT].add(pid)
        if step in position:
            reached[step].add(pid)
            furthest[pid] = max(furthest.get(pid, 0), position[step])
    rows = []
    for i, step in enumerate(JOURNEY):
        moved_on = {pid for pid in reached[step] if furthest.get(pid, 0) > i}
        skipped = sum(1 for pid in moved_on if step in skipped_by.get(pid, ()))
        now_here = here.get(step, 0) if step != Step.COMPLETE else 0
        seconds = durations[step]
        rows.append(
            {
                "step": step,
                "label": steps.label(step),
                "final": step == Step.COMPLETE,
                "now": here.get(step, 0),
                "reached": len(reached[step]),
                "moved_on": len(moved_on),
                "did": len(moved_on) - skipped,
                "skipped": skipped,
                "stopped": len(reached[step]) - len(moved_on) - now_here if step != Step.COMPLETE else 0,
                "median_minutes": median(seconds) / 60 if seconds and step != Step.COMPLETE else None,
                "p90_minutes": _percentile_90(seconds) / 60 if seconds and step != Step.COMPLETE else None,
            }
        )
    return rows


def _stuck(study: Study, real, now) -> list[dict]:
    """Participants still taking part who have been at one step longer than
    the study's threshold (since they entered it; consent: since they arrived)."""
    limit = now - timedelta(minutes=study.stuck_after_minutes)
    taking_part = real.exclude(current_step__in=ENDED)
    since = dict(
        StepTiming.objects.filter(participant__in=taking_part, ended_at__isnull=True).values_list(
            "participant_id", "started_at"
        )
    )
    stuck = []
    for participant in taking_part.filter(created_at__lt=limit).only("id", "current_step", "created_at", "cohort"):
        entered = since.get(participant.pk, participant.created_at)
        if entered < limit:
            stuck.append(
                {
                    "participant": participant,
                    "step": participant.get_current_step_display(),
                    "minutes": int((now - entered).total_seconds() // 60),
                    "url": reverse("admin:studies_participant_change", args=[participant.pk]),
                }
            )
    return sorted(stuck, key=lambda row: -row["minutes"])


def _llm(study: Study) -> dict:
    calls = LLMCall.objects.filter(study_id=study.pk)
    totals = calls.aggregate(
        calls=Count("id"),
        failed=Count("id", filter=Q(ok=False)),
        cost=Sum("estimated_cost_usd"),
        input=Sum("input_tokens"),
        cached=Sum("cached_input_tokens"),
        cache_writes=Sum("cache_write_input_tokens"),
    )
    cost = totals["cost"] or 0
    budget = study.budget_usd
    share = float(cost / budget) if budget else None
    return {
        "calls": totals["calls"],
        "failed": totals["failed"],
        "cost": cost,
        "budget": budget,
        "percent": round(100 * share) if share is not None else None,
        "spent": budget is not None and cost >= budget,
        "near": share is not None and BUDGET_WARNING_SHARE <= share < 1,
        "recent_errors": list(
            calls.filter(ok=False).order_by("-created_at").values("id", "created_at", "purpose", "error")[:5]
        ),
        # Models the price table does not know are counted at the fallback price: say so.
        "unpriced_models": sorted(
            m for m in calls.values_list("model", flat=True).distinct() if not pricing.is_priced(m)
        ),
        "fallback_price": pricing.FALLBACK_PRICE,
        # Prompt caching as measured: input tokens read from the provider's cache, and written to it.
        "input_tokens": totals["input"] or 0,
        "cached_tokens": totals["cached"] or 0,
        "cache_write_tokens": totals["cache_writes"] or 0,
        "cached_percent": round(100 * (totals["cached"] or 0) / totals["input"]) if totals["input"] else None,
        "calls_url": f"{reverse('admin:mgeplatform_llmcall_changelist')}?study_id={study.pk}",
        "errors_url": f"{reverse('admin:mgeplatform_llmcall_changelist')}?study_id={study.pk}&ok__exact=0",
    }


def _failed_jobs(study: Study) -> dict:
    """The study's background jobs that failed (stories, graph builds, statistics...)."""
    jobs = ProcrastinateJob.objects.filter(status="failed", args__study_id=study.pk)
    try:
        url = reverse("admin:procrastinate_procrastinatejob_changelist") + "?status__exact=failed"
    except NoReverseMatch:
        url = None
    return {"count": jobs.count(), "recent": list(jobs.order_by("-id").values("id", "task_name")[:5]), "url": url}


def _interviewer(study: Study) -> dict:
    route = gateway.resolve(study)
    return {
        "offline": route.offline,
        "label": "the scripted (offline) interviewer" if route.offline else f"{route.provider} {route.model}",
        "why": route.fallback_reason,
    }
