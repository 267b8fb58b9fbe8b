"""Participant-facing pages. Thin: they validate, call services, render."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from interviews import interview_services, selectors, services
from interviews.models import Step
from values import relevance
from values import selectors as values_selectors
from values import services as values_services
from values.models import CanonicalApproval


def _error(request, status: int, title: str, message: str, study=None):
    return render(request, "interviews/error.html", {"title": title, "message": message, "study": study}, status=status)


def _step_url(participant) -> str:
    slug = participant.study.slug
    if participant.current_step == Step.CONSENT:
        return reverse("interviews:consent", kwargs={"slug": slug})
    return reverse("interviews:journey", kwargs={"slug": slug})


@require_http_methods(["GET", "HEAD"])
def entry(request, slug: str):
    """Study link: /s/<slug>/?PROLIFIC_PID=..&STUDY_ID=..&SESSION_ID=.."""
    study = selectors.get_study(slug)
    try:
        prolific = services.parse_prolific_params(request.GET)
        participant = services.enter_study(study=study, session=request.session, prolific=prolific)
    except services.EntryError as err:
        return _error(request, err.status, err.title, err.message, study=study if err.status != 404 else None)
    # Redirect so the Prolific ids do not linger in the address bar or history.
    return HttpResponseRedirect(_step_url(participant))


def _participant_or_error(request, slug):
    study = selectors.get_study(slug)
    if study is None:
        return None, None, _error(request, 404, "Study not found", "We could not find this study. Please check the link.")
    participant = selectors.participant_for_session(request.session, study)
    if participant is None:
        return study, None, _error(
            request, 403, "Please start from the study link",
            "This page belongs to a participant session we cannot find in this browser. "
            "Open the study link you were given (on Prolific, click the study again).",
            study=study,
        )
    return study, participant, None


@require_http_methods(["GET", "HEAD", "POST"])
def consent(request, slug: str):
    study, participant, error = _participant_or_error(request, slug)
    if error:
        return error
    if participant.current_step == Step.DECLINED:
        return _declined_response(request, study)
    if participant.current_step != Step.CONSENT:
        return redirect(_step_url(participant))
    document = selectors.current_consent(study)
    if document is None:
        return _error(request, 503, "Not ready yet", "This study has no consent form yet. Please try again later.", study)

    if request.method == "POST":
        choice = request.POST.get("choice")
        if choice not in ("accept", "decline") or request.POST.get("consent_hash") != document.content_hash:
            return render(request, "interviews/consent.html", {
                "study": study, "document": document, "participant": participant,
                "progress": selectors.progress(participant),
                "form_error": "The consent form changed or the answer was not understood. Please read it and choose again.",
            }, status=400)
        services.record_consent(participant=participant, consent=document, accepted=choice == "accept")
        participant.refresh_from_db()
        if participant.current_step == Step.DECLINED:
            return _declined_response(request, study)
        return redirect(_step_url(participant))

    return render(request, "interviews/consent.html", {
        "study": study, "document": document, "participant": participant, "progress": selectors.progress(participant),
    })


def _declined_response(request, study):
    url = services.prolific_redirect_url(study.completion_code_no_consent)
    if url:
        return HttpResponseRedirect(url)
    return render(request, "interviews/declined.html", {"study": study})


@require_http_methods(["GET", "HEAD"])
def journey(request, slug: str):
    """The participant's current step. Later issues fill in each step."""
    study, participant, error = _participant_or_error(request, slug)
    if error:
        return error
    if participant.current_step == Step.CONSENT:
        return redirect(_step_url(participant))
    if participant.current_step == Step.DECLINED:
        return _declined_response(request, study)
    if participant.current_step in (Step.COMPLETE, Step.SCREENED_OUT, Step.WITHDRAWN):
        return _finished_page(request, study, participant)
    scenarios = selectors.active_scenarios(study)
    if participant.current_step == Step.INTERVIEW:
        interview = selectors.active_interview(participant)
        if interview is None:
            if scenarios.count() != 1:
                return _scenario_page(request, study, participant, scenarios)
            interview = interview_services.choose_scenario(participant=participant, scenario=scenarios.get())
        return render(request, "interviews/interview.html", {
            "study": study, "participant": participant, "interview": interview,
            "progress": selectors.progress(participant),
            "max_chars": settings.INTERVIEW_MAX_MESSAGE_CHARS,
        })
    if participant.current_step == Step.SCENARIO:
        return _scenario_page(request, study, participant, scenarios)
    if participant.current_step in (Step.RELEVANCE, Step.STORIES, Step.SURVEY):
        # A card matched in the chat, or merged later by the batch
        # deduplicator, is put to its author on their next visit.
        pending = values_selectors.pending_approval(participant)
        if pending is not None:
            return _approval_page(request, study, participant, *pending)
    if participant.current_step == Step.RELEVANCE:
        draw = relevance.draw_for(participant)
        if draw is not None and draw.items.exists():
            return _relevance_page(request, study, participant, draw)
    if participant.current_step == Step.STORIES:
        from graph.views import stories_step

        return stories_step(request, study, participant)
    if participant.current_step == Step.SURVEY:
        from surveys.views import survey_step

        return survey_step(request, study, participant)
    return render(request, "interviews/journey.html", {
        "study": study,
        "participant": participant,
        "step": Step(participant.current_step),
        "progress": selectors.progress(participant),
    })


def _scenario_page(request, study, participant, scenarios, error="", status=200):
    return render(request, "interviews/scenario.html", {
        "study": study, "participant": participant, "scenarios": scenarios, "error": error,
        "progress": selectors.progress(participant),
    }, status=status)


def _approval_page(request, study, participant, card, canonical, error="", status=200):
    return render(request, "values/approval.html", {
        "study": study, "participant": participant, "card": card, "canonical": canonical, "error": error,
        "answers": CanonicalApproval.Answer.choices, "progress": selectors.progress(participant),
    }, status=status)


@require_http_methods(["POST"])
def record_approval(request, slug: str):
    """The participant's answer about the canonical value their card matched."""
    study, participant, error = _participant_or_error(request, slug)
    if error:
        return error
    pending = values_selectors.pending_approval(participant)
    if pending is None:  # already answered (double click) or nothing to ask
        return redirect(_step_url(participant))
    card, canonical = pending
    answer = request.POST.get("answer")
    if answer not in CanonicalApproval.Answer.values or request.POST.get("canonical") != str(canonical.pk):
        return _approval_page(request, study, participant, card, canonical,
                              error="Please choose one of the answers.", status=400)
    values_services.record_approval(card=card, canonical=canonical, answer=answer)
    return redirect(_step_url(participant))


def _relevance_page(request, study, participant, draw, error="", status=200):
    return render(request, "values/relevance.html", {
        "study": study, "participant": participant, "draw": draw, "error": error,
        "items": draw.items.select_related("canonical"), "progress": selectors.progress(participant),
    }, status=status)


@require_http_methods(["POST"])
def submit_relevance(request, slug: str):
    """Which of the six values apply to the participant's scenario (paper 5.4)."""
    study, participant, error = _participant_or_error(request, slug)
    if error:
        return error
    draw = relevance.draw_for(participant) if participant.current_step == Step.RELEVANCE else None
    if draw is None:
        return redirect(_step_url(participant))
    shown = set(draw.items.values_list("canonical_id", flat=True))
    chosen = request.POST.getlist("relevant")
    if not all(value.isdigit() and int(value) in shown for value in chosen):
        return _relevance_page(request, study, participant, draw, status=400,
                               error="Something went wrong with your choices. Please mark them again.")
    relevance.submit_marks(draw=draw, relevant_ids={int(v) for v in chosen})
    services.finish_step(participant=participant, step=Step.RELEVANCE)
    return redirect(_step_url(participant))


@require_http_methods(["POST"])
def choose_scenario(request, slug: str):
    study, participant, error = _participant_or_error(request, slug)
    if error:
        return error
    if participant.current_step not in (Step.SCENARIO, Step.INTERVIEW):
        return redirect(_step_url(participant))
    scenarios = selectors.active_scenarios(study)
    scenario = scenarios.filter(pk=request.POST.get("scenario") or 0).first() if (
        request.POST.get("scenario") or "").isdigit() else None
    if scenario is None:
        return _scenario_page(request, study, participant, scenarios, error="Please choose one of the questions.",
                              status=400)
    interview_services.choose_scenario(participant=participant, scenario=scenario)
    return redirect(_step_url(participant))


def _finished_page(request, study, participant):
    """The end of the journey: back to Prolific with the code for how it
    ended (completed, failed attention check, screened out)."""
    code = services.completion_code(participant) if participant.current_step != Step.WITHDRAWN else ""
    url = services.prolific_redirect_url(code) if participant.via_prolific else None
    if url and request.GET.get("stay") != "1":
        return HttpResponseRedirect(url)
    return render(request, "interviews/finished.html", {
        "study": study, "participant": participant, "step": Step(participant.current_step), "code": code,
        "prolific_url": url,
    })


@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request, slug: str):
    """Always reachable from the page footer: confirm, then withdraw."""
    from interviews import withdrawal

    study, participant, error = _participant_or_error(request, slug)
    if error:
        return error
    if participant.current_step == Step.WITHDRAWN:
        return _finished_page(request, study, participant)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            return redirect(_step_url(participant))
        withdrawal.withdraw(participant, reason=request.POST.get("reason", ""))
        participant.refresh_from_db()
        return _finished_page(request, study, participant)
    return render(request, "interviews/withdraw.html", {
        "study": study, "participant": participant, "progress": selectors.progress(participant),
        "deletes_content": study.withdrawal_policy == study.WithdrawalPolicy.DELETE_CONTENT,
    })
