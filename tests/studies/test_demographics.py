"""Prolific's placeholders mean the same missing answer to weighting and to bridging."""

import pytest

from graph import bridging
from studies import demographics
from weights import targets


@pytest.mark.parametrize("answer", ["CONSENT_REVOKED", "DATA_EXPIRED", "", "   ", "Data Expired", None])
def test_weighting_and_bridging_both_count_a_placeholder_as_missing(answer):
    target = targets.load("us-adults")
    assert demographics.clean(answer) is None
    assert targets.category(target, "U.s. political affiliation", answer) is None
    assert bridging.group_of(answer) == bridging.UNKNOWN


def test_a_real_answer_is_kept_by_both():
    target = targets.load("us-adults")
    assert targets.category(target, "U.s. political affiliation", " Democrat ") == "Democrat"
    assert bridging.group_of(" Democrat ") == "Democrat"


def test_there_is_one_list_of_placeholders():
    assert targets.PLACEHOLDERS is demographics.PLACEHOLDERS is bridging.NO_ANSWER
