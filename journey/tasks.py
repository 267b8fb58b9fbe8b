from procrastinate.contrib.django import app

from graph import stories
from mgeplatform import jobs
from mgeplatform.asyncdb import db_async
from values import services as values_services


@app.periodic(cron="* * * * *")
@app.task(name=jobs.RECOVERY_TASK, queue="default", queueing_lock="recover_stalled_work")
async def recover_stalled_work(timestamp: int | None = None) -> dict:
    """Work cut off by a dying worker or a database restart carries on with
    nobody stepping in: its jobs go back in the queue, and the story and
    deduplication runs it left marked running are marked failed with the
    reason. Every minute, and shortly after `run_worker` starts a worker."""
    retried = await jobs.retry_stalled_jobs()
    return {
        "jobs_retried": retried,
        "story_runs_failed": await db_async(stories.fail_orphaned_runs)(),
        "dedup_runs_failed": await db_async(values_services.fail_orphaned_runs)(),
    }
