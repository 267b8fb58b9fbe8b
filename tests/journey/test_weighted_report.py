"""Survey weights in the study report and the export: Tables 3 and 4 weighted
beside the unweighted figures, and the latest weighted snapshot's winners
against the unweighted ones with the voters behind its kept edges."""

import csv

import pytest
from django.utils import timezone

from graph import aggregation, interchange, services
from graph.models import MoralContext, StoryAssignment, TransitionStory, WisdomVote
from journey import exports
from surveys import analysis, selectors
from surveys import services as survey_services
from surveys.models import SurveyItem, SurveyResponse
from tests.factories import at_step, consented_participant, full_answers
from weights.models import ParticipantWeight, WeightingRun

TARGET = {"name": "groups", "margins": {"Group": {"A": 0.5, "B": 0.5}}}


def _run(study, people: dict) -> WeightingRun:
    run = WeightingRun.objects.create(study=study, target="groups", target_spec=TARGET)
    ParticipantWeight.objects.bulk_create(
        ParticipantWeight(run=run, participant=p, weight=w, cell=f"Group={g}") for p, (g, w) in people.items()
    )
    return run


def test_weighted_tables_by_hand():
    rows = analysis.weighted_likert_table({"clarify": [(5, 3.0), (1, 1.0)]})
    assert rows[0]["distribution"] == {1: 25.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 75.0}
    assert (rows[0]["n"], rows[0]["weight_total"], rows[0]["agree_3_or_more"]) == (2, 4.0, 75.0)
    assert analysis.weighted_yes_no_table([("yes", 1.0), ("no", 3.0)]) == {
        "n": 2,
        "weight_total": 4.0,
        "yes_percent": 25.0,
        "no_percent": 75.0,
    }


@pytest.fixture
def surveyed(study):
    """Three who agree (5) weighted 1 and one who disagrees (1) weighted 9;
    a fifth answers 5 and has no weight. Fairness: the three say yes, the heavy one no."""
    bank = survey_services.ensure_default_bank(study)
    fair = SurveyItem.objects.get(bank=bank, kind=SurveyItem.Kind.FAIRNESS)
    people = {}
    for i, (answer, group, weight) in enumerate([("5", "A", 1.0)] * 3 + [("1", "B", 9.0)]):
        p, _ = at_step(study, f"weighted-{i}")
        survey_services.submit_survey(participant=p, bank=bank, answers=full_answers(answer))
        SurveyResponse.objects.create(participant=p, item=fair, answer="yes" if answer == "5" else "no")
        people[p] = (group, weight)
    loose, _ = at_step(study, "no-weight")
    survey_services.submit_survey(participant=loose, bank=bank, answers=full_answers("5"))
    return study, _run(study, people)


def test_tables_3_and_4_weighted_and_unweighted(surveyed):
    study, run = surveyed
    plain = {r["key"]: r for r in selectors.legitimacy_table(study)}
    weighted = selectors.weighted_legitimacy_table(study, run)
    row = next(r for r in weighted["rows"] if r["key"] == "clarify")
    assert plain["clarify"]["agree_3_or_more"] == 80.0  # 4 of 5
    assert row["agree_3_or_more"] == 25.0 and row["n"] == 4  # 3 of 12 by weight; the unweighted fifth left out
    assert weighted["left_out_participants"] == 1
    assert selectors.fairness_table(study)["yes_percent"] == 75.0
    fair = selectors.weighted_fairness_table(study, run)
    assert fair["yes_percent"] == 25.0 and fair["n"] == 4


def test_the_report_and_the_export_show_both(surveyed, client, coordinator, tmp_path):
    study, run = surveyed
    client.force_login(coordinator)
    html = client.get(f"/admin/studies/study/{study.pk}/report/").content.decode()
    assert 'id="table3-weighted"' in html and f"weighting run {run.pk}" in html
    assert '<td class="weighted"><strong>25.0%</strong></td>' in html
    assert "Weighted (run" in html and "yes 25.0%" in html
    assert "No weighted snapshot yet" in html

    written = exports.export_study(study, tmp_path)
    assert written["survey_tables_weighted.csv"] > 1
    with open(tmp_path / "survey_tables_weighted.csv", newline="") as f:
        rows = {(r["table"], r["item"]): r for r in csv.DictReader(f)}
    clarify = rows[("3", "clarify")]
    assert (clarify["agree_3_or_more"], clarify["weighted_agree_3_or_more"]) == ("80.0", "25.0")
    assert clarify["left_out_no_weight"] == "1"
    assert (rows[("4", "fairness")]["yes_percent"], rows[("4", "fairness")]["weighted_yes_percent"]) == ("75.0", "25.0")


def test_the_report_and_the_snapshot_page_compare_the_winners(graph_study, client, coordinator):
    study, values = graph_study
    context = MoralContext.objects.create(study=study, scenario=study.scenarios.get(key="parenting"), text="Camps")
    up = TransitionStory.objects.create(
        study=study, from_value=values[0], to_value=values[1], context=context, story="up"
    )
    down = TransitionStory.objects.create(
        study=study, from_value=values[1], to_value=values[0], context=context, story="down"
    )
    people = {}
    for i, (story, group, weight) in enumerate([(up, "A", 1.0)] * 6 + [(down, "B", 9.0)] * 2):
        p, _ = consented_participant(study, f"camp-{i}")
        StoryAssignment.objects.create(participant=p, story=story, position=0)
        StoryAssignment.objects.filter(participant=p).update(shown_at=timezone.now())
        WisdomVote.objects.create(
            study=study,
            participant=p,
            from_value=story.from_value,
            to_value=story.to_value,
            context=context,
            story=story,
            answer="yes",
        )
        people[p] = (group, weight)
    run = _run(study, people)
    snapshot = services.build_snapshot(study, parameters=aggregation.Parameters(bootstrap_samples=10), weighting=run)
    document = interchange.snapshot_document(snapshot)["weighting"]
    assert document["run"] == run.pk and document["target"] == "groups"
    assert [r["differ"] for r in document["winners"] if r["scope"] == "context" and r["id"] == str(context.pk)] == [
        True
    ]
    client.force_login(coordinator)
    for url in (f"/admin/studies/study/{study.pk}/report/", f"/admin/graph/graphsnapshot/{snapshot.pk}/change/"):
        html = client.get(url).content.decode()
        assert f"Weighted by weighting run {run.pk}" in html, url
        assert (
            '<tr class="differs"><td>Camps</td><td>Value 0</td><td>Value 1</td><td><strong>yes</strong></td></tr>'
            in html
        )
        assert "8 participants answered on the pairs of the kept edges" in html
        assert "TVD 0.250 → 0.250" in html  # 2 of 8 in B unweighted, 18 of 24 weighted: 0.25 off either way
