"""Participants arriving from Prolific or the plain join link."""

import threading

import pytest
from django.db import close_old_connections
from django.test import Client

from mgeplatform.models import DomainEvent
from studies.models import Participant, ProlificIdentity, Step, Study
from tests.factories import enter, move_to


def test_new_prolific_participant_lands_on_consent_without_ids_in_url(study, prolific_params):
    client = Client()
    response = enter(client, study, **prolific_params)
    assert response.status_code == 302
    assert response["Location"] == f"/s/{study.slug}/consent/"
    participant = Participant.objects.get()
    assert participant.via_prolific and participant.current_step == Step.CONSENT
    identity = ProlificIdentity.objects.get()
    assert identity.participant == participant
    assert identity.prolific_pid == prolific_params["PROLIFIC_PID"]
    # The consent page shows the study's consent text.
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "I agree and want to take part" in page.content.decode()
    assert study.consent_documents.get().text.splitlines()[0] in page.content.decode()


def test_research_tables_never_hold_the_prolific_id(study, prolific_params):
    enter(Client(), study, **prolific_params)
    pid = prolific_params["PROLIFIC_PID"]
    event = DomainEvent.objects.get(kind="participant.joined")
    assert pid not in str(event.payload)
    assert not any(pid in str(value) for value in Participant.objects.values().get().values())


def test_same_pid_and_session_resumes_same_participant_from_another_browser(study, prolific_params):
    enter(Client(), study, **prolific_params)
    second = Client()
    response = enter(second, study, **prolific_params)
    assert response.status_code == 302 and response["Location"] == f"/s/{study.slug}/consent/"
    assert Participant.objects.count() == 1
    assert second.get(response["Location"]).status_code == 200


def test_same_pid_with_another_session_id_is_asked_for_the_resume_code(study, prolific_params):
    enter(Client(), study, **prolific_params)
    second = Client()
    response = enter(second, study, **{**prolific_params, "SESSION_ID": "sess0002"})
    assert response.status_code == 302 and response["Location"] == f"/s/{study.slug}/resume/"
    assert Participant.objects.count() == 1
    assert ProlificIdentity.objects.get().prolific_session_id == prolific_params["SESSION_ID"]
    assert second.get(f"/s/{study.slug}/consent/").status_code == 403


def test_resume_goes_to_the_current_step(study, prolific_params):
    client = Client()
    enter(client, study, **prolific_params)
    move_to(Participant.objects.get(), Step.INTERVIEW)
    response = enter(client, study, **prolific_params)
    assert response["Location"] == f"/s/{study.slug}/journey/"


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_visits_create_one_participant(prolific_params):
    from studies import services

    services.seed_case_study()
    study = Study.objects.get()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def visit():
        try:
            barrier.wait(timeout=10)
            results.append(enter(Client(), study, **prolific_params).status_code)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=visit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert results == [302, 302, 302, 302]
    assert Participant.objects.count() == 1
    assert ProlificIdentity.objects.count() == 1


def test_plain_join_link_creates_participant_once_per_browser(study):
    client = Client()
    assert enter(client, study).status_code == 302
    assert enter(client, study).status_code == 302
    assert Participant.objects.count() == 1
    assert not Participant.objects.get().via_prolific
    enter(Client(), study)
    assert Participant.objects.count() == 2


@pytest.mark.parametrize(
    "params, message",
    [
        ({"PROLIFIC_PID": "abc", "STUDY_ID": "s1"}, "missing SESSION_ID"),
        ({"PROLIFIC_PID": "", "STUDY_ID": "s1", "SESSION_ID": "x"}, "PROLIFIC_PID in the link is empty"),
        ({"PROLIFIC_PID": "   ", "STUDY_ID": "s1", "SESSION_ID": "x"}, "PROLIFIC_PID in the link is empty"),
        ({"PROLIFIC_PID": "a" * 65, "STUDY_ID": "s1", "SESSION_ID": "x"}, "too long"),
        ({"PROLIFIC_PID": "<script>", "STUDY_ID": "s1", "SESSION_ID": "x"}, "not allowed"),
        ({"SESSION_ID": "x"}, "missing PROLIFIC_PID"),
    ],
)
def test_bad_prolific_parameters_get_a_clear_400(study, params, message):
    response = enter(Client(), study, **params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Participant.objects.count() == 0


def test_unknown_and_draft_studies_are_404(study):
    assert Client().get("/s/no-such-study/").status_code == 404
    study.status = Study.Status.DRAFT
    study.save()
    response = enter(Client(), study)
    assert response.status_code == 404
    assert "could not find this study" in response.content.decode()


def test_closed_study_refuses_newcomers_but_lets_started_participants_continue(study, prolific_params):
    started = Client()
    enter(started, study, **prolific_params)
    study.status = Study.Status.CLOSED
    study.save()
    newcomer = enter(Client(), study, PROLIFIC_PID="otherpid", STUDY_ID="s", SESSION_ID="t")
    assert newcomer.status_code == 410
    assert "closed" in newcomer.content.decode()
    assert enter(Client(), study).status_code == 410
    assert enter(started, study, **prolific_params).status_code == 302
    assert Participant.objects.count() == 1


def test_study_requiring_prolific_refuses_plain_link(study):
    study.require_prolific = True
    study.save()
    response = enter(Client(), study)
    assert response.status_code == 400
    assert "Prolific" in response.content.decode()


def test_pages_are_bound_to_the_browser_session(study, prolific_params):
    alice = Client()
    enter(alice, study, **prolific_params)
    alice_id = Participant.objects.get().pk
    # A stranger opening Alice's step pages has no participant: nothing is shown.
    stranger = Client()
    for url in (f"/s/{study.slug}/consent/", f"/s/{study.slug}/journey/"):
        response = stranger.get(url)
        assert response.status_code == 403
        assert str(alice_id) not in response.content.decode()
    # Pages take no participant id from the URL, so none can be forged.
    assert stranger.get(f"/s/{study.slug}/journey/?participant={alice_id}").status_code == 403
