"""The offline articulator: the changes a participant asks for in chat, expected and generic cards."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from interviews import contracts as card_limits
from interviews.offline.phrases import (
    APPROVAL,
    FUNCTION_WORDS,
    LETTERS,
    _distinct,
    _fit,
    _how_clauses,
    _norm,
    _phrases_in,
    _ranked,
    _theirs,
    _when_clauses,
    compose_card,
    is_filler,
    policy_for,
)
from mgeplatform.llm.types import ChatRequest, ToolCall

# The interviewer asks for a card at this participant turn, and the card writer always writes one from the
# turn after (FORCE_CARD_AT): a terse participant reaches a card, whatever they type.
CARD_AT = 4
FORCE_CARD_AT = CARD_AT + 1


# --- the participant's requests to change the card ---------------------------------

QUOTED = re.compile(
    r"[\"\u201c\u201d]([^\"\u201c\u201d]{2,120})[\"\u201c\u201d]|(?:^|(?<=\s))['\u2018]([^'\u2019]"
    r"{2,120}?)['\u2019](?=$|[\s.,!?;])"
)
RENAME = re.compile(
    r"\b(?:call(?:ed)?\s+(?:it|this|the card|the value)|name\s+(?:it|this)|rename(?:d)?(?:\s+it)?"
    r"|retitle(?:\s+it)?|title\s+(?:should|could|would|might|must)\s+be|title\s+(?:to|as|is)"
    r"|(?:change|make|set)\s+the\s+(?:title|name)(?:\s+(?:to|into))?|title\s*:)\s*(?:to\s+|as\s+)?"
    r"(.+)",
    re.I,
)
DROP = re.compile(
    r"\b(?:drop|remove|delete|take (?:\w+ ){0,3}out|get rid of|cut|scrap|lose|leave (?:\w+ ){0,3}out)"
    r"\b(.*)",
    re.I,
)
ADD = re.compile(
    r"\b(?:add|include|put in|also (?:attend to|pay attention to|notice|consider|look at|care about|"
    r"mention))\b\s*(.+)",
    re.I,
)
ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "sixth": 5,
    "6th": 5,
    "last": -1,
    "final": -1,
}
COMPLAINT = re.compile(
    r"\b(doesn'?t|does not|don'?t|isn'?t|not|no|makes? no)\b.{0,20}\b(sense|fit|right|work|me|"
    r"good)\b|\b(weird|wrong|odd|off|confusing|strange|awkward|bad|vague|meaningless)\b",
    re.I,
)


@dataclass
class Changes:
    """What a participant asked to change about the card."""

    title: str | None = None
    drop: list[int | str] = field(default_factory=list)  # positions, or words of the point to drop
    add: list[str] = field(default_factory=list)
    new_title: bool = False  # a complaint about the title, with no new title given

    def __bool__(self) -> bool:
        return bool(self.title or self.drop or self.add or self.new_title)


def _requested_title(rest: str) -> str | None:
    quoted = QUOTED.search(rest)
    title = (quoted.group(1) or quoted.group(2)) if quoted else re.split(r"[.!?;]|\s+(?:instead|please)\b", rest)[0]
    title = re.sub(r"^(?:something like|maybe|just|simply)\s+", "", title.strip(), flags=re.I)
    title = title.strip(" \"'\u201c\u201d\u2018\u2019.,!?")
    if len(title) < 2 or len(title) > card_limits.TITLE_MAX:
        return None
    return title[:1].upper() + title[1:]  # otherwise as typed


def requested_changes(text: str) -> Changes:
    text = _norm(text)
    changes = Changes()
    rename = RENAME.search(text)
    if rename:
        changes.title = _requested_title(rename.group(1))
    for clause in re.split(r"[.!?;]+|\s+and\s+(?=(?:also\s+)?(?:add|drop|remove|delete|include)\b)", text):
        drop = DROP.search(clause)
        if drop:
            rest = drop.group(1).lower()
            ordinal = re.search(r"\b(" + "|".join(ORDINALS) + r")\b", rest)
            number = re.search(r"(?:#|\b(?:point|number|item|bullet|policy|no\.?)\s*)(\d)\b", rest)
            # "the point about X", or "it's not about X, take it out"
            about = re.search(r"\b(?:about|on|with|mentioning|saying)\s+(.+)", rest) or re.search(
                r"\babout\s+([^,]+)", clause[: drop.start()].lower()
            )
            if ordinal:
                changes.drop.append(ORDINALS[ordinal.group(1)])
            elif number:
                changes.drop.append(int(number.group(1)) - 1)
            elif about:
                changes.drop.append(about.group(1))
            continue
        add = ADD.search(clause)
        if add and not (rename and rename.start() < add.start() < rename.end()):
            changes.add.append(add.group(1))
    if changes.title is None and re.search(r"\b(title|name)\b", text, re.I) and COMPLAINT.search(text):
        changes.new_title = True
    return changes


def _added_policy(request: str) -> str | None:
    rest = re.sub(
        r"^(?:a|one|some)?\s*(?:thing|point|bit|line|something|more|policy)?\s*(?:about|on|for|that)?\s+",
        "",
        _norm(request).strip(),
        flags=re.I,
    )
    whens, hows = _when_clauses(rest), _how_clauses(rest)
    if whens:
        return f"MOMENTS {_theirs(whens[0])}"
    if hows:
        return _theirs(hows[0])
    phrases = _distinct(_ranked(_phrases_in(rest, 0, 0)))
    if phrases:
        best = max(phrases, key=lambda p: (len(p.words), -p.position))
        return _fit(policy_for(_theirs(best.text)), card_limits.POLICY_MAX)
    return None


def _drop(policies: list[str], which: int | str) -> list[str]:
    if isinstance(which, int):
        if -len(policies) <= which < len(policies) and len(policies) > card_limits.POLICIES_MIN:
            return [p for i, p in enumerate(policies) if i != which % len(policies)]
        return policies
    wanted = {w for w in re.findall(r"(?:" + LETTERS + r"|')+", which.lower()) if w not in FUNCTION_WORDS}
    overlap = [len(wanted & set(re.findall(r"(?:" + LETTERS + r"|')+", p.lower()))) for p in policies]
    if not overlap or max(overlap) == 0 or len(policies) <= card_limits.POLICIES_MIN:
        return policies
    at = overlap.index(max(overlap))
    return policies[:at] + policies[at + 1 :]


def revise_card(card: dict, request: str, answers: list[str], shown_titles: tuple[str, ...] = ()) -> dict:
    """The card with the participant's requested changes made; a complaint is never itself a policy."""
    changes = requested_changes(request)
    card = {**card, "policies": list(card["policies"])}
    if changes.title:
        card["title"] = changes.title
    elif changes.new_title:
        fresh = compose_card(answers, avoid_titles=(card["title"], *shown_titles))
        if fresh is not None:
            card["title"] = fresh["title"]
    for which in changes.drop:
        card["policies"] = _drop(card["policies"], which)
    for request_text in changes.add:
        policy = _added_policy(request_text)
        if policy and policy.lower() not in {p.lower() for p in card["policies"]}:
            card["policies"] = (card["policies"] + [policy])[: card_limits.POLICIES_MAX]
    return card


def _is_feedback(answer: str) -> bool:
    """A turn about the card (a request or an approval), not about the participant's value."""
    return bool(
        APPROVAL.match(answer)
        or requested_changes(answer)
        or re.search(r"\b(card|title|policy|policies|bullet)\b", answer, re.I)
    )


def _answers(transcript: str) -> list[str]:
    """What the participant said about their value: their turns other than filler and requests to change a
    card, and after the first card was shown (the interviewer's "This card, titled ..."), none about the card."""
    answers, card_shown = [], False
    for line in transcript.splitlines():
        if line.startswith("Interviewer: This card, titled"):
            card_shown = True
        elif line.startswith("Participant: "):
            answer = line[len("Participant: ") :]
            if is_filler(answer):  # "dunno", "ok": never a title or a policy
                continue
            if not (_is_feedback(answer) if card_shown else requested_changes(answer)):
                answers.append(answer)
    return answers


# Cards that scripted participants mean (journey.personas): a persona's
# answers are prose no word list reads well, so its data file carries the
# card a good articulator would write, and the offline articulator gives it
# when that persona's identifying answer is in the transcript. The card
# still goes through the interview, the card checks, revisions and dedup.
_EXPECTED_CARDS: dict[str, dict] = {}


def _flat(text: str) -> str:
    return " ".join(_norm(text).split())


def expect_card(answer: str, card: dict) -> None:
    """Write `card` for any transcript with this participant answer."""
    _EXPECTED_CARDS[_flat(answer)] = dict(card)


def _expected_card(transcript: str) -> dict | None:
    if not _EXPECTED_CARDS:
        return None
    for line in transcript.splitlines():
        if line.startswith("Participant: "):
            card = _EXPECTED_CARDS.get(_flat(line[len("Participant: ") :]))
            if card is not None:
                return {**card, "policies": list(card["policies"])}
    return None


def articulator(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    transcript = request.messages[-1].content if request.messages else ""
    answers = _answers(transcript)
    change = re.search(r"^Change requested: (.+)$", transcript, re.M)
    previous = re.search(r"^Previous card: (\{.+\})$", transcript, re.M)
    if previous:
        card = json.loads(previous.group(1))
        if change:
            shown = tuple(re.findall(r"titled \u201c([^\u201d]+)\u201d", transcript))
            card = revise_card(card, change.group(1).strip(), answers, shown)
        return json.dumps({"card": card}), []
    expected = _expected_card(transcript)
    if expected is not None:
        return json.dumps({"card": expected}), []
    substantive = [a for a in answers if len(a.split()) >= 4]
    card = compose_card(answers) if len(substantive) >= 2 else None
    asked_enough = sum(1 for line in transcript.splitlines() if line.startswith("Participant: ")) >= FORCE_CARD_AT
    if card is None and (len(substantive) >= 3 or asked_enough):
        # Asked enough: a shorter card beats an interview that never ends.
        card = compose_card(answers, least=1) if answers else None
    if card is None and asked_enough:
        card = generic_card()
    if card is None:
        return json.dumps({"critique": "Ask for a personal example of a choice like this and what they noticed."}), []
    return json.dumps({"card": card}), []


GENERIC_CARD = {
    "title": "Care for the Person Deciding",
    "description": (
        "Scripted placeholder, as the offline interviewer had too little to go on: paying attention to "
        "the person and what they need in a hard choice."
    ),
    "policies": [
        "FEELINGS the person has about the choice in front of them",
        "OPTIONS they may not have thought of yet",
        "PEOPLE they trust who could help them decide",
    ],
}


def generic_card() -> dict:
    """The card written when the participant said nothing a card could be made of ("dunno", "ok"): sensible,
    plainly generic, and saying it was scripted."""
    return {**GENERIC_CARD, "policies": list(GENERIC_CARD["policies"])}
