"""The offline grader and analysis raters, and the registration of every interview script."""

from __future__ import annotations

import json
import re

from interviews import language
from interviews.offline.interviewer import interviewer
from interviews.offline.revisions import articulator, generic_card
from mgeplatform.llm.providers.offline import register_script
from mgeplatform.llm.types import ChatRequest, ToolCall

GRADER_CRITERIA = [
    "personal_story",
    "educated_about_meaning",
    "new_perspective",
    "no_leading",
    "one_question_at_a_time",
    "single_source_of_meaning",
    "is_source_of_meaning",
    "coherent_criteria",
    "clear_specific_criteria",
]


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
    grades["personal_story"] = {
        "score": 4 if story else 2,
        "evidence": ("The participant told a story from their life." if story else "No personal story found."),
    }
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
    lines = [
        line
        for line in (request.messages[-1].content if request.messages else "").splitlines()
        if line.startswith("Participant:")
    ]
    said = " ".join(lines).lower()
    yes = any(
        marker in said
        for marker in ("i was pregnant", "i thought i was pregnant", "my abortion", "i had an abortion", "i considered")
    )
    return json.dumps({"answer": "yes" if yes else "no", "quote": ""}), []


def register() -> None:
    # In the participant's language (interviews/language.py): the scripts above are written in English.
    register_script("interviewer", language.speaking(interviewer))
    register_script("articulator", language.writing(articulator, generic_card))
    register_script("dialogue_grader", grader)
    register_script("ideology", ideology_rater)
    register_script("expert", expert_rater)
