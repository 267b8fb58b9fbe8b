"""Split scopes (graph/splits.py): a planted two-group split yields winners
per group with their intervals; a context where the groups agree is not
split; a cyclic context is split for its cyclic share; the build stores the
split contexts and the explorer shows them. Weighted bridging: the
snapshot's survey weights count in each group's verdicts."""

import pytest
from django.test import Client

from graph import services, splits
from graph.aggregation import Cell, Parameters
from graph.bridging import UNKNOWN, edge_table
from tests.split_study import planted_split
from weights.models import ParticipantWeight, WeightingRun

PARAMS = Parameters(bootstrap_samples=40)


# --- pure ----------------------------------------------------------------------------


def test_a_planted_two_group_split_gives_each_group_its_winner_with_intervals():
    # Democrats: 12 say 1 → 2 is wiser; Republicans: 6 say 2 → 1 is wiser. Pooled, 2 wins.
    cells = {
        "Democrat": [Cell(1, 2, 7, yes=12)],
        "Republican": [Cell(2, 1, 7, yes=6)],
        UNKNOWN: [Cell(2, 1, 7, yes=9)],  # never a group of its own
    }
    out = splits.detect(cells, PARAMS, [7], cyclic_shares={"7": 0.0}, pooled_winners={"7": "2"}, attribute="Party")
    split = out["context"]["7"]
    assert split["reasons"] == ["group_difference"]
    assert split["pooled_winner"] == 2
    assert split["groups"] == [
        {
            "group": "Democrat",
            "winner": 2,
            "score": pytest.approx(split["groups"][0]["score"]),
            "rank_low": 1,
            "rank_high": 1,
            "votes": 12,
        },
        {
            "group": "Republican",
            "winner": 1,
            "score": pytest.approx(split["groups"][1]["score"]),
            "rank_low": 1,
            "rank_high": 1,
            "votes": 6,
        },
    ]
    assert out["attribute"] == "Party" and out["cyclic_share_threshold"] == splits.CYCLIC_SHARE_THRESHOLD


def test_groups_that_agree_or_vote_too_little_do_not_split_a_context():
    agree = {"Democrat": [Cell(1, 2, 7, yes=12)], "Republican": [Cell(1, 2, 7, yes=6)]}
    assert splits.detect(agree, PARAMS, [7], cyclic_shares={"7": 0.0})["context"] == {}
    few = {"Democrat": [Cell(1, 2, 7, yes=12)], "Republican": [Cell(2, 1, 7, yes=4)]}  # 4 < MIN_GROUP_VOTES
    assert splits.detect(few, PARAMS, [7])["context"] == {}
    # without bootstrap samples there are no intervals, so no difference "beyond" them
    planted = {"Democrat": [Cell(1, 2, 7, yes=12)], "Republican": [Cell(2, 1, 7, yes=6)]}
    assert splits.detect(planted, Parameters(bootstrap_samples=0), [7])["context"] == {}


def test_a_cyclic_context_is_split_for_its_cyclic_share():
    out = splits.detect({}, PARAMS, [3, 4], cyclic_shares={"3": 0.8, "4": 0.1}, pooled_winners={"3": None})
    assert list(out["context"]) == ["3"]
    assert out["context"]["3"]["reasons"] == ["cyclic_share"] and out["context"]["3"]["groups"] == []


def test_weights_count_in_each_groups_bridging_verdict():
    # Republicans' 3 wiser votes pass min wiser 2 at weight 1; at 0.5 each they weigh 1.5, under it.
    plain = {"Democrat": [Cell(1, 2, 1, yes=3)], "Republican": [Cell(1, 2, 1, yes=3)]}
    weighted = {"Democrat": [Cell(1, 2, 1, yes=3 * 1.5)], "Republican": [Cell(1, 2, 1, yes=3 * 0.5)]}
    edges = [{"source": 1, "target": 2}]
    params = Parameters(bootstrap_samples=0)
    assert edge_table(plain, edges, params, min_votes=1)[0]["kind"] == "bridging"
    row = edge_table(weighted, edges, params, min_votes=1)[0]
    assert row["kind"] == "one_sided" and row["passing_groups"] == ["Democrat"]
    assert (
        row["groups"]["Republican"]["wiser"] == 1.5 and row["groups"]["Republican"]["fails_because"] == "too_few_wiser"
    )


# --- from votes in the database -------------------------------------------------------


@pytest.mark.django_db
def test_the_build_stores_the_split_and_the_explorer_shows_it(graph_study, tmp_path, coordinator):
    study, values = graph_study
    context, favoured, other, _ = planted_split(study, values, tmp_path)
    snapshot = services.build_snapshot(study, parameters=PARAMS)
    split = snapshot.scores["splits"]["context"][str(context.pk)]
    assert split["reasons"] == ["group_difference"]
    by_group = {g["group"]: g["winner"] for g in split["groups"]}
    assert by_group == {"Democrat": favoured.pk, "Republican": other.pk}
    assert split["pooled_winner"] == favoured.pk
    assert "splits" in snapshot.stage_seconds

    client = Client()
    client.force_login(coordinator)
    page = client.get(f"/graph/{study.slug}/?snapshot={snapshot.pk}").content.decode()
    assert "Split contexts (1)" in page
    assert context.text in page
    assert "groups differ: their winners differ beyond their rank intervals" in page
    assert f"<strong>Democrat</strong>: {favoured.title} (95% interval 1)" in page
    assert f"<strong>Republican</strong>: {other.title} (95% interval 1)" in page
    assert "Contested here: wise values by group" in page


@pytest.mark.django_db
def test_a_graph_whose_groups_agree_has_no_split_and_the_explorer_says_so(graph_study, tmp_path, coordinator):
    study, values = graph_study
    context, favoured, _, _ = planted_split(study, values, tmp_path, republicans_agree=True)
    snapshot = services.build_snapshot(study, parameters=PARAMS)
    assert snapshot.scores["splits"]["context"] == {}
    client = Client()
    client.force_login(coordinator)
    page = client.get(f"/graph/{study.slug}/?snapshot={snapshot.pk}").content.decode()
    assert "Split contexts (0)" in page and "No context is split: one winner stands in each." in page
    assert "splits-table" not in page
    quick = services.build_snapshot(study, quick=True)
    assert "splits" not in quick.scores and "splits" in quick.summary["skipped_stages"]
    assert "Split contexts" not in client.get(f"/graph/{study.slug}/?snapshot={quick.pk}").content.decode()


@pytest.mark.django_db
def test_a_weighted_build_weights_bridging_and_the_group_winners(graph_study, tmp_path):
    study, values = graph_study
    context, favoured, other, groups = planted_split(study, values, tmp_path)
    plain = services.build_snapshot(study, parameters=PARAMS)
    # Republicans weighted down to a sixth: their 6 wiser votes on other → favoured weigh 1 (< min wiser 2).
    spec = {"name": "party", "margins": {"Party": {"Democrat": 0.5, "Republican": 0.5}}}
    run = WeightingRun.objects.create(study=study, target="party", target_spec=spec)
    ParticipantWeight.objects.bulk_create(
        ParticipantWeight(run=run, participant_id=pk, weight=1 / 6 if g == "Republican" else 1.0, cell=f"Party={g}")
        for pk, g in groups.items()
    )
    weighted = services.build_snapshot(study, parameters=PARAMS, weighting=run)

    # The kept edge other → favoured: the Republicans' wiser votes on the reverse weigh a sixth as much.
    def republicans(snapshot):
        [edge] = snapshot.scores["bridging"]["edges"]
        return edge["groups"]["Republican"]

    assert republicans(plain)["less_wise"] == 6 and republicans(weighted)["less_wise"] == pytest.approx(1.0)
    assert plain.scores["bridging"]["weighted"] is False and weighted.scores["bridging"]["weighted"] is True
    rep_plain = plain.scores["bridging"]["group_graphs"]["Republican"]
    rep_weighted = weighted.scores["bridging"]["group_graphs"]["Republican"]
    assert rep_plain["edges_kept"] == 1 and rep_weighted["edges_kept"] == 0
    groups_plain = {g["name"]: g["votes"] for g in plain.scores["bridging"]["groups"]}
    groups_weighted = {g["name"]: g["votes"] for g in weighted.scores["bridging"]["groups"]}
    assert groups_plain["Republican"] == 6 and groups_weighted["Republican"] == pytest.approx(1.0)
    assert groups_weighted["Democrat"] == groups_plain["Democrat"] == 12
    # With the Republicans' graph empty, only the Democrats rank a winner: no longer split.
    assert str(context.pk) in plain.scores["splits"]["context"]
    assert weighted.scores["splits"]["context"] == {} and weighted.scores["splits"]["weighted"] is True
