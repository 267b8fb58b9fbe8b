"""Consent: accept, decline with Prolific code, double submit, frozen text."""

import pytest
from django.db import ProgrammingError, transaction
from django.test import Client

from mgeplatform.models import DomainEvent
from studies.models import ConsentDocument, ConsentRecord, Participant, Step
from tests.factories import enter


def _consent_form(client, study):
    return client.get(f"/s/{study.slug}/consent/").context["document"]


def test_accept_records_consent_and_moves_to_first_step(study, participant_client):
    doc = _consent_form(participant_client, study)
    response = participant_client.post(
        f"/s/{study.slug}/consent/", {"choice": "accept", "consent_hash": doc.content_hash}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/s/{study.slug}/journey/"
    record = ConsentRecord.objects.get()
    assert record.accepted and record.consent_hash == doc.content_hash
    participant = Participant.objects.get()
    assert participant.current_step == Step.SCENARIO  # three scenarios to choose from
    event = DomainEvent.objects.get(kind="consent.accepted")
    assert event.actor_participant == participant.pk
    assert event.payload["consent_hash"] == doc.content_hash
    page = participant_client.get(response["Location"])
    assert page.status_code == 200
    assert "Choose a scenario" in page.content.decode()


def test_single_scenario_study_skips_the_choice(study, participant_client):
    study.scenarios.exclude(key="parenting").update(active=False)
    doc = _consent_form(participant_client, study)
    participant_client.post(f"/s/{study.slug}/consent/", {"choice": "accept", "consent_hash": doc.content_hash})
    assert Participant.objects.get().current_step == Step.INTERVIEW


def test_decline_redirects_to_prolific_with_no_consent_code(study, participant_client):
    doc = _consent_form(participant_client, study)
    response = participant_client.post(
        f"/s/{study.slug}/consent/", {"choice": "decline", "consent_hash": doc.content_hash}
    )
    assert response.status_code == 302
    assert response["Location"] == "https://app.prolific.com/submissions/complete?cc=MGENOCON"
    assert Participant.objects.get().current_step == Step.DECLINED
    assert not ConsentRecord.objects.get().accepted
    assert DomainEvent.objects.filter(kind="consent.declined").count() == 1
    # Coming back later does not reopen the form.
    again = participant_client.get(f"/s/{study.slug}/journey/")
    assert again["Location"].endswith("cc=MGENOCON")


def test_decline_without_code_shows_thank_you_page(study, participant_client):
    study.completion_code_no_consent = ""
    study.save()
    doc = _consent_form(participant_client, study)
    response = participant_client.post(
        f"/s/{study.slug}/consent/", {"choice": "decline", "consent_hash": doc.content_hash}
    )
    assert response.status_code == 200
    assert "You chose not to take part" in response.content.decode()


def test_double_clicked_accept_writes_one_record(study, participant_client):
    doc = _consent_form(participant_client, study)
    for _ in range(2):
        response = participant_client.post(
            f"/s/{study.slug}/consent/", {"choice": "accept", "consent_hash": doc.content_hash}
        )
        assert response.status_code == 302
    assert ConsentRecord.objects.count() == 1
    assert DomainEvent.objects.filter(kind="consent.accepted").count() == 1


def test_answer_to_an_outdated_consent_version_is_refused(study, participant_client):
    old = _consent_form(participant_client, study)
    old.is_active = False
    old.save()
    ConsentDocument.objects.create(study=study, version_label="v2", text="New wording.")
    response = participant_client.post(
        f"/s/{study.slug}/consent/", {"choice": "accept", "consent_hash": old.content_hash}
    )
    assert response.status_code == 400
    assert "New wording." in response.content.decode()
    assert ConsentRecord.objects.count() == 0


def test_garbled_choice_is_a_clear_400(study, participant_client):
    doc = _consent_form(participant_client, study)
    response = participant_client.post(
        f"/s/{study.slug}/consent/", {"choice": "maybe", "consent_hash": doc.content_hash}
    )
    assert response.status_code == 400
    assert "choose again" in response.content.decode()
    assert Participant.objects.get().current_step == Step.CONSENT


def test_consent_text_and_records_cannot_be_rewritten(study, participant_client):
    doc = _consent_form(participant_client, study)
    participant_client.post(f"/s/{study.slug}/consent/", {"choice": "accept", "consent_hash": doc.content_hash})
    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
        ConsentDocument.objects.filter(pk=doc.pk).update(text="Quietly changed")
    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
        ConsentRecord.objects.update(accepted=False)
    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
        ConsentRecord.objects.all().delete()
    doc.refresh_from_db()
    assert doc.text != "Quietly changed"
    assert ConsentRecord.objects.get().accepted


def test_user_text_is_escaped(study, prolific_params):
    study.title = "<script>alert('t')</script>"
    study.save()
    ConsentDocument.objects.all().update(is_active=False)
    ConsentDocument.objects.create(study=study, version_label="v2", text="<img src=x onerror=alert(1)>")
    client = Client()
    enter(client, study, **prolific_params)
    html = client.get(f"/s/{study.slug}/consent/").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
