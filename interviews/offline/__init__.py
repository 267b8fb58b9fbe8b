"""Offline scripts for the interview prompts (see mgeplatform.llm.providers.offline).

A deterministic interviewer that follows the prompt's strategy sequence
(similar choices, underlying good, the participant's history, role models),
and an articulator that assembles a card from the participant's own phrases
(slogans left out) and makes the changes they ask for in chat ("call it ...",
"drop the second point", "add ..."). Good enough to run a whole study with no
API key; it is not a model, and the interview page says so.

- `interviewer`: the interviewer's turns and when it shows a card;
- `phrases`: the word tables and the reading of a transcript into a card;
- `revisions`: the articulator, the changes asked for in chat, expected and generic cards;
- `raters`: the grader and the analysis raters, and `register()`.
"""

from interviews.offline.interviewer import MAX_NUDGES_AFTER_CARD, interviewer
from interviews.offline.phrases import compose_card, is_filler, is_slogan
from interviews.offline.raters import expert_rater, grader, ideology_rater, register
from interviews.offline.revisions import (
    CARD_AT,
    FORCE_CARD_AT,
    articulator,
    expect_card,
    generic_card,
    requested_changes,
    revise_card,
)

__all__ = [
    "CARD_AT",
    "FORCE_CARD_AT",
    "MAX_NUDGES_AFTER_CARD",
    "articulator",
    "compose_card",
    "expect_card",
    "expert_rater",
    "generic_card",
    "grader",
    "ideology_rater",
    "interviewer",
    "is_filler",
    "is_slogan",
    "register",
    "requested_changes",
    "revise_card",
]
