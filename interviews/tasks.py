from procrastinate.contrib.django import app

from interviews import ratings, services
from interviews.models import Study


@app.task(name="interviews.record_study_statistics", queue="default")
def record_study_statistics(study_id: int) -> int:
    """Snapshot a study's participant counts (admin action or periodic)."""
    study = Study.objects.get(pk=study_id)
    return services.record_study_statistics(study).pk


@app.periodic(cron="*/15 * * * *")
@app.task(name="interviews.record_open_study_statistics", queue="default")
def record_open_study_statistics(timestamp: int) -> int:
    studies = Study.objects.filter(status=Study.Status.OPEN)
    for study in studies:
        services.record_study_statistics(study)
    return studies.count()


@app.task(name="interviews.rate_transcripts", queue="default")
def rate_transcripts(study_id: int, include_simulated: bool = False) -> dict:
    """Ideology and expert ratings for the report (admin action)."""
    return ratings.rate_study(Study.objects.get(pk=study_id), include_simulated=include_simulated)
