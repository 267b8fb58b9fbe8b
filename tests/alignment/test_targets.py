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
