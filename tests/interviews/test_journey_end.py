"""The journey's end: step timings, the completion redirect, withdrawal."""

import pytest
from django.apps import apps
from django.test import Client

from graph.models import StoryAssignment, WisdomVote
from interviews.models import ChatMessage
from journey import withdrawal
from mgeplatform.models import DomainEvent
from studies import services as journey
from studies import steps
from studies.models import ConsentRecord, Participant, ProlificIdentity, Step, StepTiming
from tests.factories import consented_participant, enter, move_to, parent_with_card, run_interview
from values.models import ValuesCard

ChatMessageEvent = apps.get_model("interviews", "ChatMessageEvent")


@pytest.fixture
def study(db):
    """Interviews reply on another thread's connection: commit for real."""
    study, _ = journey.seed_case_study()
    return study


def test_each_step_records_when_it_started_and_ended(study):
    participant, _ = consented_participant(study, "timed")
    run_interview(participant, study.scenarios.get(key="parenting"))
    participant.refresh_from_db()
    # The study's first participant: no other values to mark and no stories,
    # so relevance and stories are entered and left at once, the skips recorded.
    assert participant.current_step == Step.SURVEY
    timings = {t.step: t for t in StepTiming.objects.filter(participant=participant)}
    assert set(timings) == {"consent", "scenario", "interview", "relevance", "stories", "survey"}
    assert all(timings[s].ended_at is not None for s in ("consent", "scenario", "interview", "relevance", "stories"))
    assert timings["survey"].ended_at is None
    assert timings["interview"].started_at <= timings["interview"].ended_at == timings["relevance"].started_at
    skipped = DomainEvent.objects.filter(kind="journey.step_skipped", actor_participant=participant.pk)
    assert sorted(e.payload["from"] for e in skipped) == ["relevance", "stories"]
    # A second finish of a step already left (double submit) moves nobody.
    assert steps.finish(participant, Step.RELEVANCE) is False


def test_finished_participant_sees_the_completion_code_and_a_way_back_to_prolific(study, participant_client, settings):
    settings.PROLIFIC_COMPLETION_URL = "https://prolific.example/submissions/complete?cc={code}"
    study.completion_code_completed = "DONE123"
    study.save()
    participant = Participant.objects.get()
    move_to(participant, Step.COMPLETE)
    # A thank-you page first: the code is shown, and a button goes back to Prolific with it.
    page = participant_client.get(f"/s/{study.slug}/journey/").content.decode()
    assert "Thank you, you are done" in page and "DONE123" in page
    assert 'href="https://prolific.example/submissions/complete?cc=DONE123">Back to Prolific</a>' in page
    # Without Prolific (plain link) the code is shown, with no button.
    Participant.objects.filter(pk=participant.pk).update(via_prolific=False)
    page = participant_client.get(f"/s/{study.slug}/journey/").content.decode()
    assert "DONE123" in page and "Back to Prolific" not in page


def _participant_with_content(study):
    """The study's first participant after their interview: with no other
    values to mark or judge yet, they are at the survey."""
    participant, client = consented_participant(study, "leaver")
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"))
    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY
    return participant, client, interview


def test_withdrawal_deletes_content_and_its_audit_copies_but_keeps_consent(study):
    participant, client, interview = _participant_with_content(study)
    message_ids = list(ChatMessage.objects.filter(interview=interview).values_list("pk", flat=True))
    assert ChatMessageEvent.objects.filter(pgh_obj_id__in=message_ids).exists()
    page = client.get(f"/s/{study.slug}/journey/")
    assert f"/s/{study.slug}/withdraw/" in page.content.decode()  # reachable from every step
    confirm = client.get(f"/s/{study.slug}/withdraw/")
    assert confirm.status_code == 200 and "is deleted" in confirm.content.decode()
    done = client.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes", "reason": "changed my mind"})
    assert done.status_code == 200 and "You have withdrawn" in done.content.decode()
    participant.refresh_from_db()
    assert participant.current_step == Step.WITHDRAWN
    assert not ProlificIdentity.objects.filter(participant=participant).exists()
    assert not ChatMessage.objects.filter(pk__in=message_ids).exists()
    assert not ChatMessageEvent.objects.filter(pgh_obj_id__in=message_ids).exists()
    assert not ValuesCard.objects.filter(interview__participant=participant).exists()
    assert ConsentRecord.objects.filter(participant=participant, accepted=True).exists()
    event = DomainEvent.objects.get(kind="participant.withdrawn", actor_participant=participant.pk)
    assert event.payload["prolific_link_removed"] and event.payload["deleted"]["messages"] == len(message_ids)
    # Withdrawing twice changes nothing; the page says they have withdrawn.
    assert withdrawal.withdraw(participant) is False
    assert "You have withdrawn" in client.get(f"/s/{study.slug}/journey/").content.decode()


def test_withdrawal_removes_votes_and_impressions_together(graph_study):
    from graph import services, stories

    study, values = graph_study
    stories.generate_stories(study)
    participant, _ = parent_with_card(study, "voter", values[1])
    move_to(participant, Step.STORIES)
    assignment = services.next_assignment(participant)
    services.record_vote(participant=participant, assignment=assignment, answer="yes")
    withdrawal.withdraw(participant)
    assert not WisdomVote.objects.filter(participant=participant).exists()
    assert not StoryAssignment.objects.filter(participant=participant).exists()


def test_keep_anonymised_policy_only_unlinks_the_identity(study):
    study.withdrawal_policy = study.WithdrawalPolicy.KEEP_ANONYMISED
    study.save()
    participant, client, interview = _participant_with_content(study)
    client.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes"})
    assert not ProlificIdentity.objects.filter(participant=participant).exists()
    assert ChatMessage.objects.filter(interview=interview).exists()


def test_go_back_keeps_the_participant_in_the_study(study):
    participant, client, _ = _participant_with_content(study)
    response = client.post(f"/s/{study.slug}/withdraw/", {"confirm": "no"})
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY


def test_someone_without_a_session_cannot_withdraw_anyone(study):
    participant, _, _ = _participant_with_content(study)
    stranger = Client()
    enter(stranger, study, PROLIFIC_PID="someone-else", STUDY_ID="s", SESSION_ID="t")
    stranger.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes"})
    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY


def test_reopening_the_prolific_link_after_withdrawing_does_not_start_again(study):
    participant, client, _ = _participant_with_content(study)
    client.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes"})
    again = client.get(f"/s/{study.slug}/?PROLIFIC_PID=leaver&STUDY_ID=s&SESSION_ID=t2", follow=True)
    assert "You have withdrawn" in again.content.decode()
    assert list(Participant.objects.filter(study=study)) == [participant]


def test_coordinator_screens_out_a_participant_with_a_reason(study, coordinator, auditor, settings):
    settings.PROLIFIC_COMPLETION_URL = "https://prolific.example/done?cc={code}"
    study.completion_code_screened_out = "SCREEN9"
    study.save()
    participant, client, _ = _participant_with_content(study)
    admin = Client()
    admin.force_login(coordinator)
    action = {"action": "screen_out", "_selected_action": [str(participant.pk)]}
    confirm = admin.post("/admin/studies/participant/", action)
    assert confirm.status_code == 200 and "Reason" in confirm.content.decode()
    # No reason, no change.
    admin.post("/admin/studies/participant/", {**action, "confirm": "yes", "reason": ""})
    participant.refresh_from_db()
    assert participant.current_step == Step.SURVEY
    admin.post("/admin/studies/participant/", {**action, "confirm": "yes", "reason": "Not eligible: under 18"})
    participant.refresh_from_db()
    assert participant.current_step == Step.SCREENED_OUT
    event = DomainEvent.objects.get(kind="participant.screened_out")
    assert event.payload == {"from_step": "survey", "reason": "Not eligible: under 18"}
    assert event.actor_user == coordinator
    # Their next page gives them the screened-out code and the way back to Prolific.
    page = client.get(f"/s/{study.slug}/journey/").content.decode()
    assert "SCREEN9" in page and 'href="https://prolific.example/done?cc=SCREEN9"' in page
    # Auditors cannot screen anyone out.
    reader = Client()
    reader.force_login(auditor)
    page = reader.get("/admin/studies/participant/").content.decode()
    assert "screen_out" not in page
