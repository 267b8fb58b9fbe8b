"""Pilot, preview and the rules for who may start: a coordinator can try the
study without being counted, a researcher opening Prolific's template link
is previewing, and a paused study or a spent budget turns newcomers away
with Prolific's no-places code while people already in carry on."""

from decimal import Decimal

import pytest
from django.test import Client

from journey.report import study_report
from mgeplatform.models import LLMCall
from studies.models import Cohort, Participant, ProlificIdentity, Study
from tests.factories import PROLIFIC, enter

PLACEHOLDERS = {"PROLIFIC_PID": "{{%PROLIFIC_PID%}}", "STUDY_ID": "{{%STUDY_ID%}}", "SESSION_ID": "{{%SESSION_ID%}}"}


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_prolifics_template_link_is_a_preview_not_a_participant(study, coordinator):
    response = enter(_signed_in(coordinator), study, **PLACEHOLDERS)
    assert response.status_code == 302
    participant = Participant.objects.get()
    assert participant.cohort == Cohort.PREVIEW
    assert not ProlificIdentity.objects.exists()
    assert Participant.objects.real().count() == 0
    assert study_report(study)["progress"]["participants"] == 0
    assert study_report(study, include_simulated=True)["progress"]["participants"] == 0


def test_preview_pages_say_they_are_a_preview(study, coordinator):
    client = _signed_in(coordinator)
    enter(client, study, **PLACEHOLDERS)
    page = client.get(f"/s/{study.slug}/consent/").content.decode()
    assert "Preview" in page and "nothing you do here is counted" in page


def test_coordinator_previews_even_a_draft_study_and_each_preview_starts_afresh(study, coordinator):
    study.status = Study.Status.DRAFT
    study.save()
    client = Client()
    client.force_login(coordinator)
    first = client.get(f"/s/{study.slug}/preview/")
    assert first.status_code == 302 and first["Location"].endswith("/consent/")
    client.get(f"/s/{study.slug}/preview/")
    previews = Participant.objects.previews()
    assert previews.count() == 2
    assert Participant.objects.real().count() == 0
    # The plain link is still closed to the public while the study is a draft.
    assert enter(Client(), study, **PROLIFIC).status_code == 404


def test_preview_needs_a_coordinator(study, auditor):
    anonymous = Client().get(f"/s/{study.slug}/preview/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    client = Client()
    client.force_login(auditor)
    assert client.get(f"/s/{study.slug}/preview/").status_code == 403
    assert not Participant.objects.exists()


def test_pilot_participants_are_real_and_tagged(study):
    study.status = Study.Status.PILOT
    study.save()
    enter(Client(), study, **PROLIFIC)
    participant = Participant.objects.get()
    assert participant.cohort == Cohort.PILOT
    assert list(Participant.objects.real()) == [participant]


def test_open_study_participants_are_the_main_cohort(study):
    study.status = Study.Status.OPEN
    study.save()
    enter(Client(), study, **PROLIFIC)
    assert Participant.objects.get().cohort == Cohort.STUDY


def test_paused_study_turns_newcomers_away_with_the_no_places_code(study):
    study.completion_code_no_places = "NOPLACE1"
    study.save()
    started = Client()
    enter(started, study, **PROLIFIC)
    study.status = Study.Status.PAUSED
    study.save()
    newcomer = enter(Client(), study, PROLIFIC_PID="another", STUDY_ID="s", SESSION_ID="t")
    assert newcomer.status_code == 503
    page = newcomer.content.decode()
    assert "No places left" in page and "NOPLACE1" in page and "cc=NOPLACE1" in page
    assert enter(started, study, **PROLIFIC).status_code == 302  # the first participant carries on
    assert Participant.objects.count() == 1


def test_spent_budget_stops_new_entries(study):
    study.budget_usd = Decimal("1.00")
    study.save()
    enter(Client(), study, **PROLIFIC)
    LLMCall.objects.create(
        purpose="interview.reply",
        study_id=study.pk,
        provider="openai",
        model="gpt-4o",
        estimated_cost_usd=Decimal("1.20"),
    )
    newcomer = enter(Client(), study, PROLIFIC_PID="another", STUDY_ID="s", SESSION_ID="t")
    assert newcomer.status_code == 503
    assert "places" in newcomer.content.decode()
    assert Participant.objects.count() == 1


@pytest.mark.parametrize("ticked, status", [(False, 503), (True, 302)])
def test_scripted_interviewer_needs_the_pilot_box_for_real_participants(study, coordinator, ticked, status):
    study.scripted_interviewer_ok = ticked
    study.save()
    response = enter(Client(), study, **PROLIFIC)
    assert response.status_code == status
    if not ticked:
        assert "not ready yet" in response.content.decode()
        # A preview still works, so the coordinator can try the script.
        assert enter(_signed_in(coordinator), study, **PLACEHOLDERS).status_code == 302


def test_previews_are_deleted_in_one_action_with_what_they_wrote(study, coordinator):
    from graph.models import WisdomVote
    from interviews.models import ChatMessage
    from journey import withdrawal
    from mgeplatform.models import DomainEvent
    from studies import services
    from tests.factories import run_interview
    from values import services as value_services
    from values.models import CanonicalValue

    client = Client()
    client.force_login(coordinator)
    client.get(f"/s/{study.slug}/preview/")
    preview = Participant.objects.previews().get()
    services.record_consent(participant=preview, consent=study.consent_documents.get(), accepted=True)
    run_interview(preview, study.scenarios.get(key="parenting"))
    real = Client()
    enter(real, study, **PROLIFIC)
    # The batch deduplicator leaves a preview's card alone: it never becomes one of the study's values.
    value_services.run_batch_dedup(study)
    assert not CanonicalValue.objects.filter(study=study).exists()

    assert withdrawal.delete_previews(study, user=coordinator) == 1
    assert not Participant.objects.previews().exists()
    assert not ChatMessage.objects.exists() and not WisdomVote.objects.exists()
    assert Participant.objects.count() == 1  # the real participant stays
    event = DomainEvent.objects.get(kind="study.previews_deleted")
    assert event.payload == {"deleted": 1} and event.actor_user == coordinator


def test_coordinator_deletes_previews_from_the_study_list_and_auditors_cannot(study, coordinator, auditor):
    client = Client()
    client.force_login(coordinator)
    client.get(f"/s/{study.slug}/preview/")
    action = {"action": "delete_previews", "_selected_action": [str(study.pk)]}
    reader = Client()
    reader.force_login(auditor)
    reader.post("/admin/studies/study/", action)
    assert Participant.objects.previews().count() == 1
    page = client.post("/admin/studies/study/", action, follow=True).content.decode()
    assert "Deleted 1 preview participant" in page
    assert not Participant.objects.previews().exists()
