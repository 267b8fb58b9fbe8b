"""The offline (scripted) interviewer writes readable values cards.

Participants' answers are in data/offline_participants.json, typed the way
people type. Each interview runs through the real services and the offline
provider; the assertions are what a participant reading the card would see.
"""

import json
import re
from pathlib import Path

import pytest

from interviews.offline import requested_changes
from studies import services as journey
from tests.factories import consented_participant, run_interview
from values import contracts as card_limits

DATA = json.loads((Path(__file__).parent / "data" / "offline_participants.json").read_text())
PARTICIPANTS = {p["name"]: p for p in DATA["participants"]}

# Words that cannot open or close a title ("Whether and She's" was the bug).
FUNCTION_WORDS = set(
    """a an and or but the of to in on at for with about from by as is are was were be been it its it's
its this that these those what which who whether when where while if then than so not no very really just also i
i'm me my we our you your he his she she's her they their them there here actually because""".split()
)
POSSESSIVES = {"her", "his", "their", "my", "our", "your"}
# The paper's form: what kind of thing, in capitals, then which ("MOMENTS when ...", "QUESTIONS the child asks").
POLICY_FORM = re.compile(r"^[A-Z]{3,}(?: [A-Z]{2,}){0,2} [A-Za-z][a-z']* \S")


@pytest.fixture
def study(db):
    """Interviews reply on another thread's connection: commit for real."""
    study, _ = journey.seed_case_study()
    return study


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def _interview(study, name, *, feedback=True, pid=None):
    """(first card, latest card, participant data) after the interview and any feedback turns."""
    person = PARTICIPANTS[name]
    participant, _ = consented_participant(study, pid or f"pid-{name}")
    turns = person["answers"] + (person.get("feedback", []) if feedback else [])
    interview, _ = run_interview(participant, study.scenarios.get(key=person["scenario"]), answers=turns, submit=False)
    cards = list(interview.cards.order_by("revision"))
    assert cards, f"{name}: no card was written"
    return cards[0], cards[-1], person


def _sentences(text: str) -> list[str]:
    return [s.strip().lower() for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]


@pytest.mark.parametrize("name", sorted(PARTICIPANTS))
def test_title_is_a_short_phrase_in_the_participants_own_words(study, name):
    card, _, person = _interview(study, name, feedback=False)
    said = " ".join(_words(" ".join(person["answers"])))
    title_words = _words(card.title)
    assert 1 <= len(title_words) <= 5, card.title
    assert f" {' '.join(title_words)} " in f" {said} ", f"{card.title!r} is not a phrase {name} said"
    assert title_words[-1] not in FUNCTION_WORDS and title_words[-1] not in POSSESSIVES, card.title
    assert title_words[0] not in FUNCTION_WORDS or (title_words[0] in POSSESSIVES and title_words[1:2] == ["own"]), (
        card.title
    )
    assert " and " not in f" {card.title.lower()} ", card.title  # no two words glued with "and"
    assert card.title == " ".join(
        w[:1].upper() + w[1:] if w not in ("of", "for", "to", "in", "on", "with") else w for w in card.title.split()
    ), "capitalised like the paper's card titles"


@pytest.mark.parametrize("name", sorted(PARTICIPANTS))
def test_description_is_one_plain_sentence_about_what_they_attend_to(study, name):
    card, _, person = _interview(study, name, feedback=False)
    assert card.description.startswith("This value is about paying attention to ")
    assert card.description.endswith(".") and card.description.count(". ") == 0
    assert len(card.description) <= card_limits.DESCRIPTION_MAX
    assert not any(
        len(s.split()) >= 5 and s.rstrip(".!?") in card.description.lower()
        for a in person["answers"]
        for s in _sentences(a)
    )


@pytest.mark.parametrize("name", sorted(PARTICIPANTS))
def test_policies_are_attentional_policies_not_sentences_pasted_back(study, name):
    card, _, person = _interview(study, name, feedback=False)
    policies = card.policies
    assert 3 <= len(policies) <= 5, policies
    assert len({p.lower() for p in policies}) == len(policies), "no duplicates"
    heads = [p.split(" ")[0] for p in policies]
    assert len(set(heads)) >= 2, f"one kind of policy only: {policies}"
    sentences = [s.rstrip(".!?") for a in person["answers"] for s in _sentences(a)]
    for policy in policies:
        assert POLICY_FORM.match(policy), policy
        assert len(policy) <= card_limits.POLICY_MAX
        assert len(policy.split()) <= 14, f"too long to be a noun phrase: {policy}"
        assert not any(len(s.split()) >= 5 and s in policy.lower() for s in sentences), f"pasted back: {policy}"
        assert '"' not in policy
        # Built from their words: apart from the head and its joining word, the words are theirs.
        said = set(_words(" ".join(person["answers"])))
        own = [w for w in _words(policy.split(" ", 2)[-1]) if w not in FUNCTION_WORDS]
        assert own and sum(w in said for w in own) >= len(own) - 1, policy


def test_a_slogan_is_never_the_description_or_the_title(study):
    card, _, person = _interview(study, "maya", feedback=False)
    slogan = person["slogan"].rstrip(".").lower()
    assert slogan not in card.description.lower()
    assert "body" not in card.title.lower() and "body" not in card.description.lower()
    assert not any("body" in p.lower() for p in card.policies)
    # Her own phrases carry the card instead.
    text = " ".join([card.title, card.description, *card.policies]).lower()
    assert "informed choices" in text and "honest conversations" in text


def test_asked_title_is_the_new_title_and_the_complaint_is_not_a_policy(study):
    first, latest, _ = _interview(study, "dev")
    assert latest.revision == 2
    assert latest.title == "Curiosity before control"  # as typed, quotes stripped
    assert latest.policies == first.policies and latest.description == first.description
    assert not any(re.search(r"title|make sense|call it", p, re.I) for p in latest.policies)


def test_dropping_the_second_point_removes_it_and_keeps_the_others(study):
    first, latest, _ = _interview(study, "sam")
    assert latest.revision == 2
    assert latest.policies == first.policies[:1] + first.policies[2:]
    assert first.policies[1] not in latest.policies
    assert latest.title == first.title and latest.description == first.description


def test_added_point_becomes_a_policy_built_from_what_was_asked(study):
    first, latest, _ = _interview(study, "lee")
    assert latest.policies[: len(first.policies)] == first.policies
    added = latest.policies[len(first.policies) :]
    assert len(added) == 1 and POLICY_FORM.match(added[0]), added
    assert "context of the events" in added[0].lower() and "add something" not in added[0].lower()


def test_a_complaint_alone_changes_the_title_and_adds_no_policy(study):
    first, latest, person = _interview(study, "ruth")
    assert latest.revision == 2 and latest.title != first.title
    said = " ".join(_words(" ".join(person["answers"])))
    assert f" {' '.join(_words(latest.title))} " in f" {said} "
    assert latest.policies == first.policies
    assert not any("sense" in p.lower() or "title" in p.lower() for p in latest.policies)


def test_the_change_request_does_not_become_part_of_the_next_cards_words(study):
    # After a rename, the card keeps the same policies even though the
    # participant's request is now part of the transcript.
    first, latest, _ = _interview(study, "dev")
    assert all("curiosity before control" not in p.lower() for p in latest.policies)


def test_approval_with_a_request_changes_the_card_before_submitting(study):
    participant, _ = consented_participant(study, "pid-yes-but")
    person = PARTICIPANTS["dev"]
    interview, _ = run_interview(
        participant,
        study.scenarios.get(key=person["scenario"]),
        answers=person["answers"] + ["Yes but call it \u201cLetting Kids Lead\u201d"],
        submit=False,
    )
    latest = interview.cards.order_by("-revision").first()
    assert latest.title == "Letting Kids Lead"
    assert interview.status == interview.Status.ACTIVE  # shown again for approval, not submitted unseen


def test_the_same_answers_give_the_same_card(study):
    _, one, _ = _interview(study, "sam", pid="pid-sam-1")
    _, two, _ = _interview(study, "sam", pid="pid-sam-2")
    assert (one.title, one.description, one.policies) == (two.title, two.description, two.policies)


def test_the_interview_page_says_the_interviewer_is_offline(study):
    participant, client = consented_participant(study, "pid-notice")
    run_interview(
        participant, study.scenarios.get(key="parenting"), answers=PARTICIPANTS["dev"]["answers"][:1], submit=False
    )
    html = client.get(f"/s/{study.slug}/journey/").content.decode()
    assert 'id="offline-notice"' in html and "does not understand your answers" in html


@pytest.mark.parametrize("request_", DATA["change_requests"], ids=lambda r: r["said"][:40])
def test_change_requests_are_read_as_the_participant_meant_them(request_):
    changes = requested_changes(request_["said"])
    assert changes.title == request_.get("title")
    assert changes.drop == request_.get("drop", [])
    assert changes.add == request_.get("add", [])
    assert changes.new_title is request_.get("new_title", False)


def test_a_remark_the_script_cannot_act_on_gets_a_question_not_the_same_card_again(study):
    participant, _ = consented_participant(study, "pid-vague")
    person = PARTICIPANTS["maya"]
    interview, _ = run_interview(
        participant,
        study.scenarios.get(key=person["scenario"]),
        answers=person["answers"] + ["this doesn't really fit me"],
        submit=False,
    )
    assert interview.cards.count() == 1
    reply = interview.messages.order_by("-seq").first()
    assert reply.role == "assistant" and not reply.tool_calls
    assert "call it" in reply.content and "drop" in reply.content and "add" in reply.content
