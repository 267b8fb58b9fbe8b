"""A withdrawal under "delete what they wrote" reaches what was made from the
participant's card: the canonical value worded from it is worded again from
another of its cards, or archived with its text redacted when none is left;
the stories written from it are archived and lose their text; snapshots that
kept its wording have it redacted (and say so); new graphs leave it out."""

import pytest

from tests.factories import make_values, parent_with_card, stories_and_honest_votes


@pytest.fixture
def study(db):
    from studies import services as journey
    from studies.models import Study

    study, _ = journey.seed_case_study()
    study.withdrawal_policy = Study.WithdrawalPolicy.DELETE_CONTENT
    study.save()
    return study


def _author(value):
    return value.representative_card.interview.participant


def test_a_value_worded_from_a_withdrawn_card_is_worded_again_from_another_of_its_cards(study):
    from django.apps import apps

    from journey import withdrawal
    from mgeplatform.models import DomainEvent
    from values import selectors

    value = make_values(study)[0]
    other, _ = parent_with_card(study, "other-parent", value)
    history = apps.get_model("values", "CanonicalValueEvent")
    assert history.objects.filter(pgh_obj_id=value.pk, title="Value 0").exists()

    assert withdrawal.withdraw(_author(value))

    value.refresh_from_db()
    card = other.interviews.get().cards.get()
    assert (value.title, value.description, value.representative_card_id) == ("Mine", "d", card.pk)
    assert value.archived_at is None and selectors.live_values(study).filter(pk=value.pk).exists()
    assert not history.objects.filter(pgh_obj_id=value.pk, title="Value 0").exists()
    assert history.objects.filter(pgh_obj_id=value.pk, title="Mine").exists()
    event = DomainEvent.objects.get(kind="canonical.reworded")
    assert event.payload["card"] == card.pk and "Value 0" not in str(event.payload)


def test_a_value_with_no_card_left_is_archived_and_its_stories_and_snapshot_texts_are_redacted(study):
    from graph import services as graph_services
    from graph.models import TransitionStory
    from journey import withdrawal
    from values import selectors

    values = make_values(study)
    stories, _ = stories_and_honest_votes(study, values, voters=10, per_voter=6)
    old = graph_services.build_snapshot(study)
    gone = values[0]
    edges_before = old.edges
    assert old.values[str(gone.pk)]["title"] == "Value 0"

    assert withdrawal.withdraw(_author(gone))

    gone.refresh_from_db()
    assert gone.archived_at is not None and gone.title.startswith("[redacted ")
    assert "participant withdrew, policy delete_content" in gone.title
    assert not selectors.live_values(study).filter(pk=gone.pk).exists()
    theirs = TransitionStory.objects.filter(
        pk__in=[s.pk for s in stories if gone.pk in (s.from_value_id, s.to_value_id)]
    )
    assert theirs.count() and all(s.status == "archived" and s.story.startswith("[redacted ") for s in theirs)
    others = TransitionStory.objects.exclude(pk__in=theirs)
    assert others.count() and all(s.status == "active" and s.story.startswith("I moved from") for s in others)

    old.refresh_from_db()
    assert old.values[str(gone.pk)]["title"].startswith("[redacted ")
    assert old.values[str(values[1].pk)]["title"] == "Value 1"
    assert old.edges == edges_before  # the graph itself reads the same
    assert old.redactions[-1]["values"] == [gone.pk] and "withdrew" in old.redactions[-1]["reason"]

    new = graph_services.build_snapshot(study)
    assert str(gone.pk) not in new.values
    assert not [e for e in new.edges if gone.pk in (e["source"], e["target"])]
    assert new.summary["votes"] > 0 and str(values[1].pk) in new.values


def test_a_snapshot_update_that_does_not_record_a_redaction_is_refused(study):
    from django.db import DatabaseError, connection, transaction

    from graph import services as graph_services

    values = make_values(study)
    stories_and_honest_votes(study, values, voters=4, per_voter=3)
    snapshot = graph_services.build_snapshot(study)
    for sql in [
        "UPDATE graph_graphsnapshot SET \"values\" = '{}' WHERE id = %s",
        "UPDATE graph_graphsnapshot SET \"values\" = '{}', redactions = '[]' WHERE id = %s",
        "UPDATE graph_graphsnapshot SET summary = '{}', redactions = '[{\"a\": 1}]' WHERE id = %s",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [snapshot.pk])
    with connection.cursor() as cursor:  # the one change allowed: a redaction, recorded
        cursor.execute(
            "UPDATE graph_graphsnapshot SET \"values\" = '{}', redactions = '[{\"a\": 1}]' WHERE id = %s", [snapshot.pk]
        )
    snapshot.refresh_from_db()
    assert snapshot.values == {} and snapshot.redactions == [{"a": 1}]


def test_the_thank_you_page_lists_what_was_removed_with_counts_and_no_content(study):
    import re

    from interviews.models import ChatMessage
    from mgeplatform.models import DomainEvent
    from tests.factories import consented_participant, run_interview

    participant, client = consented_participant(study, "receipt-writer")
    run_interview(participant, study.scenarios.get(key="parenting"))
    messages = ChatMessage.objects.filter(interview__participant=participant).count()
    said = ChatMessage.objects.filter(interview__participant=participant, role="user").first().content
    done = client.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes"})
    html = done.content.decode()
    assert done.status_code == 200 and 'id="deletion-receipt"' in html
    rows = dict(re.findall(r'<tr data-key="([a-z_]+)"><td>[^<]+</td><td>(\d+)</td></tr>', html))
    assert rows["messages"] == str(messages) and rows["interviews"] == "1" and int(rows["cards"]) >= 1
    assert "Chat messages" in html and said not in html
    event = DomainEvent.objects.get(kind="participant.withdrawn", actor_participant=participant.pk)
    assert {r["key"]: str(r["count"]) for r in event.payload["receipt"]} == rows
    assert said not in str(event.payload)
    # The page is the same when they come back.
    again = client.get(f"/s/{study.slug}/journey/").content.decode()
    assert dict(re.findall(r'<tr data-key="([a-z_]+)"><td>[^<]+</td><td>(\d+)</td></tr>', again)) == rows


def test_a_participant_who_wrote_nothing_is_told_there_was_nothing_to_remove(study):
    from tests.factories import consented_participant

    participant, client = consented_participant(study, "receipt-empty")
    html = client.post(f"/s/{study.slug}/withdraw/", {"confirm": "yes"}).content.decode()
    assert "there was nothing to remove" in html and '<table class="receipt"' not in html


def test_answer_audits_playground_turns_and_training_examples_lose_a_withdrawn_value_s_wording(
    study, settings, tmp_path
):
    from alignment import playground, training
    from alignment import services as alignment
    from alignment.models import AnswerAuditItem, PlaygroundTurn, TrainingExample
    from graph import services as graph_services
    from journey import withdrawal
    from mgeplatform.models import LLMCall
    from tests.journey.test_erasure_by_schema import columns_holding
    from values.models import CanonicalValue, ValuesCard

    values = make_values(study)
    wisest = values[-1]  # later values are wiser in these votes: the winner of every context
    ValuesCard.objects.filter(pk=wisest.representative_card_id).update(title="Quillbright")
    CanonicalValue.objects.filter(pk=wisest.pk).update(title="Quillbright")
    stories_and_honest_votes(study, values, voters=24, per_voter=6)
    snapshot = graph_services.build_snapshot(study)
    prompt = "My child has a parenting question: what context is this?"
    alignment.audit_answer(study, prompt, "Follow the child's interest and praise effort.", snapshot)
    playground.add_turn(playground.start(study, snapshot=snapshot), prompt)
    training.export(study, snapshot, [{"text": prompt, "source": "test"}], tmp_path / "training", limit=6)
    before = {c.split(".")[0] for c in columns_holding("Quillbright")}
    assert {"alignment_answeraudititem", "alignment_playgroundturn", "alignment_trainingexample"} <= before
    assert LLMCall.objects.filter(purpose__startswith="alignment.", content_of__contains=[_author(wisest).pk]).exists()

    assert withdrawal.withdraw(_author(wisest))

    after = columns_holding("Quillbright")
    assert not [c for c in after if c.startswith(("alignment_", "mgeplatform_llmcall", "graph_"))], after
    assert AnswerAuditItem.objects.filter(value=wisest, value_title__startswith="[redacted ").exists()
    turn = PlaygroundTurn.objects.get()
    assert turn.reply_graph.startswith("[redacted ") and turn.reply_plain  # the answer without values stays
    dropped = TrainingExample.objects.filter(reason="withdrawn")
    assert dropped.exists() and all(e.line is None for e in dropped)
