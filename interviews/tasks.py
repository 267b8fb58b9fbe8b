from procrastinate.contrib.django import app

from interviews import services
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
