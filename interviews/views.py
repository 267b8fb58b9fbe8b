"""The interview's participant pages: choosing a scenario and the chat page
(the chat itself runs over the websocket in consumers.py)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from interviews import contracts as card_limits
from interviews import selectors, services
from mgeplatform import inputs
from studies import arms
from studies.models import Step
from studies.views import participant_view, step_page, step_url


def scenario_page(request, study, participant, error="", status=200):
    return step_page(
        request,
        "interviews/scenario.html",
        study,
        participant,
        status=status,
        error=error,
        scenarios=arms.offered_scenarios(participant),
    )


def interview_page(request, study, participant):
    interview = selectors.active_interview(participant)
    if interview is None:  # no interview yet: the question is still to choose
        return scenario_page(request, study, participant)
    return step_page(
        request,
        "interviews/interview.html",
        study,
        participant,
        interview=interview,
        max_chars=settings.INTERVIEW_MAX_MESSAGE_CHARS,
        retry_after=settings.INTERVIEW_RETRY_AFTER_SECONDS,
        card_limits={"title": card_limits.TITLE_MAX, "description": card_limits.DESCRIPTION_MAX},
    )


@require_http_methods(["POST"])
@participant_view(at=(Step.SCENARIO, Step.INTERVIEW))
def choose_scenario(request, study, participant):
    pk = inputs.parse_id(request.POST.get("scenario"))
    scenario = arms.offered_scenarios(participant).filter(pk=pk).first() if pk is not None else None
    if scenario is None:
        return scenario_page(request, study, participant, error=_("Please choose one of the questions."), status=400)
    services.choose_scenario(participant=participant, scenario=scenario)
    return redirect(step_url(participant))
