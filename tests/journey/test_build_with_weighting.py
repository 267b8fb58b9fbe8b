"""The study admin's "Build the moral graph" lets the coordinator pick one of
the study's weighting runs (or none), and the build counts votes with it."""

import re
from html import unescape

from graph.models import GraphSnapshot, MoralContext, WisdomVote
from graph.tasks import build_snapshot as build_snapshot_task
from studies.models import Study
from tests.factories import consented_participant
from weights.models import ParticipantWeight, WeightingRun

TARGET = {"name": "groups", "margins": {"Group": {"A": 0.5, "B": 0.5}}}


def _text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def _votes_and_run(study, values):
    context = MoralContext.objects.create(study=study, scenario=study.scenarios.get(key="parenting"), text="Ctx")
    voters = [consented_participant(study, f"w-{i}")[0] for i in range(5)]
    for p in voters:
        WisdomVote.objects.create(
            study=study, participant=p, from_value=values[0], to_value=values[1], context=context, answer="yes"
        )
    run = WeightingRun.objects.create(study=study, target="groups", target_spec=TARGET, report={"weighted_n": 4})
    ParticipantWeight.objects.bulk_create(
        ParticipantWeight(run=run, participant=p, weight=1.0, cell="Group=A") for p in voters[:4]
    )
    return run


def _confirm(client, study, weighting):
    data = {"action": "build_moral_graph", "_selected_action": [study.pk], "apply": "build"}
    data[f"weighting_{study.pk}"] = weighting
    return client.post("/admin/studies/study/", data, follow=True)


def test_the_coordinator_chooses_a_weighting_run_and_the_snapshot_is_weighted_by_it(
    graph_study, coordinator, client, django_capture_on_commit_callbacks, monkeypatch
):
    study, values = graph_study
    run = _votes_and_run(study, values)
    queued = []
    monkeypatch.setattr(build_snapshot_task, "defer", lambda **job: queued.append(job))
    client.force_login(coordinator)

    page = client.post("/admin/studies/study/", {"action": "build_moral_graph", "_selected_action": [study.pk]})
    text = _text(page)
    assert "survey weights" in text and "none (unweighted)" in text
    assert f"Run {run.pk}: groups, trim none, 4 weighted" in text
    assert re.search(rf'<option value="{run.pk}">', page.content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(client, study, str(run.pk))
    assert f"Each vote weighted by weighting run {run.pk}" in _messages(done)
    assert queued[-1]["weighting_run_id"] == run.pk

    snapshot = GraphSnapshot.objects.get(pk=build_snapshot_task(**queued[-1]))
    assert snapshot.weighting_run_id == run.pk
    assert snapshot.weighting["left_out"]["unweighted_votes"] == 1  # the fifth voter has no weight

    with django_capture_on_commit_callbacks(execute=True):
        _confirm(client, study, "")
    assert "weighting_run_id" not in queued[-1]  # none: the unweighted graph
    plain = GraphSnapshot.objects.get(pk=build_snapshot_task(**queued[-1]))
    assert plain.weighting_run_id is None


def test_a_run_of_another_study_is_refused_and_nothing_is_built(
    graph_study, coordinator, client, django_capture_on_commit_callbacks, monkeypatch
):
    study, values = graph_study
    _votes_and_run(study, values)
    other = Study.objects.create(slug="other-study", title="Other")
    foreign = WeightingRun.objects.create(study=other, target="groups", target_spec=TARGET)
    queued = []
    monkeypatch.setattr(build_snapshot_task, "defer", lambda **job: queued.append(job))
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        done = _confirm(client, study, str(foreign.pk))
    assert f"there is no weighting run {foreign.pk} of this study" in _messages(done)
    assert not queued


def test_a_study_without_runs_offers_only_the_unweighted_build(graph_study, coordinator, client):
    study, _ = graph_study
    client.force_login(coordinator)
    page = client.post("/admin/studies/study/", {"action": "build_moral_graph", "_selected_action": [study.pk]})
    assert "no weighting run yet" in _text(page)
    assert (
        re.findall(r'<select name="weighting_\d+"[^>]*>.*?</select>', page.content.decode(), flags=re.S)[0].count(
            "<option"
        )
        == 1
    )
