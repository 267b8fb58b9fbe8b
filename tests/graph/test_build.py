"""Building a snapshot from participants' votes: SQL counts, merged values,
simulated participants, stored parameters and reasons, the admin report."""

import pytest
from django.db import DatabaseError, transaction

from graph import aggregation, services
from graph.models import GraphSnapshot, MoralContext, WisdomVote
from studies.models import Participant
from tests.factories import consented_participant
from values import services as value_services


def _vote(study, participant, a, b, context, answer):
    return WisdomVote.objects.create(
        study=study, participant=participant, from_value=a, to_value=b, context=context, answer=answer
    )


@pytest.fixture
def voted(graph_study):
    study, values = graph_study
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.get(key="parenting"), text="When a child resists authority"
    )
    voters = [consented_participant(study, f"voter-{i}")[0] for i in range(5)]
    a, b, c, d = values[:4]
    for p in voters[:4]:
        _vote(study, p, a, b, context, "yes")  # a → b: 4 wiser
    _vote(study, voters[4], a, b, context, "no")
    _vote(study, voters[0], b, c, context, "yes")  # b → c: only 1 wiser
    for p in voters[:3]:
        _vote(study, p, c, d, context, "yes")
    return study, values, context, voters


def test_snapshot_counts_votes_and_keeps_parameters_and_reasons(voted):
    study, values, context, _ = voted
    a, b, c, d = (str(v.pk) for v in values[:4])
    snapshot = services.build_snapshot(study, parameters=aggregation.Parameters(bootstrap_samples=20))
    edges = {(str(e["source"]), str(e["target"])): e for e in snapshot.edges}
    assert edges[(a, b)]["counts"] == {"wiser": 4, "not_wiser": 1, "unsure": 0, "less_wise": 0, "impressions": 0}
    assert edges[(a, b)]["kept"] and edges[(c, d)]["kept"]
    assert edges[(b, c)]["reason"] == "too_few_wiser"
    assert snapshot.parameters == aggregation.Parameters(bootstrap_samples=20).to_dict()
    assert snapshot.summary["votes"] == 9 and snapshot.summary["edges_kept"] == 2
    assert set(snapshot.stage_seconds) == {
        "sql_aggregation",
        "coordination",
        "filtering",
        "pagerank",
        "bootstrap",
        "context_bootstrap",
        "aggregators",
        "bridging",
        "splits",
        "lineage",
    }
    within = snapshot.scores["context_intervals"][str(context.pk)]  # the rank interval within the context
    assert set(within) == {a, b, c, d}
    assert all(i["rank_low"] <= i["rank"] <= i["rank_high"] for i in within.values())
    scores = snapshot.scores["global"]
    assert scores[b] > scores[a] and scores[d] > scores[c]
    scenario_id = str(context.scenario_id)
    assert set(snapshot.scores["scenario"][scenario_id]) == {a, b, c, d}
    assert snapshot.bootstrap[b]["rank_low"] <= snapshot.bootstrap[b]["rank"] <= snapshot.bootstrap[b]["rank_high"]
    # Append-only: a published snapshot cannot be edited.
    with pytest.raises(DatabaseError), transaction.atomic():
        GraphSnapshot.objects.filter(pk=snapshot.pk).update(summary={})


def test_votes_on_a_merged_value_count_for_the_value_it_lives_on(voted):
    study, values, context, voters = voted
    a, b, c, d = values[:4]
    # d is merged into b: c → d votes become c → b votes.
    value_services.merge_canonical_values(keep=b, merge=[d])
    snapshot = services.build_snapshot(study, parameters=aggregation.Parameters(bootstrap_samples=0))
    edges = {(e["source"], e["target"]): e for e in snapshot.edges}
    assert edges[(c.pk, b.pk)]["counts"]["wiser"] == 3
    assert str(d.pk) not in snapshot.values


def test_simulated_participants_are_left_out_unless_asked(voted):
    study, values, context, voters = voted
    Participant.objects.filter(pk__in=[p.pk for p in voters[:3]]).update(simulated=True)
    real = services.build_snapshot(study, parameters=aggregation.Parameters(bootstrap_samples=0))
    everyone = services.build_snapshot(
        study, parameters=aggregation.Parameters(bootstrap_samples=0), include_simulated=True
    )
    assert real.summary["votes"] == 2 and everyone.summary["votes"] == 9
    assert everyone.include_simulated and not real.include_simulated


def test_coordinator_reads_winners_and_dropped_edges_in_the_admin(voted, coordinator, client):
    study, values, _, _ = voted
    snapshot = services.build_snapshot(study, parameters=aggregation.Parameters(bootstrap_samples=10))
    client.force_login(coordinator)
    page = client.get(f"/admin/graph/graphsnapshot/{snapshot.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Winning values per scenario" in html and values[1].title in html
    assert "Dropped edges (1)" in html and aggregation.REASONS["too_few_wiser"] in html
    download = client.get(f"/admin/graph/graphsnapshot/{snapshot.pk}/export/json/")
    assert download.status_code == 200 and download["Content-Disposition"].endswith('.json"')


def test_snapshot_stores_the_other_aggregators_and_the_cycle_policy(voted, coordinator, client):
    study, values, context, _ = voted
    a, b, c, d = (v.pk for v in values[:4])
    params = aggregation.Parameters(bootstrap_samples=0, cycle_policy="break_weakest")
    snapshot = services.build_snapshot(study, parameters=params)
    assert snapshot.parameters["cycle_policy"] == "break_weakest"
    others = snapshot.scores["aggregators"]["global"]
    # yes votes: b beat a 4 times, c beat b once, d beat c 3 times; "no" is no comparison
    assert others["scores"]["direct_votes"] == {str(a): 0.0, str(b): 4.0, str(c): 1.0, str(d): 3.0}
    assert others["cyclic_share"] == 0.0  # a chain: fully explained by an order
    assert others["tau"]["bradley_terry|hodgerank"] == 1.0  # both read the chain a < b < c < d
    # b and d lead PageRank (the two kept edges' wiser ends) and are in every other method's top 3
    assert set(others["robust_winners"]) == {b, d}
    assert set(snapshot.scores["aggregators"]["scenario"]) == {str(context.scenario_id)}
    client.force_login(coordinator)
    html = client.get(f"/admin/graph/graphsnapshot/{snapshot.pk}/change/").content.decode()
    assert "Other aggregators on the same votes" in html and "Bradley–Terry" in html
    assert aggregation.CYCLE_POLICY_TEXT["break_weakest"] in html
