"""Prolific IDs are hidden from staff by default: lists mask them, a lookup
by ID is exact and recorded, and a participant's IDs are shown only after a
coordinator gives a reason, which is recorded with their name."""

import io
import zipfile

import pytest
from django.test import Client

from mgeplatform.models import DomainEvent
from studies.models import Participant
from tests.factories import PROLIFIC

PID, SESSION = PROLIFIC["PROLIFIC_PID"], PROLIFIC["SESSION_ID"]


@pytest.fixture
def prolific_participant(study, participant_client):
    return Participant.objects.get(prolific_identity__prolific_pid=PID)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["coordinator", "auditor"])
def test_lists_and_pages_mask_prolific_and_session_ids(role, request, prolific_participant):
    client = _client(request.getfixturevalue(role))
    identity = prolific_participant.prolific_identity
    for url in (
        "/admin/studies/prolificidentity/",
        f"/admin/studies/prolificidentity/{identity.pk}/change/",
        "/admin/studies/participant/",
        f"/admin/studies/participant/{prolific_participant.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert PID not in page.content.decode() and SESSION not in page.content.decode(), url
    assert "hidden" in client.get("/admin/studies/prolificidentity/").content.decode()


def test_auditor_cannot_search_by_prolific_id(auditor, prolific_participant):
    page = _client(auditor).get("/admin/studies/prolificidentity/", {"q": PID})
    assert "0 results" in page.content.decode() and str(prolific_participant.pk) not in page.content.decode()
    assert not DomainEvent.objects.filter(kind="prolific.identity_looked_up").exists()


def test_coordinator_finds_a_participant_by_exact_prolific_id_and_the_lookup_is_recorded(
    coordinator, prolific_participant
):
    client = _client(coordinator)
    found = client.get("/admin/studies/prolificidentity/", {"q": PID}).content.decode()
    assert "1 prolific identity" in found and str(prolific_participant.pk) in found
    assert '<td class="field-prolific_id">hidden</td>' in found
    prefix = client.get("/admin/studies/prolificidentity/", {"q": PID[:6]}).content.decode()
    assert "0 results" in prefix
    events = DomainEvent.objects.filter(kind="prolific.identity_looked_up").order_by("created_at")
    assert [e.payload["participants"] for e in events] == [[str(prolific_participant.pk)], []]
    assert all(e.actor_user == coordinator for e in events)
    assert all(PID not in str(e.payload) for e in events)


def test_coordinator_reveals_a_participants_prolific_id_with_a_reason_that_is_recorded(
    coordinator, prolific_participant
):
    client = _client(coordinator)
    change = client.get(f"/admin/studies/participant/{prolific_participant.pk}/change/").content.decode()
    assert "Reveal Prolific ID" in change
    url = f"/admin/studies/participant/{prolific_participant.pk}/prolific-id/"
    form = client.get(url)
    assert form.status_code == 200 and PID not in form.content.decode()
    refused = client.post(url, {"reason": "why not"})
    assert refused.status_code == 400 and PID not in refused.content.decode()
    assert not DomainEvent.objects.filter(kind="prolific.identity_revealed").exists()

    shown = client.post(url, {"reason": "Answering the participant's message on Prolific about a bonus"})
    assert shown.status_code == 200
    assert PID in shown.content.decode() and SESSION in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]  # not kept in the browser's cache
    event = DomainEvent.objects.get(kind="prolific.identity_revealed")
    assert event.actor_user == coordinator
    assert event.subject_id == str(prolific_participant.pk)
    assert event.payload == {"reason": "Answering the participant's message on Prolific about a bonus"}


def test_auditor_cannot_reveal_prolific_ids(auditor, prolific_participant):
    client = _client(auditor)
    change = client.get(f"/admin/studies/participant/{prolific_participant.pk}/change/").content.decode()
    assert "Reveal Prolific ID" not in change
    url = f"/admin/studies/participant/{prolific_participant.pk}/prolific-id/"
    assert client.get(url).status_code == 403
    response = client.post(url, {"reason": "I would like to see who this is, please"})
    assert response.status_code == 403 and PID not in response.content.decode()
    assert not DomainEvent.objects.filter(kind="prolific.identity_revealed").exists()


def test_auditor_cannot_export_identities_but_coordinator_can_with_a_reason(
    study, auditor, coordinator, prolific_participant
):
    url = f"/admin/studies/study/{study.pk}/export/"
    auditor_client = _client(auditor)
    assert "Also export Prolific IDs" not in auditor_client.get(url).content.decode()
    refused = auditor_client.post(url, {"identities": "on", "reason": "Checking the export for the ethics board"})
    assert refused.status_code == 400 and "may not export Prolific identities" in refused.content.decode()
    assert not DomainEvent.objects.filter(kind="study.exported").exists()

    download = _client(coordinator).post(
        url, {"identities": "on", "simulated": "on", "reason": "Paying bonuses on Prolific"}
    )
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert PID in archive.read("prolific_identities.csv").decode()
    event = DomainEvent.objects.get(kind="study.exported")
    assert event.actor_user == coordinator and event.payload["reason"] == "Paying bonuses on Prolific"
