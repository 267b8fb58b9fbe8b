"""The manipulation simulator: a bloc pushes one value, the command prints
its ranks before and after and the detector's precision and recall, the
study is left as it was, and the robustness curve reaches the report."""

import re

import pytest
from django.core.management import call_command

from graph.models import GraphSnapshot, StoryAssignment, WisdomVote
from interviews.models import Interview
from journey import attack
from mgeplatform.models import DomainEvent
from studies.models import Participant
from tests.factories import stories_and_honest_votes
from values.models import ValuesCard


def _counts(study):
    return {
        "participants": Participant.objects.filter(study=study).count(),
        "votes": WisdomVote.objects.filter(study=study).count(),
        "assignments": StoryAssignment.objects.filter(participant__study=study).count(),
        "cards": ValuesCard.objects.filter(interview__participant__study=study).count(),
        "interviews": Interview.objects.filter(participant__study=study).count(),
        "snapshots": GraphSnapshot.objects.filter(study=study).count(),
        "events": DomainEvent.objects.exclude(kind="study.robustness_run").count(),
    }


@pytest.fixture
def honest_study(graph_study):
    study, values = graph_study
    stories_and_honest_votes(study, values, voters=24, per_voter=6)
    return study, values


def test_one_attack_prints_ranks_and_detection_and_leaves_the_study_as_it_was(honest_study, capsys):
    study, values = honest_study
    target = values[0]  # the least wise for the honest voters
    before = _counts(study)
    call_command(
        "simulate_attack",
        "--study",
        study.slug,
        "--target",
        str(target.pk),
        "--bloc-share",
        "0.3",
        "--strategy",
        "both",
        "--include-simulated",
        "no",
    )
    out = capsys.readouterr().out
    assert _counts(study) == before
    assert "Bloc 30%: 10 members beside 24 voters, 200 votes on 20 stories, 10 cards." in out
    printed = dict(re.findall(r"^ {4}(\S.*?) {2,}(\S+ → \S+)$", out, flags=re.M))
    assert set(printed) == {attack.method_label(m) for m in attack.methods()}
    assert "detector: 10 flagged, 10 of them in the bloc; precision 1.00, recall 1.00" in out
    run = DomainEvent.objects.get(kind="study.robustness_run", study_slug=study.slug).payload
    result = run["results"][0]
    # The honest voters put the target fifth of six; the bloc makes it first under every method,
    # unless the flagged voters are left out.
    assert result["ranks_before"]["pagerank"] == 5
    assert all(result["ranks_after"][m] == 1 for m in attack.methods() if m != attack.DEFENDED)
    assert result["ranks_after"]["pagerank_defended"] == result["ranks_before"]["pagerank"]
    assert (result["precision"], result["recall"]) == (1.0, 1.0)
    assert printed["PageRank (moral graph)"] == f"{result['ranks_before']['pagerank']} → 1"


def test_sweep_gives_the_robustness_curve_and_the_report_draws_it(honest_study, coordinator, client, capsys, tmp_path):
    study, values = honest_study
    target = values[0]
    before = _counts(study)
    svg = tmp_path / "curve.svg"
    call_command(
        "simulate_attack",
        "--study",
        study.slug,
        "--target",
        str(target.pk),
        "--sweep",
        "--include-simulated",
        "no",
        "--svg",
        str(svg),
    )
    out = capsys.readouterr().out
    assert _counts(study) == before
    assert [line.split(":")[0] for line in out.splitlines() if re.match(r"Bloc \d", line)] == [
        "Bloc 1%",
        "Bloc 5%",
        "Bloc 10%",
        "Bloc 20%",
        "Bloc 30%",
    ]
    run = attack.robustness_runs(study)[0]
    assert [r["share"] for r in run["results"]] == list(attack.SWEEP_SHARES)
    assert [r["bloc"] for r in run["results"]] == [1, 1, 3, 6, 10]  # share of the voters once added, of 24
    needed = run["share_needed"]
    assert needed["pagerank"] is not None and needed["direct_votes"] is not None
    # Every share that made it first under PageRank is at least the one reported.
    firsts = [r["share"] for r in run["results"] if r["ranks_after"]["pagerank"] == 1]
    assert needed["pagerank"] == min(firsts)
    assert f"PageRank (moral graph)             {attack.fmt_share(needed['pagerank'])}" in out
    assert svg.read_text().startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "<polyline" in svg.read_text()

    client.force_login(coordinator)
    html = client.get(f"/admin/studies/study/{study.pk}/report/").content.decode()
    assert "Robustness: how large a coordinated bloc makes a value win" in html
    assert f'id="robustness-chart-{run["event"]}"' in html and "<polyline" in html
    assert f"{target.title} (value {target.pk}), strategy votes" in html
    assert f"PageRank (moral graph): <strong>{attack.fmt_share(needed['pagerank'])}</strong>" in html


def test_a_study_without_a_run_says_so(study, coordinator, client):
    client.force_login(coordinator)
    html = client.get(f"/admin/studies/study/{study.pk}/report/").content.decode()
    assert "The simulator has not been run on this study." in html


def test_bloc_size_and_bad_input():
    assert attack.bloc_size(0.1, 90) == 10 and attack.bloc_size(0.01, 20) == 1
    with pytest.raises(attack.AttackError):
        attack.bloc_size(1.0, 10)
