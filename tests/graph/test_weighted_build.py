"""A moral graph built with survey weights: each vote counts with its
participant's weight (graph/weighting.py). With every weight 1 it is the
unweighted graph; up-weighting a group can change who wins; the bootstrap
resamples participants by weight; the snapshot names its run; withdrawal
still rebuilds it without the withdrawn."""

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from graph import aggregation, services, weighting
from graph.models import MoralContext, StoryAssignment, TransitionStory, WisdomVote
from journey.withdrawal import withdraw
from studies.models import Study
from tests.factories import consented_participant, stories_and_honest_votes
from weights.models import ParticipantWeight, WeightingRun

PARAMS = aggregation.Parameters(bootstrap_samples=30)
GROUP_TARGET = {"name": "groups", "margins": {"Group": {"A": 0.5, "B": 0.5}}}


def _run(study, weights: dict) -> WeightingRun:
    """A weighting run giving each participant (pk → (group, weight)) their weight."""
    run = WeightingRun.objects.create(study=study, target="groups", target_spec=GROUP_TARGET)
    ParticipantWeight.objects.bulk_create(
        ParticipantWeight(run=run, participant_id=pk, weight=w, cell=f"Group={group}")
        for pk, (group, w) in weights.items()
    )
    return run


def _vote(study, person, story, answer):
    StoryAssignment.objects.create(participant=person, story=story, position=0, shown_at=timezone.now())
    WisdomVote.objects.create(
        study=study,
        participant=person,
        from_value=story.from_value,
        to_value=story.to_value,
        context=story.context,
        story=story,
        answer=answer,
    )


def _two_camps(study, values, a_people=6, b_people=2):
    """Group A judges the move from value 0 to value 1 wiser; group B, fewer,
    the move from 1 to 0. Unweighted, value 1 wins the context."""
    first, second = values[0], values[1]
    context = MoralContext.objects.create(study=study, scenario=study.scenarios.get(key="parenting"), text="Camps")
    up = TransitionStory.objects.create(study=study, from_value=first, to_value=second, context=context, story="up")
    down = TransitionStory.objects.create(study=study, from_value=second, to_value=first, context=context, story="down")
    camps = {}
    for i in range(a_people):
        person, _ = consented_participant(study, f"camp-a-{i}")
        _vote(study, person, up, "yes")
        camps[person.pk] = "A"
    for i in range(b_people):
        person, _ = consented_participant(study, f"camp-b-{i}")
        _vote(study, person, down, "yes")
        camps[person.pk] = "B"
    return values, context, camps


def _ranked(snapshot):
    return snapshot.scores["global"], snapshot.scores["scenario"], snapshot.scores["context"]


def _top(scores):
    return weighting.top(scores)


@pytest.mark.django_db
def test_weights_all_one_give_the_unweighted_snapshot(graph_study):
    study, values = graph_study
    _, voters = stories_and_honest_votes(study, values[:4], voters=16, per_voter=8)
    run = _run(study, {p.pk: ("A", 1.0) for p in voters})
    plain = services.build_snapshot(study, parameters=PARAMS)
    weighted = services.build_snapshot(study, parameters=PARAMS, weighting=run)

    assert weighted.edges == plain.edges  # same pairs, counts, likelihoods, entropies, kept and why
    assert sum(e["kept"] for e in weighted.edges) > 0
    assert _ranked(weighted) == _ranked(plain)
    assert weighted.scores["aggregators"] == plain.scores["aggregators"]
    assert weighted.summary["votes"] == plain.summary["votes"]
    assert not any(row["differ"] for row in weighted.scores["weighting"]["winners"])
    assert weighted.weighting["left_out"]["unweighted_participants"] == 0
    assert plain.weighting_run_id is None and plain.weighting == {} and "weighting" not in plain.scores


@pytest.mark.django_db
def test_up_weighting_the_smaller_group_flips_the_winner(graph_study):
    study, made = graph_study
    values, context, camps = _two_camps(study, made)
    first, second = str(values[0].pk), str(values[1].pk)
    run = _run(study, {pk: (group, 9.0 if group == "B" else 1.0) for pk, group in camps.items()})

    plain = services.build_snapshot(study, parameters=PARAMS)
    weighted = services.build_snapshot(study, parameters=PARAMS, weighting=run)

    assert _top(plain.scores["context"][str(context.pk)]) == second
    assert _top(weighted.scores["context"][str(context.pk)]) == first
    kept = [(e["source"], e["target"]) for e in weighted.edges if e["kept"]]
    assert kept == [(values[1].pk, values[0].pk)]
    edge = next(e for e in weighted.edges if e["kept"])
    assert edge["counts"]["wiser"] == pytest.approx(18.0) and edge["counts"]["less_wise"] == pytest.approx(6.0)
    row = next(
        r for r in weighted.scores["weighting"]["winners"] if r["scope"] == "context" and r["id"] == str(context.pk)
    )
    assert row == {"scope": "context", "id": str(context.pk), "weighted": first, "unweighted": second, "differ": True}
    # The voters behind the kept edge: all eight, half of the target in each group unweighted they are 2 in 8.
    figures = weighted.scores["weighting"]["kept_edge_voters"]
    assert figures["participants"] == 8 and figures["weighted"] == 8
    assert figures["attributes"]["Group"]["B"]["sample"] == pytest.approx(0.25)
    assert figures["attributes"]["Group"]["B"]["weighted"] == pytest.approx(0.75)
    assert figures["tvd"]["Group"] == pytest.approx(0.25)
    assert figures["effective_n"] == pytest.approx((6 + 18) ** 2 / (6 + 2 * 81))


@pytest.mark.django_db
def test_participants_without_a_weight_are_left_out_and_counted(graph_study):
    study, made = graph_study
    values, context, camps = _two_camps(study, made)
    b_people = [pk for pk, g in camps.items() if g == "B"]
    run = _run(study, {pk: (g, 1.0) for pk, g in camps.items() if pk not in b_people})  # B has no weight
    snapshot = services.build_snapshot(study, parameters=PARAMS, weighting=run)
    assert snapshot.weighting["left_out"]["unweighted_participants"] == 2
    assert snapshot.weighting["left_out"]["unweighted_votes"] == 2
    assert snapshot.summary["weighting_left_out"]["unweighted_votes"] == 2
    edge = next(e for e in snapshot.edges if e["source"] == values[0].pk)
    assert edge["counts"]["less_wise"] == 0  # B's votes did not count


def test_the_weighted_bootstrap_draws_participants_in_proportion_to_weight():
    # Two voters on one cell: a "yes" with weight 3, a "no" with weight 1.
    votes = weighting.weighted_votes([("p1", 1, 2, 7, "yes"), ("p2", 1, 2, 7, "no")], [], {"p1": 3.0, "p2": 1.0})
    assert [(c.yes, c.no, c.unsure) for c in votes.cells] == [(3.0, 1.0, 0.0)]
    rng = np.random.default_rng(0)
    draws = np.array([votes.resample(rng)[0] for _ in range(4000)])
    # Each draw counts the mean weight (2), two draws per sample: the mean is the weighted count.
    assert draws.sum(axis=1) == pytest.approx(np.full(4000, 4.0))
    assert draws[:, 0].mean() == pytest.approx(3.0, abs=0.1)
    assert draws[:, 1].mean() == pytest.approx(1.0, abs=0.1)


@pytest.mark.django_db
def test_the_bootstrap_follows_the_weights(graph_study):
    study, made = graph_study
    values, context, camps = _two_camps(study, made, a_people=6, b_people=3)
    first, second = values[0].pk, values[1].pk
    run = _run(study, {pk: (g, 6.0 if g == "B" else 1.0) for pk, g in camps.items()})
    params = aggregation.Parameters(bootstrap_samples=200)
    plain = services.build_snapshot(study, parameters=params)
    weighted = services.build_snapshot(study, parameters=params, weighting=run)
    plain_ctx = plain.scores["context_intervals"][str(context.pk)]
    weighted_ctx = weighted.scores["context_intervals"][str(context.pk)]
    assert plain_ctx[str(second)]["top_share"] > 0.5
    assert weighted_ctx[str(first)]["top_share"] > 0.5
    assert weighted.weighting["bootstrap"] == weighting.BOOTSTRAP_METHOD


@pytest.mark.django_db
def test_a_weighted_snapshot_names_its_run_and_is_rebuilt_without_the_withdrawn(graph_study):
    study, made = graph_study
    Study.objects.filter(pk=study.pk).update(withdrawal_policy=Study.WithdrawalPolicy.KEEP_ANONYMISED)
    study.refresh_from_db()
    values, context, camps = _two_camps(study, made, a_people=6, b_people=3)
    run = _run(study, {pk: (g, 9.0 if g == "B" else 1.0) for pk, g in camps.items()})
    snapshot = services.build_snapshot(study, parameters=PARAMS, weighting=run)
    assert snapshot.weighting_run_id == run.pk
    assert snapshot.weighting["target"] == "groups" and snapshot.weighting["missing_policy"] == "left_out"
    assert snapshot.summary["weighting_run"] == run.pk
    assert set(camps) <= set(snapshot.contributors)

    from studies.models import Participant

    leaving = Participant.objects.get(pk=next(pk for pk, g in camps.items() if g == "B"))
    withdraw(leaving)
    rebuilt = services.rebuild_without_withdrawn(snapshot)
    assert rebuilt.supersedes_id == snapshot.pk and rebuilt.weighting_run_id == run.pk
    assert leaving.pk not in rebuilt.contributors
    edge = next(e for e in rebuilt.edges if e["source"] == values[1].pk)
    assert edge["counts"]["wiser"] == pytest.approx(18.0)  # two B voters left, weight 9 each


@pytest.mark.django_db
def test_the_build_command_takes_a_weighting_run(graph_study):
    study, made = graph_study
    values, context, camps = _two_camps(study, made)
    run = _run(study, {pk: (g, 9.0 if g == "B" else 1.0) for pk, g in camps.items()})
    out = io.StringIO()
    call_command(
        "build_moral_graph", "--study", study.slug, "--weighting", str(run.pk), "--bootstrap-samples", "10", stdout=out
    )
    text = out.getvalue()
    assert f"Weighted by run {run.pk} (groups): 8 weighted voters" in text
    assert "first weighted Value 0, unweighted Value 1" in text
    other = Study.objects.create(slug="other-study", title="Other")
    foreign = WeightingRun.objects.create(study=other, target="x")
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="another study"):
        call_command("build_moral_graph", "--study", study.slug, "--weighting", str(foreign.pk), stdout=io.StringIO())
    with pytest.raises(CommandError, match="quick"):
        call_command(
            "build_moral_graph", "--study", study.slug, "--weighting", str(run.pk), "--quick", stdout=io.StringIO()
        )


def test_weighted_counts_meet_the_thresholds_as_counts_do():
    # Sums of weights are floats: six voters of weight 1/3 sum to a hair under 2, and pass min_wiser 2.
    wiser = sum([2 / 6] * 6)
    assert wiser < 2
    cells = [aggregation.Cell(1, 2, 5, yes=wiser, no=0.0, unsure=0.0, impressions=wiser)]
    result = aggregation.build(cells, aggregation.Parameters())
    (edge,) = result.edges
    assert edge.kept and edge.counts.wiser == pytest.approx(2.0)
    assert isinstance(edge.counts.wiser, float) and edge.source == 1 and isinstance(edge.source, int)
    fewer = [aggregation.Cell(1, 2, 5, yes=1.5, no=0.0, unsure=0.0, impressions=1.5)]
    assert aggregation.build(fewer, aggregation.Parameters()).edges[0].reason == "too_few_wiser"


def test_every_aggregator_takes_weighted_wins():
    from graph import aggregators

    cells = [
        aggregation.Cell(1, 2, 5, yes=2.5, no=0.0, unsure=0.0, impressions=2.5),
        aggregation.Cell(2, 1, 5, yes=0.5, no=0.0, unsure=0.0, impressions=0.5),
    ]
    scores, _ = aggregators.rankings(cells)
    for name, ranked in scores.items():
        if name != "pagerank":
            assert ranked[2] > ranked[1], name


@pytest.mark.django_db
def test_both_snapshots_without_the_flagged_keep_the_weighting(graph_study):
    study, made = graph_study
    values, context, camps = _two_camps(study, made)
    run = _run(study, {pk: (g, 9.0 if g == "B" else 1.0) for pk, g in camps.items()})
    everyone, without = services.build_without_flagged(study, parameters=PARAMS, weighting=run)
    assert everyone.weighting_run_id == without.weighting_run_id == run.pk
    assert without.scores["coordination"]["compared_to"] == everyone.pk
    assert _top(without.scores["context"][str(context.pk)]) == str(values[0].pk)
