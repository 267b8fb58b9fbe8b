from procrastinate.contrib.django import app

from studies.models import Study
from values import services


@app.task(name="values.batch_deduplicate", queue="default")
def batch_deduplicate(study_id: int) -> dict:
    return services.run_batch_dedup(Study.objects.get(pk=study_id)).counts


@app.periodic(cron="*/10 * * * *")
@app.task(name="values.batch_deduplicate_open_studies", queue="default", queueing_lock="batch_dedup_open")
def batch_deduplicate_open_studies(timestamp: int) -> int:
    """Every ten minutes, cards that found no match in the chat are grouped."""
    studies = Study.objects.filter(status__in=Study.RUNNING)
    for study in studies:
        services.run_batch_dedup(study)
    return studies.count()
