"""The job queue's admin actions: only coordinators may retry, cancel or
abort jobs, and each use is recorded with who did it."""

from django.test import Client
from procrastinate.contrib.django.models import ProcrastinateJob

from mgeplatform.models import DomainEvent
from studies.tasks import record_study_statistics

JOBS = "/admin/procrastinate/procrastinatejob/"


def _login(user, password):
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": password}).status_code == 302
    return client


def _act(client, action, job_id):
    return client.post(JOBS, {"action": action, "_selected_action": [job_id]}, follow=True)


def test_auditor_sees_the_queue_but_cannot_cancel_abort_or_retry(study, auditor):
    job_id = record_study_statistics.defer(study_id=study.pk)
    client = _login(auditor, "x-audit-pass-1")
    page = client.get(JOBS)
    assert page.status_code == 200
    assert "Cancel job" not in page.content.decode()
    for action in ("cancel", "abort", "retry"):
        assert _act(client, action, job_id).status_code == 200  # the list again, nothing done
    assert ProcrastinateJob.objects.get(pk=job_id).status == "todo"
    assert not DomainEvent.objects.filter(kind__startswith="jobs.").exists()


def test_coordinator_cancels_a_job_and_is_recorded_as_the_actor(study, coordinator):
    job_id = record_study_statistics.defer(study_id=study.pk)
    client = _login(coordinator, "x-coord-pass-1")
    assert "Cancel job" in client.get(JOBS).content.decode()
    response = _act(client, "cancel", job_id)
    assert "Cancelled 1 job(s)." in response.content.decode()
    assert ProcrastinateJob.objects.get(pk=job_id).status == "cancelled"
    event = DomainEvent.objects.get(kind="jobs.cancelled")
    assert event.actor_user == coordinator
    assert event.payload["jobs"] == [{"id": job_id, "task": "studies.record_study_statistics", "status_before": "todo"}]


def test_coordinator_aborts_and_retries_jobs_with_the_actor_recorded(study, coordinator):
    waiting = record_study_statistics.defer(study_id=study.pk)
    failed = record_study_statistics.defer(study_id=study.pk)
    ProcrastinateJob.objects.filter(pk=failed).update(status="failed")  # as a worker leaves it
    client = _login(coordinator, "x-coord-pass-1")
    _act(client, "abort", waiting)
    _act(client, "retry", failed)
    assert ProcrastinateJob.objects.get(pk=waiting).status in ("aborted", "cancelled")
    assert ProcrastinateJob.objects.get(pk=failed).status == "todo"
    assert DomainEvent.objects.get(kind="jobs.aborted").actor_user == coordinator
    assert DomainEvent.objects.get(kind="jobs.retried").actor_user == coordinator


def test_an_action_on_a_job_in_another_state_changes_and_records_nothing(study, coordinator):
    job_id = record_study_statistics.defer(study_id=study.pk)
    client = _login(coordinator, "x-coord-pass-1")
    response = _act(client, "retry", job_id)  # waiting, not failed
    assert "Retried 0 job(s); 1 were in another state." in response.content.decode()
    assert not DomainEvent.objects.filter(kind="jobs.retried").exists()
