"""Work cut off by a dying worker: its jobs run again and the runs it left
"running" are marked failed with the reason (the real-process version,
killing a worker mid-job, is in tests/faults/)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from graph import stories
from graph.models import StoryRun
from mgeplatform import locks
from studies import services as journey
from studies.models import StudyStatistics
from studies.tasks import record_study_statistics
from tests.factories import run_jobs_until_idle
from values import services as value_services
from values.models import DeduplicationRun


def _cut_off(model, study, minutes_ago=2):
    run = model.objects.create(study=study)
    model.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(minutes=minutes_ago))
    return run


@pytest.mark.django_db(transaction=True)  # the lock is looked up from another connection
def test_a_run_nobody_runs_is_marked_failed_with_the_reason():
    study, _ = journey.seed_case_study()
    orphan = _cut_off(StoryRun, study)
    fresh = StoryRun.objects.create(study=study)  # may not have taken its lock yet
    dedup = _cut_off(DeduplicationRun, study)

    assert stories.fail_orphaned_runs() == 1
    assert value_services.fail_orphaned_runs() == 1

    orphan.refresh_from_db()
    assert orphan.status == "failed" and "process running it ended" in orphan.error
    assert orphan.finished_at is not None
    assert StoryRun.objects.get(pk=fresh.pk).status == "running"
    assert DeduplicationRun.objects.get(pk=dedup.pk).status == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_process_holds_the_lock_is_left_alone():
    study, _ = journey.seed_case_study()
    live = _cut_off(StoryRun, study)
    with locks.try_advisory_lock(stories.STORY_LOCK_NAMESPACE, study.pk) as acquired:
        assert acquired
        assert stories.fail_orphaned_runs() == 0
    assert StoryRun.objects.get(pk=live.pk).status == "running"


@pytest.mark.django_db(transaction=True)
def test_the_next_run_of_a_study_closes_the_one_cut_off(graph_study):
    study, _ = graph_study
    orphan = _cut_off(StoryRun, study, minutes_ago=0)
    run = stories.generate_stories(study, max_stories=1)
    assert run.status == "finished"
    orphan.refresh_from_db()
    assert orphan.status == "failed" and "runs again" in orphan.error

    dedup = _cut_off(DeduplicationRun, study, minutes_ago=0)
    assert value_services.run_batch_dedup(study).status == "finished"
    assert DeduplicationRun.objects.get(pk=dedup.pk).status == "failed"


@pytest.mark.django_db(transaction=True)  # the worker reads on its own connection
def test_a_job_whose_worker_died_runs_again():
    from journey.tasks import recover_stalled_work

    study, _ = journey.seed_case_study()
    job_id = record_study_statistics.defer(study_id=study.pk)
    # A worker took the job and died: its heartbeat stopped an hour ago.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        )
        worker_id = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s", [worker_id, job_id]
        )

    recover_stalled_work.defer()
    run_jobs_until_idle()

    assert ProcrastinateJob.objects.get(id=job_id).status == "succeeded"
    assert StudyStatistics.objects.filter(study=study).exists()
