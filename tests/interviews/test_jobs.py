"""A real procrastinate job: deferred into Postgres, run by a worker."""

import pytest
from django.test import Client
from procrastinate.contrib.django.models import ProcrastinateJob

from studies import services
from studies.models import StudyStatistics
from studies.tasks import record_study_statistics
from tests.factories import PROLIFIC, enter, run_jobs_until_idle


@pytest.mark.django_db(transaction=True)
def test_statistics_job_is_deferred_and_run_by_a_worker():
    study, _ = services.seed_case_study()
    enter(Client(), study, **PROLIFIC)
    enter(Client(), study)

    job_id = record_study_statistics.defer(study_id=study.pk)
    assert ProcrastinateJob.objects.get(id=job_id).status == "todo"

    run_jobs_until_idle()

    assert ProcrastinateJob.objects.get(id=job_id).status == "succeeded"
    # The worker also runs the periodic snapshot of open studies; both agree.
    stats = StudyStatistics.objects.filter(study=study).latest("recorded_at")
    assert stats.participants == 2
    assert stats.consented == 0
    assert stats.by_step == {"consent": 2}


@pytest.mark.django_db(transaction=True)
def test_admin_action_queues_the_job(coordinator):
    study, _ = services.seed_case_study()
    client = Client()
    client.post("/accounts/login/", {"login": coordinator.email, "password": "x-coord-pass-1"})
    response = client.post("/admin/studies/study/", {"action": "record_statistics", "_selected_action": [study.pk]})
    assert response.status_code == 302
    # Job tables are not flushed between tests: look for this study's job.
    job = ProcrastinateJob.objects.get(task_name="studies.record_study_statistics", args={"study_id": study.pk})
    assert job.status == "todo"
    run_jobs_until_idle()
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert StudyStatistics.objects.filter(study=study, participants=0).exists()
