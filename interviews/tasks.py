from procrastinate.contrib.django import app

from interviews import ratings
from studies.models import Study


@app.task(name="interviews.rate_transcripts", queue="default")
def rate_transcripts(study_id: int, include_simulated: bool = False) -> dict:
    """Ideology and expert ratings for the report (admin action)."""
    return ratings.rate_study(Study.objects.get(pk=study_id), include_simulated=include_simulated)
