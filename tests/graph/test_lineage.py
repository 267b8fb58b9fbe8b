"""Lineage: a snapshot knows whose data it used, every page and file that
shows it says when some of them have withdrawn since, and one action builds
it again without them (the old one kept, marked as superseded)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from alignment import playground, training
from alignment.models import AnswerAudit, TrainingRun
from graph import aggregation, interchange, services
from graph.models import GraphSnapshot, WisdomVote
from journey.withdrawal import withdraw
from studies.models import Participant, Study
from tests.factories import run_jobs_until_idle, stories_and_honest_votes

PARAMS = aggregation.Parameters(bootstrap_samples=20, min_wiser=2)


def _build(policy):
    from studies import services as journey
    from tests.factories import make_values

    study, _ = journey.seed_case_study()
    Study.objects.filter(pk=study.pk).update(withdrawal_policy=policy, graph_public=True)
    study.refresh_from_db()
    values = make_values(study)
    _, voters = stories_and_honest_votes(study, values[:4], voters=12, per_voter=8)
    return study, values, voters, services.build_snapshot(study, parameters=PARAMS)


@pytest.fixture
def built(db):
    return _build(Study.WithdrawalPolicy.DELETE_CONTENT)


def test_a_snapshot_lists_the_voters_and_card_authors_it_used(built):
    study, values, voters, snapshot = built
    authors = {v.representative_card.interview.participant_id for v in values}
    assert set(snapshot.contributors) == {p.pk for p in voters} | authors
    # A participant who never voted nor wrote a card behind a value is not in it.
    bystander = Participant.objects.create(study=study)
    assert bystander.pk not in services.build_snapshot(study, parameters=PARAMS, quick=True).contributors


def test_after_two_voters_withdraw_every_page_and_file_of_the_snapshot_says_so(built, coordinator, client):
    study, values, voters, snapshot = built
    conversation = playground.start(study, snapshot=snapshot)
    run = training.start_run(study, snapshot, training.prompt_set(study))
    audit = AnswerAudit.objects.create(study=study, snapshot=snapshot, prompt="p", answer="a")
    said = "Built with data of 2 participants who later withdrew."
    client.force_login(coordinator)
    assert said not in client.get(f"/admin/graph/graphsnapshot/{snapshot.pk}/change/").content.decode()
    for person in voters[:2]:
        withdraw(person)

    pages = {
        "snapshot page": f"/admin/graph/graphsnapshot/{snapshot.pk}/change/",
        "snapshot list": "/admin/graph/graphsnapshot/",
        "explorer": f"/graph/{study.slug}/?snapshot={snapshot.pk}",
        "winners": f"/graph/{study.slug}/winners/?snapshot={snapshot.pk}",
        "report": f"/admin/studies/study/{study.pk}/report/",
        "training run": f"/admin/alignment/trainingrun/{run.pk}/change/",
        "answer audit": f"/admin/alignment/answeraudit/{audit.pk}/change/",
        "playground": f"/graph/{study.slug}/playground/{conversation.pk}/",
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert said in response.content.decode(), name
    # The public graph data says how many, never who.
    client.logout()
    data = client.get(f"/graph/{study.slug}/data.json?snapshot={snapshot.pk}").json()
    assert data["access"] == "public"
    assert data["snapshot"]["lineage"]["withdrawn_since_build"] == 2
    assert not any(str(p.pk) in json.dumps(data) for p in voters[:2])
    document = interchange.snapshot_document(snapshot)
    assert document["snapshot"]["lineage"]["withdrawnSinceBuild"] == 2
    assert "2 participants who later withdrew" in training.dataset_card(run)


@pytest.mark.django_db(transaction=True)
def test_the_snapshot_is_built_again_without_them_and_the_old_one_is_kept_and_marked(coordinator, client):
    study, values, voters, old = _build(Study.WithdrawalPolicy.DELETE_CONTENT)
    gone = voters[:2]
    their_votes = WisdomVote.objects.filter(participant__in=gone).count()
    run = training.start_run(study, old, training.prompt_set(study))
    for person in gone:
        withdraw(person)
    client.force_login(coordinator)
    page = client.get(f"/admin/graph/graphsnapshot/{old.pk}/change/").content.decode()
    assert 'id="rebuild-without-withdrawn"' in page
    # The page's button posts the list action for this one snapshot.
    response = client.post(
        "/admin/graph/graphsnapshot/",
        {"action": "rebuild_without_withdrawn", "_selected_action": [old.pk]},
        follow=True,
    )
    assert "Queued a rebuild of snapshot(s)" in response.content.decode()
    run_jobs_until_idle()

    new = GraphSnapshot.objects.get(supersedes=old)
    assert not {p.pk for p in gone} & set(new.contributors)
    assert new.summary["votes"] == old.summary["votes"] - their_votes
    assert new.parameters == old.parameters
    old_page = client.get(f"/admin/graph/graphsnapshot/{old.pk}/change/").content.decode()
    assert f"Snapshot {new.pk} was built again without them." in old_page
    assert 'id="rebuild-without-withdrawn"' not in old_page
    new_page = client.get(f"/admin/graph/graphsnapshot/{new.pk}/change/").content.decode()
    assert f'Built again from <a href="/admin/graph/graphsnapshot/{old.pk}/change/">snapshot {old.pk}</a>' in new_page
    assert "who later withdrew" not in new_page
    # The old one is still there, whole (snapshots are append-only).
    assert GraphSnapshot.objects.get(pk=old.pk).edges == old.edges
    # A re-run of the training export goes to the rebuilt snapshot, with the same prompts.
    run_page = client.get(f"/admin/alignment/trainingrun/{run.pk}/change/").content.decode()
    assert f"Run this export again on snapshot {new.pk}" in run_page
    confirm = client.get(f"/admin/alignment/trainingrun/{run.pk}/rerun/")
    assert confirm.status_code == 200 and "Confirm the training-data export" in confirm.content.decode()
    client.post("/admin/alignment/trainingrun/start/", {"plan": confirm.context["plan"]})
    rerun = TrainingRun.objects.exclude(pk=run.pk).get()
    assert rerun.snapshot == new and rerun.prompts == run.prompts


def test_under_keep_anonymised_the_rebuild_leaves_their_kept_votes_out_by_name(db):
    study, values, voters, old = _build(Study.WithdrawalPolicy.KEEP_ANONYMISED)
    gone = voters[0]
    their_votes = WisdomVote.objects.filter(participant=gone).count()
    withdraw(gone)
    assert WisdomVote.objects.filter(participant=gone).count() == their_votes  # the policy keeps them
    out = io.StringIO()
    call_command("rebuild_moral_graph", "--snapshot", str(old.pk), stdout=out)
    new = GraphSnapshot.objects.get(supersedes=old)
    assert f"Built snapshot {new.pk} from snapshot {old.pk} without the 1 participant(s)" in out.getvalue()
    assert new.summary["votes"] == old.summary["votes"] - their_votes
    assert {"participant": str(gone.pk), "reason": "withdrew after the snapshot it rebuilds was built"} in (
        new.scores["coordination"]["excluded"]
    )
    assert gone.pk not in new.contributors


def test_a_rebuild_with_nobody_to_leave_out_is_refused_clearly(built):
    _, _, _, snapshot = built
    with pytest.raises(CommandError, match="has withdrawn since: there is nothing to build without"):
        call_command("rebuild_moral_graph", "--snapshot", str(snapshot.pk))
    with pytest.raises(CommandError, match="No graph snapshot with id 999999"):
        call_command("rebuild_moral_graph", "--snapshot", "999999")
