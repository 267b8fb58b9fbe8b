"""Row-level history (pghistory triggers) and domain events."""

import pytest
from django.db import ProgrammingError, transaction
from django.test import Client

from mgeplatform.models import DomainEvent
from studies.models import Participant, Study
from tests.factories import enter


def _events(model):
    return model.pgh_event_model.objects.order_by("pgh_id")


def test_change_through_a_service_is_recorded_with_the_participant(study, participant_client):
    doc = participant_client.get(f"/s/{study.slug}/consent/").context["document"]
    participant_client.post(f"/s/{study.slug}/consent/", {"choice": "accept", "consent_hash": doc.content_hash})
    participant = Participant.objects.get()
    update = _events(Participant).filter(pgh_obj_id=participant.pk, pgh_label="update").get()
    assert update.current_step == "scenario"
    assert update.pgh_context.metadata["participant"] == str(participant.pk)
    assert update.pgh_context.metadata["url"] == f"/s/{study.slug}/consent/"
    assert update.pgh_created_at is not None


def test_admin_change_is_recorded_with_the_staff_user(study, coordinator):
    client = Client()
    client.post("/accounts/login/", {"login": coordinator.email, "password": "x-coord-pass-1"})
    client.post(
        f"/admin/studies/study/{study.pk}/change/",
        {
            "title": "Edited by coordinator",
            "slug": study.slug,
            "status": "open",
            "stories_per_participant": "3",
            "scripted_interviewer_ok": "on",
            "stuck_after_minutes": "10",
            "withdrawal_policy": "delete_content",
            "scenarios-TOTAL_FORMS": "0",
            "scenarios-INITIAL_FORMS": "0",
            "consent_documents-TOTAL_FORMS": "0",
            "consent_documents-INITIAL_FORMS": "0",
        },
    )
    event = _events(Study).filter(pgh_label="update").last()
    assert event.title == "Edited by coordinator"
    assert event.pgh_context.metadata["user"] == coordinator.pk


def test_bulk_update_and_delete_are_recorded(study):
    Study.objects.filter(pk=study.pk).update(status=Study.Status.CLOSED)
    assert _events(Study).filter(pgh_label="update", status="closed").count() == 1
    scenario_ids = list(study.scenarios.values_list("pk", flat=True))
    study.scenarios.all().delete()
    deleted = _events(type(study.scenarios.model())).filter(pgh_label="delete")
    assert sorted(deleted.values_list("pgh_obj_id", flat=True)) == sorted(scenario_ids)


def test_history_is_append_only(study):
    Study.objects.update(title="x")
    with pytest.raises(ProgrammingError), transaction.atomic():
        _events(Study).update(title="rewritten")
    with pytest.raises(ProgrammingError), transaction.atomic():
        _events(Study).all().delete()
    with pytest.raises(ProgrammingError), transaction.atomic():
        DomainEvent.objects.update(kind="rewritten")


def test_prolific_identity_is_not_copied_into_history(study, prolific_params):
    enter(Client(), study, **prolific_params)
    from pghistory.models import Events

    assert not any(prolific_params["PROLIFIC_PID"] in str(e.pgh_data) for e in Events.objects.all())


def test_domain_events_name_actor_and_subject(study, participant_client):
    participant = Participant.objects.get()
    joined = DomainEvent.objects.get(kind="participant.joined")
    assert joined.actor == f"participant:{participant.pk}"
    assert (joined.subject_type, joined.subject_id) == ("studies.Participant", str(participant.pk))
    assert joined.study_slug == study.slug
