"""Reads of the journey layer: where a finished participant goes back to."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings

from studies.models import Participant, Step
from surveys import selectors as survey_selectors


def completion_code(participant: Participant) -> str:
    """The Prolific code for where the participant ended up."""
    study = participant.study
    if participant.current_step == Step.SCREENED_OUT:
        return study.completion_code_screened_out
    if participant.current_step == Step.DECLINED:
        return study.completion_code_no_consent
    if participant.current_step == Step.COMPLETE:
        if survey_selectors.failed_attention(participant):
            return study.completion_code_failed_attention or study.completion_code_completed
        return study.completion_code_completed
    return ""


def prolific_redirect_url(code: str) -> str | None:
    if not code:
        return None
    return settings.PROLIFIC_COMPLETION_URL.format(code=quote(code))
