from procrastinate.contrib.django import app

from studies import services
from studies.models import Study


# The aliases keep jobs queued before the base layer was split off runnable.
@app.task(name="studies.record_study_statistics", aliases=["interviews.record_study_statistics"], queue="default")
def record_study_statistics(study_id: int) -> int:
    """Snapshot a study's participant counts (admin action or periodic)."""
    study = Study.objects.get(pk=study_id)
    return services.record_study_statistics(study).pk


@app.periodic(cron="*/15 * * * *")
@app.task(
    name="studies.record_open_study_statistics", aliases=["interviews.record_open_study_statistics"], queue="default"
)
def record_open_study_statistics(timestamp: int) -> int:
    studies = Study.objects.filter(status__in=Study.RUNNING)
    for study in studies:
        services.record_study_statistics(study)
    return studies.count()


@app.task(name="studies.check_study_model", queue="default")
def check_study_model(study_id: int) -> list[str]:
    """The capability check of a study's model, queued when it is saved."""
    report = services.check_study_model(Study.objects.get(pk=study_id))
    return report.problems() if report else []
