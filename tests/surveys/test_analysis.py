"""The survey's maths against hand computations (paper 5.6, Tables 3 and 4)."""

import pytest

from surveys import analysis


def test_likert_table_matches_a_hand_computation():
    rows = analysis.likert_table(
        {
            # 10 answers: one 1, one 2, two 3s, three 4s, three 5s.
            "clarify": [1, 2, 3, 3, 4, 4, 4, 5, 5, 5],
            # 7 answers: 1/7 = 14.2857.. -> 14.3; 2/7 = 28.571.. -> 28.6; 3/7 = 42.857.. -> 42.9.
            "trust_process": [1, 3, 3, 4, 5, 5, 5],
            "gained_respect": [],
        }
    )
    assert [r["key"] for r in rows] == ["clarify", "trust_process", "gained_respect"]
    clarify, trust, empty = rows
    assert clarify == {
        "key": "clarify",
        "n": 10,
        "distribution": {1: 10.0, 2: 10.0, 3: 20.0, 4: 30.0, 5: 30.0},
        "agree_3_or_more": 80.0,
        "agree_4_or_more": 60.0,
    }
    assert trust["distribution"] == {1: 14.3, 2: 0.0, 3: 28.6, 4: 14.3, 5: 42.9}
    # From the counts (6/7 = 85.714.., 4/7 = 57.142..), not from the rounded shares
    # (28.6 + 14.3 + 42.9 = 85.8 would be wrong).
    assert trust["agree_3_or_more"] == 85.7 and trust["agree_4_or_more"] == 57.1
    # Nobody answered: no percentages rather than a misleading 0%.
    assert empty["n"] == 0 and empty["agree_3_or_more"] is None and empty["distribution"][5] is None


def test_likert_table_refuses_answers_off_the_scale():
    with pytest.raises(ValueError):
        analysis.likert_table({"clarify": [0, 3]})


def test_yes_no_table_matches_a_hand_computation():
    # 8 yes, 1 no: 8/9 = 88.88.. -> 88.9, 1/9 = 11.11.. -> 11.1.
    assert analysis.yes_no_table(["yes"] * 8 + ["no"]) == {"n": 9, "yes_percent": 88.9, "no_percent": 11.1}
    assert analysis.yes_no_table([True, False]) == {"n": 2, "yes_percent": 50.0, "no_percent": 50.0}
    assert analysis.yes_no_table([]) == {"n": 0, "yes_percent": None, "no_percent": None}
    with pytest.raises(ValueError):
        analysis.yes_no_table(["maybe"])


def test_dedup_table_matches_a_hand_computation():
    # 19 well, 1 partly out of 20: 95% and 5%, the paper's 4.5 figure.
    assert analysis.dedup_table(["well"] * 19 + ["partly"]) == {
        "n": 20,
        "well_percent": 95.0,
        "partly_percent": 5.0,
        "not_percent": 0.0,
    }


def _edge(source, target, wiser, not_wiser=0, unsure=0, likelihood=0.5, kept=True):
    return {
        "source": source,
        "target": target,
        "likelihood": likelihood,
        "kept": kept,
        "reason": "" if kept else "cycle",
        "counts": {"wiser": wiser, "not_wiser": not_wiser, "unsure": unsure, "less_wise": 0, "impressions": 0},
        "contexts": [1],
    }


FIXTURE_EDGES = [
    # Moves away from value 10 (the participant's), i.e. to wiser values:
    _edge(10, 30, wiser=12, not_wiser=2, unsure=1, likelihood=0.7),
    _edge(10, 20, wiser=12, not_wiser=3, likelihood=0.6),  # same votes, lower likelihood: loses
    _edge(10, 40, wiser=50, kept=False),  # most votes but dropped from the graph
    _edge(10, 25, wiser=12, not_wiser=2, unsure=1, likelihood=0.7),  # full tie with 30: smaller id wins
    # Moves to value 10, from less wise values:
    _edge(7, 10, wiser=5, not_wiser=1, likelihood=0.5),
    _edge(3, 10, wiser=4, likelihood=0.9),  # fewer wiser votes loses despite likelihood
    # Elsewhere in the graph:
    _edge(30, 99, wiser=40),
]


def test_fairness_neighbours_pick_most_voted_kept_edges_with_tie_breaks():
    picked = analysis.fairness_neighbours(FIXTURE_EDGES, 10)
    assert (picked["wiser"]["source"], picked["wiser"]["target"]) == (10, 25)
    assert (picked["less_wise"]["source"], picked["less_wise"]["target"]) == (7, 10)
    assert analysis.judged(picked["wiser"]) == 15 and analysis.judged(picked["less_wise"]) == 6


def test_fairness_neighbours_accept_string_ids_and_may_be_missing():
    as_strings = [{**e, "source": str(e["source"]), "target": str(e["target"])} for e in FIXTURE_EDGES]
    assert analysis.fairness_neighbours(as_strings, "10")["less_wise"]["source"] == "7"
    top = analysis.fairness_neighbours(FIXTURE_EDGES, 99)
    assert top["wiser"] is None and top["less_wise"]["source"] == 30
    assert analysis.fairness_neighbours(FIXTURE_EDGES, 12345) == {"wiser": None, "less_wise": None}
