import pytest
from django.test import Client

from mgeplatform import services as platform_services
from studies import services
from studies.models import Study

PROLIFIC = {"PROLIFIC_PID": "5f1a2b3c4d5e6f7a8b9c0d1e", "STUDY_ID": "64aa00bb11cc22dd33ee44ff",
            "SESSION_ID": "sess0001"}


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


INTERVIEW_ANSWERS = [
    "Abortion is wrong, you should never do it.",
    "I care that people think about everyone affected, not only themselves, when they decide.",
    "When I thought I was pregnant in college I was scared and only thought about myself at first.",
    "Looking back I paid attention to how others would feel and to what my faith teaches me.",
]


def consented_participant(study, pid="pid-consented"):
    from studies import services as journey
    from studies.models import Participant

    client = Client()
    enter(client, study, PROLIFIC_PID=pid, STUDY_ID="s", SESSION_ID="t")
    participant = Participant.objects.get(prolific_identity__prolific_pid=pid)
    journey.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    participant.refresh_from_db()
    return participant, client


def run_interview(participant, scenario, answers=INTERVIEW_ANSWERS, submit=True):
    """Drive a whole interview through the services (no websocket)."""
    from asgiref.sync import async_to_sync

    from interviews import services as chat

    interview = chat.choose_scenario(participant=participant, scenario=scenario)
    events = []

    async def emit(event):
        events.append(event)

    for i, answer in enumerate(answers):
        chat.add_user_message(interview_id=interview.pk, text=answer, client_message_id=f"t{i}")
        token = chat.claim_reply(interview.pk)
        async_to_sync(chat.run_reply)(interview.pk, token, emit)
    if submit:
        chat.submit_card(interview_id=interview.pk)
    interview.refresh_from_db()
    return interview, events


def pytest_collection_modifyitems(items):
    """Mark the real-browser tests, so `-m "not slow and not browser"` is the fast tier."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.browser)
