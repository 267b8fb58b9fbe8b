import time
from typing import Any

from django.contrib.auth import get_user_model
from procrastinate.contrib.django import app

from graph import selectors, services, stories
from graph.models import GraphSnapshot
from studies.models import Study


@app.task(name="graph.generate_stories", queue="default")
def generate_stories(study_id: int, reverse: bool = False) -> dict:
    return stories.generate_stories(Study.objects.get(pk=study_id), reverse=reverse).counts


@app.task(name="graph.write_stories_for_waiting", queue="default")
def write_stories_for_waiting(study_id: int) -> dict:
    """Participants are waiting at the stories step: write the missing
    stories, then give them theirs or move them on. Whatever happens to the
    run, nobody is left waiting (the page's own time limit is the backstop)."""
    study = Study.objects.get(pk=study_id)
    try:
        run = stories.generate_stories(study)
        for _ in range(12):  # another run holds the study's story lock: wait for it rather than skip people
            if run.status != run.Status.FAILED or "in progress" not in run.error:
                break
            time.sleep(5)
            run = stories.generate_stories(study)
    except Exception:
        services.serve_waiting(study, failed=True)
        raise
    return {"run": run.pk, **services.serve_waiting(study, failed=run.status == run.Status.FAILED)}


@app.task(name="graph.build_snapshot", queue="default")
def build_snapshot(
    study_id: int,
    user_id: int | None = None,
    include_simulated: bool = False,
    exclude_flagged: bool = False,
    weighting_run_id: int | None = None,
) -> int:
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    study = Study.objects.get(pk=study_id)
    options: dict[str, Any] = {"weighting": weighting_run_id} if weighting_run_id is not None else {}
    if exclude_flagged:
        return services.build_without_flagged(study, include_simulated=include_simulated, user=user, **options)[1].pk
    return services.build_snapshot(study, include_simulated=include_simulated, user=user, **options).pk


@app.task(name="graph.rebuild_without_withdrawn", queue="default")
def rebuild_without_withdrawn(snapshot_id: int, user_id: int | None = None) -> int | None:
    """Build a snapshot again without the participants who withdrew after
    it; None when nobody it used has (a second click after the first ran)."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    snapshot = GraphSnapshot.objects.select_related("study").get(pk=snapshot_id)
    if not selectors.withdrawn_contributors(snapshot):
        return None
    return services.rebuild_without_withdrawn(snapshot, user=user).pk


@app.periodic(cron="*/15 * * * *")
@app.task(name="graph.generate_stories_open_studies", queue="default", queueing_lock="stories_open")
def generate_stories_open_studies(timestamp: int) -> int:
    """Stories are written continuously in the background (paper 4.4) as new
    values appear; a run only writes directions that have no story yet."""

    studies = Study.objects.filter(status__in=Study.RUNNING)
    for study in studies:
        stories.generate_stories(study)
    return studies.count()
