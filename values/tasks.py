from procrastinate.contrib.django import app

from studies.models import Study
from values import services, translation

TRANSLATION_ATTEMPTS = 3


@app.task(name="values.batch_deduplicate", queue="default")
def batch_deduplicate(study_id: int) -> dict:
    study = Study.objects.get(pk=study_id)
    counts = services.run_batch_dedup(study).counts
    return {**counts, "renderings": translation.render_missing_values(study)}


@app.periodic(cron="*/10 * * * *")
@app.task(name="values.batch_deduplicate_open_studies", queue="default", queueing_lock="batch_dedup_open")
def batch_deduplicate_open_studies(timestamp: int) -> int:
    """Every ten minutes, cards that found no match in the chat are grouped."""
    studies = Study.objects.filter(status__in=Study.RUNNING)
    for study in studies:
        services.run_batch_dedup(study)
        translation.render_missing_values(study)  # the values in each of the study's languages
    return studies.count()


@app.task(name=translation.TASK, queue="default", retry=TRANSLATION_ATTEMPTS - 1)
def translate_card(card_id: int) -> str:
    """A submitted card written in another language, in the study's pivot language (queued after the
    submission commits; a failure is recorded on the card and retried, then left to the next
    deduplication run)."""
    return translation.translate_card(card_id).translation
