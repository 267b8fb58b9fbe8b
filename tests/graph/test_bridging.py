"""Bridging across groups: hand-computed cases on the pure functions, then a
build from participants' votes with Prolific demographics imported."""

import pytest
from django.core.management import call_command

from graph import services
from graph.aggregation import Cell, Parameters
from graph.bridging import UNKNOWN, bridging, edge_table, find_key, group_of
from graph.models import GraphSnapshot, MoralContext, WisdomVote
from graph.reports import rank_by_policy
from tests.factories import consented_participant

PARAMS = Parameters(bootstrap_samples=0)  # min wiser 2, min likelihood 0.33, max entropy 1.69

# Edges (all kept in the pooled graph), votes per group, no impressions:
# 1 → 2: Democrats 3 yes; Republicans 3 yes 1 no           → passes in both: bridging
# 3 → 4: Democrats 4 yes; Republicans 3 no                  → Republicans: too few wiser: one-sided
# 5 → 6: Democrats 3 yes; Republicans 2 yes (under 3 votes) → one-sided at min 3, bridging at min 2
# 7 → 8: Democrats 3 yes; unknown 5 yes (context 2)         → unknown never counts: one-sided
# 9 → 10: unknown 5 yes (context 2)                          → no group alone
GROUP_CELLS = {
    "Democrat": [Cell(1, 2, 1, yes=3), Cell(3, 4, 1, yes=4), Cell(5, 6, 1, yes=3), Cell(7, 8, 2, yes=3)],
    "Republican": [Cell(1, 2, 1, yes=3, no=1), Cell(3, 4, 1, no=3), Cell(5, 6, 1, yes=2)],
    UNKNOWN: [Cell(7, 8, 2, yes=5), Cell(9, 10, 2, yes=5)],
}
EDGES = [{"source": a, "target": b} for a, b in ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10))]


def _by_pair(rows):
    return {(r["source"], r["target"]): r for r in rows}


def test_an_edge_passing_in_two_groups_bridges_and_one_failing_in_the_other_is_one_sided():
    rows = _by_pair(edge_table(GROUP_CELLS, EDGES, PARAMS, min_votes=3))
    bridge = rows[(1, 2)]
    assert bridge["kind"] == "bridging" and bridge["passing_groups"] == ["Democrat", "Republican"]
    rep = bridge["groups"]["Republican"]
    # 3 wiser, 1 not: likelihood (3 − 0) / 4; entropy of (3/4, 1/4) = 0.811 bits
    assert (rep["votes"], rep["likelihood"], rep["entropy"]) == (4, 0.75, pytest.approx(0.811278, abs=1e-6))
    assert rep["passes"] and rep["enough_votes"]
    one_sided = rows[(3, 4)]
    assert one_sided["kind"] == "one_sided" and one_sided["passing_groups"] == ["Democrat"]
    assert one_sided["groups"]["Republican"] == {
        "votes": 3,
        "wiser": 0,
        "less_wise": 0,
        "likelihood": 0.0,
        "entropy": 0.0,
        "enough_votes": True,
        "passes": False,
        "fails_because": "too_few_wiser",
    }


def test_a_group_under_the_minimum_votes_does_not_count():
    at_three = _by_pair(edge_table(GROUP_CELLS, EDGES, PARAMS, min_votes=3))[(5, 6)]
    # Republicans' 2 yes pass the thresholds (2 wiser, likelihood 1, entropy 0) but are 2 votes < 3
    assert at_three["groups"]["Republican"]["passes"] and not at_three["groups"]["Republican"]["enough_votes"]
    assert at_three["kind"] == "one_sided"
    assert _by_pair(edge_table(GROUP_CELLS, EDGES, PARAMS, min_votes=2))[(5, 6)]["kind"] == "bridging"


def test_unknowns_are_reported_but_never_make_an_edge_bridging():
    rows = _by_pair(edge_table(GROUP_CELLS, EDGES, PARAMS, min_votes=3))
    assert rows[(7, 8)]["groups"][UNKNOWN]["passes"] and rows[(7, 8)]["kind"] == "one_sided"
    assert rows[(7, 8)]["passing_groups"] == ["Democrat"]
    assert rows[(9, 10)]["kind"] == "no_group_alone" and rows[(9, 10)]["passing_groups"] == []
    # a group that never voted on the edge: no votes, does not pass
    assert rows[(9, 10)]["groups"]["Democrat"]["fails_because"] == "no_votes"
    assert list(rows[(1, 2)]["groups"]) == ["Democrat", "Republican", UNKNOWN]  # unknown last


def test_yes_votes_on_the_reverse_story_count_as_less_wise_within_the_group():
    cells = {"Independent": [Cell(1, 2, 1, yes=2), Cell(2, 1, 1, yes=2)]}
    row = edge_table(cells, [{"source": 1, "target": 2}], PARAMS, min_votes=3)[0]["groups"]["Independent"]
    # (2 wiser − 2 less wise) / 4 votes = 0
    assert (row["votes"], row["less_wise"], row["likelihood"], row["fails_because"]) == (4, 2, 0.0, "low_likelihood")
    only_reverse = edge_table({"Independent": [Cell(2, 1, 1, yes=3)]}, [{"source": 1, "target": 2}], PARAMS)
    assert only_reverse[0]["groups"]["Independent"]["less_wise"] == 3


def test_each_group_has_its_own_graph_and_winners_per_scenario():
    out = bridging(
        GROUP_CELLS,
        EDGES,
        PARAMS,
        attribute="U.s. political affiliation",
        min_votes=3,
        scenario_contexts={"10": {1}, "20": {2}},
        participants={"Democrat": 4, "Republican": 3, UNKNOWN: 5},
    )
    assert out["kinds"] == {"bridging": 1, "one_sided": 3, "no_group_alone": 1}
    assert out["groups"] == [
        {"name": "Democrat", "participants": 4, "votes": 13},
        {"name": "Republican", "participants": 3, "votes": 9},
        {"name": UNKNOWN, "participants": 5, "votes": 10},
    ]
    graphs = out["group_graphs"]
    # Republicans keep 1 → 2 and 5 → 6 only (3 → 4 has no wiser vote): 4 is not in their graph
    assert graphs["Republican"]["edges_kept"] == 2 and "4" not in graphs["Republican"]["pagerank"]
    assert set(graphs["Republican"]["winners"]["10"][:2]) == {2, 6}
    assert graphs["Democrat"]["winners"]["20"] == [8, 7]
    assert graphs[UNKNOWN]["winners"]["10"] == []  # no unknown votes in scenario 10's context


def test_answers_and_columns():
    assert group_of(None) == UNKNOWN and group_of("DATA_EXPIRED") == UNKNOWN and group_of(" ") == UNKNOWN
    assert group_of(" Democrat ") == "Democrat"
    column = "U.s. political affiliation"
    assert find_key(["Age", column], "u.s.  political affiliation") == column
    assert find_key(["Age"], "Sex") is None


# --- from votes in the database -----------------------------------------------------------


@pytest.fixture
def partisan(graph_study, tmp_path):
    """Three Democrats and three Republicans agree a → b; only Democrats
    (four) vote c → d, Republicans say no; one voter has no demographics
    and one an expired answer, both voting a → b."""
    study, values = graph_study
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.get(key="parenting"), text="When a child resists authority"
    )
    a, b, c, d = values[:4]
    party = {f"dem-{i}": "Democrat" for i in range(4)} | {f"rep-{i}": "Republican" for i in range(3)}
    party["expired"] = "DATA_EXPIRED"
    voters = {pid: consented_participant(study, pid)[0] for pid in [*party, "no-demographics"]}
    csv = "Participant id,Age,U.s. political affiliation\n" + "".join(
        f"{pid},40,{answer}\n" for pid, answer in party.items()
    )
    path = tmp_path / "prolific.csv"
    path.write_text(csv)
    call_command("import_demographics", str(path), study=study.slug)

    def vote(pid, x, y, answer):
        WisdomVote.objects.create(
            study=study, participant=voters[pid], from_value=x, to_value=y, context=context, answer=answer
        )

    for pid in ["dem-0", "dem-1", "dem-2", "rep-0", "rep-1", "rep-2", "expired", "no-demographics"]:
        vote(pid, a, b, "yes")
    for pid in ["dem-0", "dem-1", "dem-2", "dem-3"]:
        vote(pid, c, d, "yes")
    for pid in ["rep-0", "rep-1", "rep-2"]:
        vote(pid, c, d, "no")
    return study, values


def test_build_stores_bridging_with_unknowns_and_the_command_takes_the_attribute(partisan, capsys):
    study, values = partisan
    a, b, c, d = (v.pk for v in values[:4])
    snapshot = services.build_snapshot(study, parameters=PARAMS)
    data = snapshot.scores["bridging"]
    assert data["attribute"] == "U.s. political affiliation" and data["min_votes"] == 3
    assert data["groups"] == [
        {"name": "Democrat", "participants": 4, "votes": 7},
        {"name": "Republican", "participants": 3, "votes": 6},
        {"name": UNKNOWN, "participants": 2, "votes": 2},
    ]
    rows = _by_pair(data["edges"])
    # pooled c → d: 4 yes, 3 no: likelihood 4/7 = 0.57, kept; Republicans alone: 0 wiser
    assert snapshot.summary["edges_kept"] == 2
    assert rows[(a, b)]["kind"] == "bridging" and rows[(c, d)]["kind"] == "one_sided"
    assert rows[(a, b)]["groups"][UNKNOWN]["votes"] == 2
    assert data["group_graphs"]["Democrat"]["winners"]["global"][:2] == sorted([b, d])
    assert "bridging" in snapshot.stage_seconds

    # Another attribute, named in another case: everyone is aged 40 or unknown, so nothing bridges.
    call_command("build_moral_graph", study=study.slug, bootstrap_samples=0, bridging_attribute="age")
    out = capsys.readouterr().out
    assert "Bridging by 'age' (column 'Age'): 0 bridging, 2 one sided, 0 no group alone" in out
    latest = GraphSnapshot.objects.filter(study=study).order_by("-pk").first()
    assert [g["name"] for g in latest.scores["bridging"]["groups"]] == ["40", UNKNOWN]


def test_no_demographics_makes_everyone_unknown(graph_study):
    study, values = graph_study
    context = MoralContext.objects.create(study=study, scenario=study.scenarios.get(key="parenting"), text="When x")
    for i in range(3):
        p = consented_participant(study, f"v{i}")[0]
        WisdomVote.objects.create(
            study=study, participant=p, from_value=values[0], to_value=values[1], context=context, answer="yes"
        )
    data = services.build_snapshot(study, parameters=PARAMS).scores["bridging"]
    assert data["column"] is None and data["groups"] == [{"name": UNKNOWN, "participants": 3, "votes": 3}]
    assert data["kinds"] == {"bridging": 0, "one_sided": 0, "no_group_alone": 1}


# --- shown and exported ---------------------------------------------------------------------


def _edge(a, b, wiser, not_wiser=0, contexts=(1,)):
    return {
        "source": a,
        "target": b,
        "contexts": list(contexts),
        "counts": {"wiser": wiser, "not_wiser": not_wiser, "unsure": 0, "less_wise": 0, "impressions": 0},
    }


def test_top_values_are_rebuilt_under_each_cycle_policy_from_the_stored_counts():
    # a 3-cycle 1 → 2 → 3 → 1 (likelihoods 1, 0.8, 0.6) and 1 → 4 (likelihood 1)
    edges = [_edge(1, 2, 5), _edge(2, 3, 4, 1), _edge(3, 1, 3, 2), _edge(1, 4, 2)]
    ranked = rank_by_policy(
        edges,
        PARAMS.to_dict() | {"cycle_policy": "drop", "from_a_newer_build": 1},
        nodes=[1, 2, 3, 4],
        scenario_contexts={"10": {1}},
        context_ids=["1"],
        top=1,
    )
    # drop: the three cycle edges go, 1 → 4 alone is left: 4 first
    assert ranked["drop"]["edges_kept"] == 1 and ranked["drop"]["cycles"] == 1
    assert ranked["drop"]["global"] == [4] and ranked["drop"]["scenario"]["10"] == [4]
    # break_weakest: 3 → 1 (0.6) goes; 1 → 2 → 3 and 1 → 4 remain: 3 is at the end of the longer chain
    assert ranked["break_weakest"]["edges_kept"] == 3 and ranked["break_weakest"]["global"] == [3]
    # keep: all four edges, no cycle looked for
    assert ranked["keep"]["edges_kept"] == 4 and ranked["keep"]["cycles"] == 0


def test_coordinator_sees_robustness_on_the_snapshot_page_and_study_report(partisan, coordinator, client):
    study, values = partisan
    snapshot = services.build_snapshot(study, parameters=Parameters(bootstrap_samples=0, cycle_policy="keep"))
    client.force_login(coordinator)
    for url in (f"/admin/graph/graphsnapshot/{snapshot.pk}/change/", f"/admin/studies/study/{study.pk}/report/"):
        html = client.get(url).content.decode()
        assert "Other aggregators on the same votes" in html and "Kendall's τ between every two methods" in html
        assert "Top values under each cycle policy" in html and "keep (used)" in html
        assert "Bridging across groups" in html and "Democrat" in html and "Republican" in html
        assert "Of 2 kept edges: 1 bridging, 1 one-sided, 0 held by no group alone." in html
        section = html.split('<div class="robustness">')[1].split('<section class="module" id="bridging">')[1]
        assert "graph/robustness.css" in html and " style=" not in section.split("</section>")[0]


def test_exports_carry_aggregators_cycle_policy_and_bridging(partisan, tmp_path):
    import csv
    import json

    from journey.exports import export_study

    study, values = partisan
    a, b = values[0].pk, values[1].pk
    services.build_snapshot(study, parameters=Parameters(bootstrap_samples=0, cycle_policy="break_weakest"))
    export_study(study, tmp_path / "study")
    doc = json.loads((tmp_path / "study" / "moral_graph.json").read_text())
    assert doc["snapshot"]["cyclePolicy"] == "break_weakest"
    assert doc["aggregators"]["global"]["scores"]["direct_votes"][str(b)] == 8.0
    assert doc["bridging"]["attribute"] == "U.s. political affiliation"
    assert {(e["source"], e["target"], e["kind"]) for e in doc["bridging"]["edges"]} >= {(a, b, "bridging")}
    call_command("export_moral_graph", study=study.slug, format="csv", out=str(tmp_path / "csv"))
    rows = list(csv.DictReader((tmp_path / "csv" / "bridging.csv").open()))
    democrats = [r for r in rows if r["source_value_id"] == str(a) and r["group"] == "Democrat"]
    assert democrats == [
        {
            "source_value_id": str(a),
            "wiser_value_id": str(b),
            "kind": "bridging",
            "group": "Democrat",
            "votes": "3",
            "wiser": "3",
            "less_wise": "0",
            "likelihood": "1.0",
            "entropy": "0.0",
            "enough_votes": "True",
            "passes": "True",
            "fails_because": "",
        }
    ]
    scores = list(csv.DictReader((tmp_path / "csv" / "aggregators.csv").open()))
    assert {
        "scope": "global",
        "scope_id": "",
        "method": "direct_votes",
        "value_id": str(b),
        "score": "8.0",
        "rank": "1",
    } in scores
    scopes = list(csv.DictReader((tmp_path / "csv" / "aggregator_scopes.csv").open()))
    assert [s["scope"] for s in scopes] == ["global", "scenario", "context"]
