"""Coordination detection in a graph build, through the real services: the
flagged are listed with evidence, and a second snapshot leaves them out,
says so, and shows how the winners moved."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from graph import aggregation, reports, services
from graph.models import GraphSnapshot, StoryAssignment, WisdomVote
from tests.factories import consented_participant, stories_and_honest_votes

BLOC = 12
PARAMS = aggregation.Parameters(bootstrap_samples=0)


@pytest.fixture
def bloc_study(graph_study):
    """24 honest voters, and a bloc of 12 who are shown and judge every story
    touching the least wise value its way, within seconds of each other."""
    study, values = graph_study
    stories, honest = stories_and_honest_votes(study, values)
    target = values[0]
    bloc = [consented_participant(study, f"bloc-{i}")[0] for i in range(BLOC)]
    burst = timezone.now() - timedelta(hours=3)
    touching = [s for s in stories if target.pk in (s.from_value_id, s.to_value_id)]
    for m, person in enumerate(bloc):
        StoryAssignment.objects.bulk_create(
            [
                StoryAssignment(participant=person, story=story, position=n, shown_at=burst + timedelta(seconds=60 * n))
                for n, story in enumerate(touching)
            ]
        )
        for n, story in enumerate(touching):
            vote = WisdomVote.objects.create(
                study=study,
                participant=person,
                from_value=story.from_value,
                to_value=story.to_value,
                context=story.context,
                story=story,
                answer="yes" if story.to_value_id == target.pk else "no",
            )
            WisdomVote.objects.filter(pk=vote.pk).update(created_at=burst + timedelta(seconds=60 * n + m))
    return study, values, target, {str(p.pk) for p in bloc}, {str(p.pk) for p in honest}, len(touching)


def test_every_build_lists_the_bloc_with_evidence(bloc_study):
    study, _, _, bloc, honest, touching = bloc_study
    snapshot = services.build_snapshot(study, parameters=PARAMS)
    found = {f["participant"]: f for f in snapshot.scores["coordination"]["flagged"]}
    assert set(found) == bloc
    assert snapshot.summary["flagged_participants"] == BLOC and snapshot.summary["excluded_participants"] == 0
    partner = found[sorted(bloc)[0]]["partners"][0]
    assert partner["partner"] in bloc and partner["shared"] == partner["agreements"] == touching
    assert partner["signals"] == ["agreement", "timing"] and partner["co_timed"] == touching
    assert snapshot.summary["votes"] == 24 * 6 + BLOC * touching  # nothing left out of this one


def test_excluding_the_flagged_builds_a_second_snapshot_with_a_winners_diff(bloc_study, auditor, client):
    study, values, target, bloc, _, touching = bloc_study
    everyone, without = services.build_without_flagged(study, parameters=PARAMS)
    assert GraphSnapshot.objects.filter(study=study).count() == 2
    excluded = without.scores["coordination"]["excluded"]
    assert {e["participant"] for e in excluded} == bloc
    assert all(e["reason"].startswith("coordinated voting: in group 1") for e in excluded)
    assert without.summary["excluded_participants"] == BLOC
    assert without.summary["votes"] == everyone.summary["votes"] - BLOC * touching
    assert without.scores["coordination"]["compared_to"] == everyone.pk
    # The bloc made the least wise value first; without it, it is not.
    scenario = str(study.scenarios.get(key="parenting").pk)
    first = {
        name: max(s.scores["scenario"][scenario].items(), key=lambda kv: kv[1])[0]
        for name, s in (("everyone", everyone), ("without", without))
    }
    assert first["everyone"] == str(target.pk) and first["without"] != str(target.pk)
    diff = {block["title"]: block for block in reports.winners_diff(everyone, without)}
    parenting = diff[study.scenarios.get(key="parenting").title]
    assert parenting["winner_changed"]
    row = next(r for r in parenting["rows"] if r["id"] == target.pk)
    assert row["before"] == 1 and row["after"] > 1

    # Auditors see who was flagged, with the evidence, who was left out and why, and the diff.
    client.force_login(auditor)
    html = client.get(f"/admin/graph/graphsnapshot/{without.pk}/change/").content.decode()
    assert f"Coordinated voting ({BLOC} participants flagged, {BLOC} left out of this snapshot)" in html
    assert "Left out of this snapshot, and why" in html and excluded[0]["reason"][:40] in html
    assert f"/admin/studies/participant/{sorted(bloc)[0]}/change/" in html
    assert "the first place changed" in html and f"snapshot {everyone.pk}" in html
    html = client.get(f"/admin/graph/graphsnapshot/{everyone.pk}/change/").content.decode()
    assert f"Coordinated voting ({BLOC} participants flagged)" in html and "counted</td>" in html


def test_build_command_with_exclude_flagged_prints_who_and_how_winners_moved(bloc_study, capsys):
    study, _, target, bloc, _, _ = bloc_study
    call_command("build_moral_graph", "--study", study.slug, "--exclude-flagged", "--bootstrap-samples", "0")
    out = capsys.readouterr().out
    assert f"Left out {BLOC} flagged participant(s):" in out
    assert all(pid in out for pid in bloc)
    assert "(first place changed)" in out and f"{target.title} 1 →" in out


def test_no_one_is_flagged_or_left_out_without_a_bloc(graph_study):
    study, values = graph_study
    stories_and_honest_votes(study, values, voters=30, per_voter=8, seed=3)
    everyone, without = services.build_without_flagged(study, parameters=PARAMS)
    assert everyone.scores["coordination"]["flagged"] == []
    assert without.scores["coordination"]["excluded"] == [] and without.summary["votes"] == everyone.summary["votes"]
    assert all(not block["winner_changed"] for block in reports.winners_diff(everyone, without))


def test_the_exports_carry_who_was_flagged_and_left_out(bloc_study, tmp_path):
    import csv
    import json

    from graph import interchange

    study, _, _, bloc, _, touching = bloc_study
    _, without = services.build_without_flagged(study, parameters=PARAMS)
    interchange.write_json(without, tmp_path / "graph.json")
    doc = json.loads((tmp_path / "graph.json").read_text())
    assert {f["participant"] for f in doc["coordination"]["flagged"]} == bloc
    assert {e["participant"] for e in doc["coordination"]["excluded"]} == bloc
    interchange.write_csv(without, tmp_path / "csv")
    rows = list(csv.DictReader((tmp_path / "csv" / "coordination.csv").open()))
    assert {r["participant_id"] for r in rows} == bloc
    assert all(r["left_out"] == "True" and r["left_out_because"].startswith("coordinated voting") for r in rows)
    assert all(r["strongest_partner"] in bloc and r["same_answers"] == str(touching) for r in rows)
