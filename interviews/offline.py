"""Offline scripts for the interview prompts (see mgeplatform.llm.providers.offline).

A deterministic interviewer that follows the prompt's strategy sequence
(similar choices, underlying good, the participant's history, role models),
and an articulator that assembles a card from the participant's own words.
Good enough to run a whole study with no API key; it is not a model.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from mgeplatform.llm.providers.offline import register_script
from mgeplatform.llm.types import ChatRequest, ToolCall

SLOGAN_WORDS = re.compile(r"\b(should|must|never|always|wrong|murder|sin|evil|right to|obviously|just)\b", re.I)
DONT_KNOW = re.compile(r"\b(don'?t know|not sure|can'?t think|no idea|nothing comes|never had)\b", re.I)
APPROVAL = re.compile(r"^\s*(yes|yep|yeah|looks good|that'?s (it|right|good)|perfect|great|submit|correct|"
                      r"exactly|good)\b", re.I)
STOPWORDS = set("""a about above after again against all am an and any are as at be because been before being below \
between
both but by can could did do does doing down during each few for from further had has have having he her here hers him \
his
how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours out \
over
own same she should so some such than that the their theirs them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your yours think really things \
thing
someone something people person like know want feel make get go going also much many well way even lot dont im its thats
one time help need still""".split())


def _user_turns(request: ChatRequest) -> list[str]:
    return [m.content for m in request.messages if m.role == "user" and m.content.strip()]


def _last_tool_result(request: ChatRequest):
    for message in reversed(request.messages):
        if message.role == "tool":
            return message
        if message.role == "user":
            return None
    return None


def _call(name: str, **arguments) -> ToolCall:
    return ToolCall(id=f"offline_{name}_{len(json.dumps(arguments))}", name=name, arguments=arguments)


def interviewer(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    users = _user_turns(request)
    last_tool = _last_tool_result(request)
    card_shown = any(m.role == "tool" and m.content.startswith("CARD SHOWN") for m in request.messages)

    if last_tool is not None:
        if last_tool.content.startswith("CARD SHOWN"):
            title = re.search(r'"title":\s*"([^"]*)"', last_tool.content)
            name = title.group(1) if title else "your value"
            return (f"This card, titled \u201c{name}\u201d, is my attempt to capture what you've shared about what "
                    "you pay attention to. Does it fit what you care about, or is there anything you would change?"), []
        if last_tool.content.startswith("SUBMITTED"):
            return ("Thank you for submitting your value. "
                    "Your input helps us understand how an assistant should respond."), []
        return ("I'd like to understand a little more before writing this up. "
                "When you faced a choice like this, what did you look for or notice first?"), []

    last = users[-1] if users else ""
    if card_shown:
        if APPROVAL.match(last):
            return "Wonderful, I'll submit your card now.", [_call("submit_values_card")]
        return "Thank you, let me change the card.", [_call("show_values_card", change_request=last)]

    turn = len(users)
    if turn <= 1:
        if SLOGAN_WORDS.search(last) or len(last.split()) < 12:
            return ("Thank you for sharing that. What is the good thing you want to protect here? "
                    "If you imagine getting this right, what would you be paying attention to?"), []
        return ("Thank you. When you yourself face a choice like this, what do you pay attention to "
                "in deciding what to do?"), []
    if turn == 2:
        return ("That helps. Could you tell me about a time in your own life when you made a choice like this? "
                "What did you notice or look for then?"), []
    if turn == 3:
        if DONT_KNOW.search(last):
            return ("That's all right. Is there someone you admire for how they handle choices like this? "
                    "What would they pay attention to?"), []
        return "When you think back on that, what stood out to you as most important?", []
    return ("Thank you, I think I have a picture of what matters to you. Let me write it up as a card."), [
        _call("show_values_card")]


POLICY_NOUNS = ["CONSIDERATIONS such as", "FEELINGS such as", "MOMENTS such as", "CHOICES such as", "SIGNS such as",
                "OPPORTUNITIES such as"]


def _first_sentence(text: str, limit: int = 140) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", text.strip())[0].strip().rstrip(".!?")
    return sentence if len(sentence) <= limit else sentence[:limit].rsplit(" ", 1)[0] + "…"


def articulator(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    transcript = request.messages[-1].content if request.messages else ""
    answers = [line[len("Participant: "):] for line in transcript.splitlines() if line.startswith("Participant: ")]
    substantive = [a for a in answers if len(a.split()) >= 4 and not APPROVAL.match(a)]
    # Slogans and rules are where people start, not their value (paper 4.3).
    personal = [a for a in substantive if not SLOGAN_WORDS.search(a)]
    if len(personal) >= 2:
        substantive = personal
    change = re.search(r"^Change requested: (.+)$", transcript, re.M)
    previous = re.search(r"^Previous card: (\{.+\})$", transcript, re.M)
    if previous:
        card = json.loads(previous.group(1))
        if change:
            request_text = change.group(1).strip()
            quoted = re.search(r"[\"\u201c]([^\"\u201d]{2,60})[\"\u201d]", request_text)
            if "title" in request_text.lower() and quoted:
                card["title"] = quoted.group(1)
            else:
                card["policies"] = (card["policies"]
                                    + [f'CONSIDERATIONS such as "{_first_sentence(request_text)}"'])[:6]
        return json.dumps({"card": card}), []
    if len(substantive) < 2:
        return json.dumps({"critique": "Ask for a personal example of a choice like this and what they noticed."}), []
    words = Counter(w for a in substantive for w in re.findall(r"[a-z']+", a.lower())
                    if w not in STOPWORDS and len(w) > 3)
    top = [w.capitalize() for w, _ in words.most_common(2)] or ["What", "Matters"]
    policies = [f'{POLICY_NOUNS[i % len(POLICY_NOUNS)]} "{_first_sentence(a)}"' for i, a in enumerate(substantive[:5])]
    card = {
        "title": " and ".join(top),
        "description": ("The assistant should attend to what this person described: "
                        f"{_first_sentence(substantive[0], 160)}."),
        "policies": policies,
    }
    return json.dumps({"card": card}), []


GRADER_CRITERIA = ["personal_story", "educated_about_meaning", "new_perspective", "no_leading",
                   "one_question_at_a_time",
                   "single_source_of_meaning", "is_source_of_meaning", "coherent_criteria", "clear_specific_criteria"]


def grader(request: ChatRequest) -> tuple[str, list[ToolCall]]:
    """Heuristic grades, so the grading pipeline runs offline end to end."""
    transcript = request.messages[-1].content if request.messages else ""
    lines = transcript.splitlines()
    interviewer_lines = [line for line in lines if line.startswith("Interviewer: ")]
    participant_lines = [line for line in lines if line.startswith("Participant: ")]
    multi_questions = sum(1 for line in interviewer_lines if line.count("?") > 1)
    story = any(re.search(r"\b(I|me|my)\b.*\b(when|time|once|remember)\b", line) for line in participant_lines)
    grades = {name: {"score": 3, "evidence": "Offline heuristic: not judged."} for name in GRADER_CRITERIA}
    grades["one_question_at_a_time"] = {
        "score": 5 if multi_questions == 0 else max(1, 5 - multi_questions),
        "evidence": f"{multi_questions} interviewer turns asked more than one question.",
    }
    grades["personal_story"] = {"score": 4 if story else 2,
                                "evidence": ("The participant told a story from their life." if story
                                             else "No personal story found.")}
    return json.dumps({"grades": grades}), []


# --- analysis raters (offline): simple, deterministic readings of the text ---

_SLOGAN_WORDS = ("murder", "sin", "never", "always", "wrong", "evil", "must", "should not", "pro-choice", "pro-life")


def ideology_rater(request):
    """More slogan words, higher score; a first-person story lowers it."""
    text = (request.messages[-1].content if request.messages else "").lower()
    score = 1 + min(4, sum(text.count(w) for w in _SLOGAN_WORDS))
    if " i " in f" {text} " and score > 1:
        score -= 1
    return json.dumps({"score": score, "reason": "Offline: counted slogan words."}), []


def expert_rater(request):
    """Yes when the participant speaks of their own experience of it."""
    lines = [line for line in (request.messages[-1].content if request.messages else "").splitlines()
             if line.startswith("Participant:")]
    said = " ".join(lines).lower()
    yes = any(marker in said for marker in ("i was pregnant", "i thought i was pregnant", "my abortion",
                                            "i had an abortion", "i considered"))
    return json.dumps({"answer": "yes" if yes else "no", "quote": ""}), []


def register() -> None:
    register_script("interviewer", interviewer)
    register_script("articulator", articulator)
    register_script("dialogue_grader", grader)
    register_script("ideology", ideology_rater)
    register_script("expert", expert_rater)
