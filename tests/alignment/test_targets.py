"""The alignment target read from a hand-built moral graph: per context, the
values ranked by that context's PageRank, the winner first, with the
bootstrap's rank interval."""

import pytest

from alignment import targets

pytestmark = pytest.mark.django_db


def test_the_winner_in_a_context_is_the_value_ranked_highest_there(target):
    ranked = targets.ranked_in_context(target.snapshot, target.child.pk)
    assert [v.title for v in ranked] == ["Informed autonomy", "Strict rules", "Shared wisdom"]  # top 3 only
    winner = ranked[0]
    assert winner.is_winner and winner.id == target.autonomy.pk and winner.score == 0.45
    assert winner.policies == ["CHOICES the child can make alone", "REASONS behind each family rule"]
    assert winner.interval == [1, 2]
    assert not ranked[1].is_winner and ranked[1].interval == [1, 3]
    assert ranked[2].interval is None  # the bootstrap said nothing about it


def test_a_context_the_graph_ranks_nothing_in_has_no_winner(target):
    found = targets.winners(target.snapshot, [target.child.pk, target.distress.pk])
    assert found[target.child.pk].title == "Informed autonomy"
    assert found[target.distress.pk] is None


def test_equal_scores_go_to_the_older_value_as_on_the_winners_page(target):
    snapshot = target.snapshot
    snapshot.scores = {"context": {"9": {str(target.strict.pk): 0.5, str(target.autonomy.pk): 0.5}}}
    ranked = targets.ranked_in_context(snapshot, 9)
    assert ranked[0].id == min(target.strict.pk, target.autonomy.pk)


def test_the_interval_is_the_values_rank_within_the_context_when_the_graph_has_it(target):
    from graph.models import GraphSnapshot

    old = target.snapshot  # built before per-context intervals: the global rank's, said so
    assert targets.ranked_in_context(old, target.child.pk)[0].interval_scope == "global"
    within = {
        str(target.child.pk): {
            str(target.autonomy.pk): {"rank": 1, "rank_low": 1, "rank_high": 1},
            str(target.strict.pk): {"rank": 2, "rank_low": 2, "rank_high": 4},
        }
    }
    snapshot = GraphSnapshot.objects.create(
        study=target.study,
        parameters={},
        values=old.values,
        contexts=old.contexts,
        bootstrap=old.bootstrap,
        scores={**old.scores, "context_intervals": within},
    )
    winner, second, third = targets.ranked_in_context(snapshot, target.child.pk)
    assert (winner.interval, winner.interval_scope) == ([1, 1], "context")  # not the global [1, 2]
    assert (second.interval, second.interval_scope) == ([2, 4], "context")
    assert (third.interval, third.interval_scope) == (None, "")  # no interval for it in this context


def test_a_winner_with_too_few_votes_is_marked_and_given_no_interval(target, settings):
    from tests.factories import _edge

    settings.GRAPH_MIN_VOTES_FOR_WINNER = 5
    snapshot = target.snapshot
    # Informed autonomy: 3 votes on its stories; Strict rules: 3 there and 4 more elsewhere.
    snapshot.edges = [
        _edge(target.strict, target.autonomy, wiser=2, not_wiser=1),
        _edge(target.strict, target.shared, wiser=4),
    ]
    ranked = targets.ranked_in_context(snapshot, target.child.pk)
    assert ranked[0].title == "Informed autonomy" and ranked[0].is_winner
    assert ranked[0].too_few_votes and ranked[0].votes == 3 and ranked[0].interval is None
    assert not ranked[1].too_few_votes and ranked[1].votes == 7 and ranked[1].interval == [1, 3]
