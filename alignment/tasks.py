"""Background jobs of the alignment app."""

from procrastinate.contrib.django import app

from alignment import training
from alignment.models import TrainingRun


@app.task(name="alignment.export_training_data", queue="default")
def export_training_data(run_id: int, out_dir: str | None = None, limit: int | None = None) -> dict:
    """Do what is left of a training run (created with training.start_run)
    and write its files to `out_dir` (none: the admin builds them from the
    run's rows when they are downloaded); deferring it again resumes the run."""
    run = TrainingRun.objects.select_related("study", "snapshot").get(pk=run_id)
    progress = training.process(run, limit=limit)
    if out_dir:
        training.write_files(run, out_dir)
    run.refresh_from_db()
    return {"run": run.pk, "status": run.status, "processed": progress.processed, **run.counts}
