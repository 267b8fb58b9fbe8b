"""The study report's part on arms (issue 29): each arm's participants,
completion and drop-off, and how far the arms' moral graphs agree."""

import pytest
from django.test import Client

from journey import arms_report
from studies import arms
from studies.models import Participant, Step
from tests.factories import stories_and_honest_votes


@pytest.mark.django_db
def test_the_report_compares_the_arms_graphs_built_from_their_own_voters(graph_study, coordinator):
    study, values = graph_study
    arms.add_arm(study=study, name="a", settings={})
    arms.add_arm(study=study, name="b", settings={"stories_per_participant": 6})
    _, voters = stories_and_honest_votes(study, values, voters=40, per_voter=12, seed=2)
    Participant.objects.filter(pk=voters[0].pk).update(current_step=Step.COMPLETE)

    report = arms_report.arms_report(study)
    rows = {row["arm"]: row for row in report["rows"]}
    assert set(rows) == {"a", "b"}
    assert sum(row["participants"] for row in rows.values()) == 40
    assert abs(rows["a"]["participants"] - rows["b"]["participants"]) <= 2  # blocks of two: balanced
    done = rows[voters[0].arm.name]
    assert done["completed"] == 1 and done["completion_percent"] == round(100 / done["participants"], 1)
    assert ("Choose a scenario", done["participants"] - 1) in done["stopped_at"]
    assert report["every_arm_has_a_graph"] and rows["a"]["edges"] > 0 and rows["b"]["edges"] > 0

    [comparison] = report["comparisons"]
    assert comparison["arms"] == ("a", "b") and comparison["values"] == len(values)
    # Both arms' voters judge the same way (later values wiser), so their graphs agree.
    assert comparison["tau"] > 0.5
    assert comparison["shared_edges"] > 0 and comparison["same_direction_percent"] >= 75

    browser = Client()
    browser.force_login(coordinator)
    html = browser.get(f"/admin/studies/study/{study.pk}/report/").content.decode()
    assert 'id="arms"' in html and "stories_per_participant=6" in html and "Kendall" in html


def test_comparing_graphs_with_nothing_in_common_gives_no_figures():
    a = {"scores": {1: 0.6, 2: 0.4}, "directions": {(1, 2): 1}}
    b = {"scores": {3: 0.5, 4: 0.5}, "directions": {(3, 4): 3}}
    assert arms_report.compare_graphs(a, b) == {
        "values": 0,
        "tau": None,
        "shared_edges": 0,
        "same_direction_percent": None,
    }
    flipped = {"scores": {1: 0.4, 2: 0.6}, "directions": {(1, 2): 2}}
    assert arms_report.compare_graphs(a, flipped) == {
        "values": 2,
        "tau": -1.0,
        "shared_edges": 1,
        "same_direction_percent": 0.0,
    }


@pytest.mark.django_db
def test_a_study_without_arms_has_no_arms_section(study):
    assert arms_report.arms_report(study) is None
