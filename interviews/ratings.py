"""Model ratings of transcripts for the analyses: how ideological each
participant's first answer was (paper 5.2, Fig. 8, prompt adapted from
A.2.1) and whether they have the scenario's relevant life experience (5.5,
Fig. 12, adapted from A.2.2, with a question configurable per scenario).
Ratings are stored per prompt version, so re-running with a new prompt
keeps the old ratings for comparison."""

from __future__ import annotations

from django.db import IntegrityError

from interviews.contracts import ExpertAnswer, IdeologyAnswer
from interviews.models import ChatMessage, Interview, TranscriptRating
from interviews.services import transcript_text
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.types import ChatRequest, LLMError, Message
from studies.models import counted

GROUPS = ("not ideological", "slightly ideological", "very ideological")


def ideology_group(score: int) -> str:
    """1-2 not, 3 slightly, 4-5 very ideological."""
    return GROUPS[0] if score <= 2 else GROUPS[1] if score == 3 else GROUPS[2]


def first_answer(interview: Interview) -> str:
    first = interview.messages.filter(role=ChatMessage.Role.USER).order_by("seq").first()
    return first.content if first else ""


def _rate(interview, kind, prompt_name, contract, system_values, text, question=""):
    prompt = app_prompt(__file__, prompt_name)
    existing = TranscriptRating.objects.filter(
        interview=interview, kind=kind, prompt_hash=prompt.sha256, question=question
    ).first()
    if existing:
        return existing
    request = ChatRequest(
        model="",
        system=prompt.render(**system_values),
        messages=[Message(role="user", content=text)],
        max_tokens=200,
        temperature=0,
    )
    ctx = gateway.CallContext(
        purpose=f"analysis.{kind}",
        prompt=prompt,
        study=interview.participant.study,
        participant_id=interview.participant_id,
    )
    try:
        answer, record = gateway.structured(request, contract, ctx)
    except LLMError:
        return None  # the LLMCall row keeps the evidence; the interview stays unrated
    fields = (
        {"score": answer.score, "reason": answer.reason or ""}
        if kind == "ideology"
        else {"is_expert": answer.answer == "yes", "reason": answer.quote or ""}
    )
    try:
        return TranscriptRating.objects.create(
            interview=interview,
            kind=kind,
            question=question,
            prompt_version=prompt.version,
            prompt_hash=prompt.sha256,
            llm_call=record,
            **fields,
        )
    except IntegrityError:
        return TranscriptRating.objects.get(
            interview=interview, kind=kind, prompt_hash=prompt.sha256, question=question
        )


def rate_ideology(interview: Interview):
    answer = first_answer(interview)
    if not answer:
        return None
    return _rate(
        interview,
        TranscriptRating.Kind.IDEOLOGY,
        "ideology",
        IdeologyAnswer,
        {"question": interview.scenario.prompt},
        f"First answer: {answer}",
    )


def rate_expert(interview: Interview):
    question = interview.scenario.expert_question
    if not question:
        return None
    return _rate(
        interview,
        TranscriptRating.Kind.EXPERT,
        "expert",
        ExpertAnswer,
        {"question": question},
        transcript_text(interview),
        question=question,
    )


def rate_study(study, *, include_simulated: bool = False) -> dict:
    """Rate every submitted interview not yet rated with the current prompts."""
    interviews = Interview.objects.filter(participant__study=study, status=Interview.Status.SUBMITTED).select_related(
        "scenario", "participant__study"
    )
    interviews = interviews.filter(counted("participant", include_simulated))
    done = {"ideology": 0, "expert": 0}
    for interview in interviews:
        done["ideology"] += bool(rate_ideology(interview))
        done["expert"] += bool(rate_expert(interview))
    return done
