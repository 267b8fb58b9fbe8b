"""Raking, trimming and the representativeness figures, computed by hand."""

import pytest

from weights import raking, targets
from weights import representativeness as rep

# A 2×2 sample of 9: Sex M/F × Age Y/O with counts MY 4, MO 2, FY 2, FO 1. Its margins are
# M 6/9, Y 6/9 and its joint is their product (4/9 = 6/9 · 6/9), so raking to M 0.5, Y 0.5
# converges at once to cell shares 0.25 each: weight = n · 0.25 / count (mean 1):
# MY 9·0.25/4 = 0.5625, MO and FY 9·0.25/2 = 1.125, FO 9·0.25/1 = 2.25.
ROWS = (
    [{"Sex": "M", "Age": "Y"}] * 4
    + [{"Sex": "M", "Age": "O"}] * 2
    + [{"Sex": "F", "Age": "Y"}] * 2
    + [{"Sex": "F", "Age": "O"}]
)
MARGINS = {"Sex": {"M": 0.5, "F": 0.5}, "Age": {"Y": 0.5, "O": 0.5}}


def test_raking_a_2x2_table_gives_the_hand_computed_weights():
    w = raking.rake(ROWS, MARGINS)
    assert list(w) == pytest.approx([0.5625] * 4 + [1.125] * 4 + [2.25], abs=1e-6)


def test_trimming_caps_weights_at_the_multiple_of_the_mean():
    w = raking.rake(ROWS, MARGINS, trim=2)
    assert max(raking.rake(ROWS, MARGINS)) > 2  # untrimmed, FO is 2.25
    assert max(w) <= 2 * w.mean() + 1e-6 and w.mean() == pytest.approx(1)


def test_tvd_and_gri():
    # |0.6-0.5| + |0.2-0.3| + |0.2-0.2| = 0.2, halved: 0.1
    assert rep.tvd({"D": 0.6, "R": 0.2, "I": 0.2}, {"D": 0.5, "R": 0.3, "I": 0.2}) == pytest.approx(0.1)
    assert rep.gri({"a": 0.1, "b": 0.3}) == pytest.approx(0.8)
    assert rep.gri({"a": 0.1}, joint_tvd=0.25) == pytest.approx(0.75)


def test_kish_effective_n_and_design_effect():
    # weights 1, 1, 2: (4)² / (1+1+4) = 16/6; deff = 3 / (16/6) = 1.125
    assert rep.effective_n([1, 1, 2]) == pytest.approx(16 / 6)
    assert rep.design_effect([1, 1, 2]) == pytest.approx(1.125)


def test_placeholders_and_bands():
    t = targets.load("us-adults")
    assert targets.category(t, "Sex", "CONSENT_REVOKED") is None
    assert targets.category(t, "Sex", "DATA_EXPIRED") is None and targets.category(t, "Sex", " ") is None
    assert targets.category(t, "Age", "29") == "18-29" and targets.category(t, "Age", "65") == "65+"
    assert targets.category(t, "U.s. political affiliation", "No preference") == "Other"


def test_a_target_whose_shares_do_not_sum_to_one_is_refused():
    with pytest.raises(ValueError, match="sum to"):
        targets.from_csv("attribute,category,share\nSex,Male,0.6\nSex,Female,0.6\n", name="bad.csv")
    with pytest.raises(ValueError, match="twice"):
        targets.from_csv("attribute,category,share\nSex,Male,0.5\nSex,Male,0.5\n", name="dup.csv")
    with pytest.raises(ValueError, match="negative"):
        targets.from_csv("attribute,category,share\nSex,Male,1.2\nSex,Female,-0.2\n", name="neg.csv")
