"""The scripted (offline) interviewer with participants who say little, or
not in English: it never loops, always reaches a card, keeps their letters,
and never makes a value out of "dunno".

Each interview runs through the real services and the offline provider; the
assertions are what the participant (or the coordinator reading the card)
would see."""

import re

import pytest

from interviews.models import ChatMessage, Interview
from interviews.offline import FORCE_CARD_AT, MAX_NUDGES_AFTER_CARD
from tests.factories import consented_participant, run_interview

pytestmark = pytest.mark.django_db

FILLER = {"dunno", "ok", "okay", "idk", "idea", "yes", "k"}


def _interview(study, pid, answers, scenario="parenting"):
    participant, _ = consented_participant(study, pid)
    interview, events = run_interview(participant, study.scenarios.get(key=scenario), answers=answers, submit=False)
    return interview, events


def _said(interview, text) -> int:
    return interview.messages.filter(role=ChatMessage.Role.ASSISTANT, content__contains=text).count()


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def test_a_terse_participant_gets_a_card_within_a_few_turns_and_is_never_asked_in_a_loop(study):
    terse = ["dunno", "ok", "idk", "no idea", "k"]
    assert len(terse) == FORCE_CARD_AT
    interview, events = _interview(study, "pid-terse", terse)

    card = interview.cards.order_by("-revision").first()
    assert card is not None, "five turns of filler and still no card"
    assert any(e["type"] == "card_shown" for e in events)
    # The interviewer announced a card at most twice (it once said so 15 times with nothing written).
    assert _said(interview, "Let me write it up as a card") <= 1
    assert interview.messages.filter(role=ChatMessage.Role.TOOL, content__startswith="MORE NEEDED").count() <= 1
    # A generic card that says it is scripted, with nothing of "dunno" in it.
    assert "scripted" in card.description.lower()
    assert not FILLER & _words(card.title + " " + " ".join(card.policies))
    assert card.scripted


def test_a_terse_participant_who_never_approves_the_card_still_moves_on(study):
    answers = ["dunno", "ok", "idk", "no idea", "k"] + ["dunno"] * (MAX_NUDGES_AFTER_CARD + 1)
    interview, events = _interview(study, "pid-terse-after", answers)

    assert interview.status == Interview.Status.SUBMITTED
    assert any(e["type"] == "submitted" for e in events)
    interview.participant.refresh_from_db()
    assert interview.participant.current_step != "interview"
    # The explanation of how to change the card was given a bounded number of times, not once a turn for ever.
    assert _said(interview, "Or, if the card fits, just say so") == MAX_NUDGES_AFTER_CARD


def test_ok_after_the_card_is_an_approval(study):
    interview, events = _interview(study, "pid-terse-ok", ["dunno", "ok", "idk", "no idea", "k", "ok"])
    assert interview.status == Interview.Status.SUBMITTED
    assert _said(interview, "Or, if the card fits") == 0


def test_tool_call_ids_are_unique_across_turns(study):
    interview, _ = _interview(study, "pid-terse-ids", ["dunno", "ok", "idk", "no idea", "k", "ok"])
    ids = [c["id"] for m in interview.messages.filter(role=ChatMessage.Role.ASSISTANT) for c in m.tool_calls]
    assert len(ids) >= 3  # a card asked for twice, then submitted
    assert len(ids) == len(set(ids)), ids
    # Every tool result answers its own call.
    results = list(interview.messages.filter(role=ChatMessage.Role.TOOL).values_list("tool_call_id", flat=True))
    assert sorted(results) == sorted(ids)


def test_accents_and_other_letters_are_kept(study):
    said = "Lo que más me importa es la dignidad"
    interview, _ = _interview(study, "pid-accents", [said, "dunno", "ok", "idk", "no sé, de verdad"])
    card = interview.cards.order_by("-revision").first()
    text = card.title + " " + card.description + " " + " ".join(card.policies)
    assert "más" in text and "dignidad" in text, text
    assert not re.search(r"\bM\b", card.title), card.title  # "Lo Que M" was the bug
    assert "más" in card.title.lower()


def test_filler_amid_real_answers_never_becomes_the_title_or_a_policy(study):
    answers = [
        "dunno",
        "ok",
        "I care that my kids feel safe and listened to at home, and that their questions get real answers.",
        "idk",
        "yes",
    ]
    interview, _ = _interview(study, "pid-filler-mixed", answers)
    card = interview.cards.order_by("-revision").first()
    assert card is not None
    assert not FILLER & _words(card.title), card.title
    for policy in card.policies:
        assert not FILLER & _words(policy), policy
    assert "scripted" not in card.description.lower(), "there was something to go on: not the generic card"
