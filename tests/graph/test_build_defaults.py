"""Building the graph from the study admin, and which graph the explorer and
winners pages then show: nothing is left out, or replaced by an empty graph,
without the coordinator being told."""

import re
from html import unescape

import pytest
from django.test import Client

from graph import aggregation, services
from graph.models import GraphSnapshot, MoralContext, WisdomVote
from graph.tasks import build_snapshot as build_snapshot_task
from studies.models import Participant
from tests.factories import consented_participant, run_jobs_until_idle

NO_BOOTSTRAP = aggregation.Parameters(bootstrap_samples=0)


def _text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _voters(study, values, *, simulated: int, real: int):
    """Five votes on a → b (four wiser) and three on c → d: with all of them
    counted, a → b and c → d are kept. The first `simulated` voters are simulated."""
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.get(key="parenting"), text="When a child resists authority"
    )
    voters = [consented_participant(study, f"voter-{i}")[0] for i in range(simulated + real)]
    Participant.objects.filter(pk__in=[p.pk for p in voters[:simulated]]).update(simulated=True)
    a, b, c, d = values[:4]
    for i, p in enumerate(voters[:5]):
        WisdomVote.objects.create(
            study=study, participant=p, from_value=a, to_value=b, context=context, answer="yes" if i < 4 else "no"
        )
    for p in voters[:3]:
        WisdomVote.objects.create(study=study, participant=p, from_value=c, to_value=d, context=context, answer="yes")
    return voters


def _choose_action(client, study):
    return client.post("/admin/studies/study/", {"action": "build_moral_graph", "_selected_action": [study.pk]})


def _confirm(client, study, *, simulated: bool, exclude_flagged: bool = False):
    data = {"action": "build_moral_graph", "_selected_action": [study.pk], "apply": "build"}
    if simulated:
        data[f"simulated_{study.pk}"] = "on"
    if exclude_flagged:
        data[f"exclude_flagged_{study.pk}"] = "on"
    return client.post("/admin/studies/study/", data, follow=True)


def test_build_asks_first_and_says_how_many_simulated_votes_it_leaves_out(
    graph_study, coordinator, client, django_capture_on_commit_callbacks, monkeypatch
):
    study, values = graph_study
    queued = []  # the queue writes on its own connection, outside this test's transaction
    monkeypatch.setattr(build_snapshot_task, "defer", lambda **job: queued.append(job))
    _voters(study, values, simulated=3, real=2)  # 8 votes: 6 by simulated participants
    client.force_login(coordinator)
    page = _choose_action(client, study)
    assert page.status_code == 200
    text = _text(page)
    assert "Build the moral graph" in text and "include simulated votes" in text
    assert re.search(rf"{re.escape(study.title)} 2 6 include simulated votes", text)
    checkbox = re.search(rf'<input type="checkbox" name="simulated_{study.pk}"[^>]*>', page.content.decode()).group(0)
    assert "checked" not in checkbox  # real votes exist: simulated ones stay out unless asked
    assert not queued  # nothing built before the coordinator answers

    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(client, study, simulated=False)
    assert "2 votes counted; 6 simulated votes left out." in _messages(done)
    assert queued == [
        {"study_id": study.pk, "user_id": coordinator.pk, "include_simulated": False, "exclude_flagged": False}
    ]

    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(client, study, simulated=True)
    assert "2 votes plus 6 simulated votes counted." in _messages(done)
    assert queued[-1]["include_simulated"] is True

    # Leaving flagged voters out is asked for per study, and said in the message.
    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(client, study, simulated=False, exclude_flagged=True)
    assert queued[-1]["exclude_flagged"] is True
    assert "without the participants flagged for coordinated voting" in _messages(done)


@pytest.mark.django_db(transaction=True)  # the worker reads on its own connection
def test_a_study_of_simulated_participants_builds_with_them_by_default(graph_study, coordinator):
    study, values = graph_study
    _voters(study, values, simulated=5, real=0)
    client = Client()
    client.force_login(coordinator)
    page = _choose_action(client, study)
    assert "every counted vote is simulated" in _text(page)
    checkbox = re.search(rf'<input type="checkbox" name="simulated_{study.pk}"[^>]*>', page.content.decode()).group(0)
    assert "checked" in checkbox
    done = _confirm(client, study, simulated=True)  # the box as it came, ticked
    assert "simulated votes included (all 8 counted votes are simulated)" in _messages(done)
    run_jobs_until_idle()
    snapshot = GraphSnapshot.objects.get(study=study)
    assert snapshot.include_simulated and snapshot.summary["edges_kept"] == 2
    assert snapshot.created_by == coordinator
    graph = _text(client.get(f"/graph/{study.slug}/"))
    assert (
        f"Snapshot {snapshot.pk}, built {snapshot.created_at:%Y-%m-%d %H:%M} UTC by {coordinator}: "
        "8 votes counted, simulated participants' votes included (8); 2 edges kept"
    ) in graph


def test_unticking_the_box_for_a_simulated_study_is_said_to_leave_the_graph_empty(graph_study, coordinator, client):
    study, values = graph_study
    _voters(study, values, simulated=5, real=0)
    client.force_login(coordinator)
    done = _confirm(client, study, simulated=False)
    assert "8 simulated votes left out, so the graph will have no votes and no edges." in _messages(done)


@pytest.fixture
def rebuilt_empty(graph_study, coordinator):
    """A populated graph built with simulated votes, then a newer build that
    left them out and so kept no edges."""
    study, values = graph_study
    _voters(study, values, simulated=5, real=0)
    populated = services.build_snapshot(study, parameters=NO_BOOTSTRAP, include_simulated=True, user=coordinator)
    empty = services.build_snapshot(study, parameters=NO_BOOTSTRAP, user=coordinator)
    assert populated.summary["edges_kept"] == 2 and empty.summary["edges_kept"] == 0
    return study, values, populated, empty


@pytest.mark.parametrize("page", ["", "winners/"])
def test_pages_keep_showing_the_populated_graph_and_say_why_the_newer_one_is_empty(
    rebuilt_empty, coordinator, client, page
):
    study, values, populated, empty = rebuilt_empty
    client.force_login(coordinator)
    text = _text(client.get(f"/graph/{study.slug}/{page}"))
    assert (
        f"A newer build, snapshot {empty.pk} (built {empty.created_at:%Y-%m-%d %H:%M} UTC by {coordinator}), "
        "kept no edges: it left out the 8 votes of simulated participants and had no other votes to count; "
        f"build it again with simulated votes included. This page shows snapshot {populated.pk}, "
        "the newest one with edges."
    ) in text
    assert f"Snapshot {populated.pk}," in text and "2 edges kept" in text
    if page == "winners/":
        assert "Parenting #1 in this scenario" in text  # the populated graph's winners, not "no winner"
    # The empty snapshot is still there for whoever asks for it, and says why it is empty.
    chosen = _text(client.get(f"/graph/{study.slug}/{page}?snapshot={empty.pk}"))
    assert f"Snapshot {empty.pk}," in chosen and "A newer build" not in chosen
    assert "0 votes counted, simulated participants' votes left out (8); 0 edges kept" in chosen
    assert "No edges were kept: it left out the 8 votes of simulated participants" in chosen


def test_public_readers_see_the_same_explanation_without_staff_names(rebuilt_empty, coordinator):
    study, _, populated, empty = rebuilt_empty
    type(study).objects.filter(pk=study.pk).update(graph_public=True)
    text = _text(Client().get(f"/graph/{study.slug}/"))
    assert f"A newer build, snapshot {empty.pk}" in text and f"This page shows snapshot {populated.pk}" in text
    assert "by a coordinator" in text and str(coordinator) not in text


def test_a_graph_with_no_votes_yet_says_so(graph_study, coordinator, client):
    study, _ = graph_study
    snapshot = services.build_snapshot(study, parameters=NO_BOOTSTRAP)
    client.force_login(coordinator)
    text = _text(client.get(f"/graph/{study.slug}/"))
    assert f"Snapshot {snapshot.pk}," in text and "by a command or background job" in text
    assert "No edges were kept: there were no votes to count when it was built." in text
