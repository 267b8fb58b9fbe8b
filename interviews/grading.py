"""Grading finished interviews on the paper's nine criteria (A.4), so a
change to the interviewer prompt can be checked against earlier transcripts."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from interviews.contracts import GradeAnswer, Grades
from interviews.models import DialogueGrade, Interview
from interviews.services import transcript_text
from interviews.services.cards import _card_payload
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.types import ChatRequest, LLMError, Message

CRITERIA = list(Grades.model_fields)  # the paper's nine, in the report's order


def grader_prompt():
    return app_prompt(__file__, "grader")


def grade_interview(interview: Interview) -> DialogueGrade:
    prompt = grader_prompt()
    card = interview.cards.order_by("-revision").first()
    text = transcript_text(interview)
    if card is not None:
        text += "\nFinal card: " + str(_card_payload(card))
    request = ChatRequest(
        model="",
        system=prompt.render(scenario_prompt=interview.scenario.prompt),
        messages=[Message(role="user", content=text)],
        max_tokens=1200,
        temperature=0,
    )
    ctx = gateway.CallContext(
        purpose="interview.grade",
        prompt=prompt,
        study=interview.participant.study,
        participant_id=interview.participant_id,
    )
    answer, record = gateway.structured(request, GradeAnswer, ctx)
    scores = {name: getattr(answer.grades, name).model_dump(exclude_none=True) for name in CRITERIA}
    return DialogueGrade.objects.create(
        interview=interview,
        grader_prompt_version=prompt.version,
        grader_prompt_hash=prompt.sha256,
        scores=scores,
        mean_score=mean(s["score"] for s in scores.values()),
        llm_call=record,
    )


def grade_study(study, *, regrade: bool = False, limit: int | None = None) -> dict:
    """Grade every submitted interview not yet graded by this grader prompt."""
    prompt = grader_prompt()
    interviews = (
        Interview.objects.filter(participant__study=study, status=Interview.Status.SUBMITTED)
        .select_related("scenario", "participant__study")
        .order_by("created_at")
    )
    if not regrade:
        interviews = interviews.exclude(grades__grader_prompt_hash=prompt.sha256)
    graded = failed = 0
    for interview in interviews[:limit] if limit else interviews:
        try:
            grade_interview(interview)
            graded += 1
        except LLMError:
            failed += 1  # recorded as a failed LLMCall; the next run retries it
    return {"graded": graded, "failed": failed}


def summary(study) -> dict:
    """Mean score per criterion for each interviewer prompt version, using
    each interview's latest grade by the current grader prompt."""
    prompt = grader_prompt()
    latest: dict[int, DialogueGrade] = {}
    for grade in (
        DialogueGrade.objects.filter(interview__participant__study=study, grader_prompt_hash=prompt.sha256)
        .select_related("interview")
        .order_by("created_at")
    ):
        latest[grade.interview_id] = grade
    by_version: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for grade in latest.values():
        version = str((grade.interview.prompt_versions.get("interviewer") or {}).get("version", "?"))
        for name in CRITERIA:
            by_version[version][name].append(grade.scores[name]["score"])
    return {
        version: {
            "n": len(next(iter(scores.values()), [])),
            **{name: round(mean(values), 2) for name, values in scores.items()},
        }
        for version, scores in sorted(by_version.items())
    }
