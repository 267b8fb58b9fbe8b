import pytest
from django.test import Client

from interviews import services
from interviews.models import Study
from mgeplatform import services as platform_services

PROLIFIC = {"PROLIFIC_PID": "5f1a2b3c4d5e6f7a8b9c0d1e", "STUDY_ID": "64aa00bb11cc22dd33ee44ff", "SESSION_ID": "sess0001"}


@pytest.fixture
def study(db) -> Study:
    study, _ = services.seed_case_study()
    return study


@pytest.fixture
def prolific_params():
    return dict(PROLIFIC)


def enter(client: Client, study: Study, **params):
    """Open the study link the way a participant's browser does."""
    return client.get(f"/s/{study.slug}/", params)


@pytest.fixture
def participant_client(study, prolific_params):
    client = Client()
    response = enter(client, study, **prolific_params)
    assert response.status_code == 302
    return client


@pytest.fixture
def coordinator(db):
    return platform_services.upsert_staff_user(email="coord@example.org", role="coordinator", password="x-coord-pass-1")


@pytest.fixture
def auditor(db):
    return platform_services.upsert_staff_user(email="audit@example.org", role="auditor", password="x-audit-pass-1")


def run_jobs_until_idle(queues=("default",)):
    """Run a real procrastinate worker (as `manage.py procrastinate worker`
    does) until the queues are empty."""
    from procrastinate.contrib.django import app

    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        worker_app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, queues=list(queues))
