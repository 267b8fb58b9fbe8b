"""The audit trail holds against the application's own database role.

The tests connect as the deployed application does (tests/conftest.py): as a
role that owns nothing. Every attempt below is what a compromised web process
or worker could try; each is refused by Postgres itself.
"""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from pghistory.models import Events

from graph import services as graph_services
from graph import stories
from graph.models import GraphSnapshot
from interviews import services as chat
from mgeplatform.audit import actor_of
from mgeplatform.models import DomainEvent
from studies.models import Participant, Step, Study
from tests.factories import at_step, move_to, run_interview, run_jobs_until_idle


def _refused(sql, params=None):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_application_role_is_neither_superuser_nor_owner(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        assert cursor.fetchone() == (0,)


def test_triggers_cannot_be_disabled_or_skipped(study):
    _refused("ALTER TABLE interviews_participantevent DISABLE TRIGGER ALL")
    _refused("ALTER TABLE pghistory_context DISABLE TRIGGER mge_context_append_only")
    _refused("SET session_replication_role = replica")
    _refused("DROP TRIGGER mge_context_append_only ON pghistory_context")


def test_event_tables_cannot_be_truncated_or_rewritten(study):
    Study.objects.filter(pk=study.pk).update(title="changed")
    _refused("TRUNCATE interviews_studyevent")
    _refused("TRUNCATE mgeplatform_domainevent")
    _refused("UPDATE interviews_studyevent SET title = 'rewritten'")
    _refused("DELETE FROM interviews_studyevent")


def test_pghistory_context_cannot_be_changed_or_deleted(study, participant_client):
    assert Events.objects.filter(pgh_context__isnull=False).exists()
    _refused("UPDATE pghistory_context SET metadata = '{}'")
    _refused("DELETE FROM pghistory_context")
    _refused("TRUNCATE pghistory_context")
    # Nor through pghistory's own upsert (it runs as the owner): a context
    # may gain keys, never have one rewritten to name someone else.
    context_id, metadata = (
        Participant.pgh_event_model.objects.filter(pgh_context__isnull=False)
        .values_list("pgh_context_id", "pgh_context__metadata")
        .first()
    )
    assert metadata["participant"]
    forged = {**metadata, "participant": "00000000-0000-0000-0000-000000000000"}
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)",
            [str(context_id), _json(forged)],
        )
        cursor.execute("UPDATE interviews_study SET title = 'x' WHERE id = %s", [study.pk])


def test_a_graph_snapshot_cannot_be_deleted_or_edited(graph_study, coordinator):
    study, _ = graph_study
    snapshot = graph_services.build_snapshot(study, user=coordinator)
    _refused("DELETE FROM graph_graphsnapshot WHERE id = %s", [snapshot.pk])
    _refused("UPDATE graph_graphsnapshot SET summary = '{}' WHERE id = %s", [snapshot.pk])
    _refused("TRUNCATE graph_graphsnapshot")
    assert GraphSnapshot.objects.filter(pk=snapshot.pk).exists()


def _json(value):
    import json

    return json.dumps(value)


def _events_since(before=frozenset()):
    """Row events of every tracked table not in `before` (pgh_id counts per table)."""
    return [e for e in Events.objects.all() if (e.pgh_model, e.pgh_id) not in before]


def _seen():
    return frozenset((e.pgh_model, e.pgh_id) for e in Events.objects.all())


def _anonymous(events):
    return [(e.pgh_model, e.pgh_label, e.pgh_obj_id) for e in events if not actor_of(e.pgh_context)]


def test_every_row_event_of_a_journey_names_its_actor(graph_study):
    study, values = graph_study
    stories.generate_stories(study)  # (set-up: the stories a worker would have written)
    before = _seen()
    client = Client()
    client.get(f"/s/{study.slug}/", {"PROLIFIC_PID": "actor-pid", "STUDY_ID": "s", "SESSION_ID": "t"})
    participant = Participant.objects.get(prolific_identity__prolific_pid="actor-pid")
    consent = client.get(f"/s/{study.slug}/consent/").context["document"]
    client.post(f"/s/{study.slug}/consent/", {"choice": "accept", "consent_hash": consent.content_hash})
    interview, _ = run_interview(participant, study.scenarios.get(key="parenting"), submit=False)
    chat.edit_card(
        interview_id=interview.pk,
        title="Curiosity",
        description="Following what lights the child up.",
        policies=values[1].policies,
    )
    chat.submit_card(interview_id=interview.pk)
    participant = move_to(participant, Step.STORIES)
    assignment = graph_services.next_assignment(participant)
    graph_services.record_vote(participant=participant, assignment=assignment, answer="yes")
    written = _events_since(before)
    assert {
        "studies.ParticipantEvent",
        "studies.ConsentRecordEvent",
        "interviews.ChatMessageEvent",
        "values.ValuesCardEvent",
        "graph.StoryAssignmentEvent",
        "graph.WisdomVoteEvent",
    } <= {e.pgh_model for e in written}
    assert _anonymous(written) == []
    joined = Participant.pgh_event_model.objects.filter(pgh_obj_id=participant.pk, pgh_label="insert").get()
    assert actor_of(joined.pgh_context.metadata) == f"participant:{participant.pk}"


def test_a_card_edit_writes_a_domain_event(study):
    participant, _ = at_step(study, "card-editor", Step.INTERVIEW)
    interview, _ = run_interview(participant, study.scenarios.first(), submit=False)
    chat.edit_card(
        interview_id=interview.pk,
        title="My own words",
        description="What I care about.",
        policies=["MOMENTS when people listen"],
    )
    event = DomainEvent.objects.get(kind="values_card.edited")
    assert event.actor == f"participant:{participant.pk}"
    assert event.study_slug == study.slug and event.payload["revision"] >= 2


@pytest.mark.django_db(transaction=True)  # the worker reads on its own connection
def test_a_worker_job_names_itself_on_every_row_event(graph_study):
    from graph.tasks import generate_stories

    study, _ = graph_study
    before = _seen()
    job_id = generate_stories.defer(study_id=study.pk)
    run_jobs_until_idle()
    written = _events_since(before)
    assert {e.pgh_model for e in written} >= {"graph.StoryRunEvent", "graph.TransitionStoryEvent"}
    assert _anonymous(written) == []
    actors = {actor_of(e.pgh_context) for e in written}
    assert f"job:graph.generate_stories#{job_id}" in actors
    assert all(actor.startswith("job:") for actor in actors)  # (the periodic jobs ran too)


def test_withdrawal_still_deletes_content_and_its_audit_copies_as_the_application_role(graph_study):
    from graph.models import StoryAssignment, WisdomVote
    from journey import withdrawal
    from tests.factories import parent_with_card

    study, values = graph_study
    stories.generate_stories(study)
    participant, _ = parent_with_card(study, "leaver", values[1])
    move_to(participant, Step.STORIES)
    assignment = graph_services.next_assignment(participant)
    vote = graph_services.record_vote(participant=participant, assignment=assignment, answer="yes")
    assert withdrawal.withdraw(participant)
    assert not StoryAssignment.objects.filter(participant=participant).exists()
    assert not StoryAssignment.pgh_event_model.objects.filter(pgh_obj_id=assignment.pk).exists()
    assert not WisdomVote.pgh_event_model.objects.filter(pgh_obj_id=vote.pk).exists()
    # The trail of the withdrawal itself stays, and still cannot be removed.
    assert DomainEvent.objects.filter(kind="participant.withdrawn", actor_participant=participant.pk).exists()
    _refused("DELETE FROM mgeplatform_domainevent WHERE kind = 'participant.withdrawn'")
