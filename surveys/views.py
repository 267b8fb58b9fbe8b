"""The survey step of the journey and the follow-up page. Thin: they check
input, call services, render."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from studies import languages
from studies.models import Step
from studies.views import error_page, participant_view, step_page, step_url
from surveys import selectors, services
from surveys.models import FollowUpLink, SurveyItem


def _questions(items, chosen: dict, errors: dict) -> list[dict]:
    return [
        {
            "item": item,
            "number": n,
            # The question and its answers' labels as the catalogs word them (the
            # default bank's are marked in surveys.defaults and surveys.models); a
            # coordinator's own wording has no entry and is shown as written.
            "text": _(item.text) if item.text else "",
            "options": [(value, _(label)) for value, label in item.options.items()],
            "chosen": chosen.get(item.key, ""),
            "error": errors.get(item.key, ""),
            "likert": item.kind in (SurveyItem.Kind.LIKERT5, SurveyItem.Kind.ATTENTION_CHECK),
        }
        for n, item in enumerate(items, start=1)
    ]


def survey_page(request, study, participant, *, bank=None, chosen=None, errors=None, status=200):
    """All of the survey step's questions on one page (paper 5.6, Table 3).
    The bank was settled when the participant entered the step."""
    bank = bank or selectors.current_bank(study)
    items = selectors.items(bank, SurveyItem.When.JOURNEY) if bank else []
    if not items:
        return None
    errors = errors or {}
    questions = _questions(items, chosen or {}, errors)
    return step_page(
        request,
        "surveys/survey.html",
        study,
        participant,
        status=status,
        bank=bank,
        questions=questions,
        total=len(items),
        unanswered=[q for q in questions if q["error"]],
    )


@require_http_methods(["POST"])
@participant_view(at=(Step.SURVEY,))  # else a double submit, or another tab
def submit(request, study, participant):
    # Answer the version the participant saw, even if a newer one was published since.
    bank = selectors.published_bank(study, request.POST.get("bank")) or selectors.current_bank(study)
    if bank is None:
        return redirect(step_url(participant))
    items = selectors.items(bank, SurveyItem.When.JOURNEY)
    answers, errors = services.clean_answers(items, request.POST)
    if errors:
        return survey_page(request, study, participant, bank=bank, chosen=answers, errors=errors, status=400)
    services.submit_survey(participant=participant, bank=bank, answers=answers)
    return redirect(step_url(participant))


LINK_PROBLEMS = {
    "invalid": (
        404,
        gettext_lazy("This link does not work"),
        gettext_lazy(
            "We could not find these follow-up questions. Please copy the whole link from the message you "
            "received, or ask the research team for a new one."
        ),
    ),
    "expired": (
        410,
        gettext_lazy("This link has expired"),
        gettext_lazy("The follow-up questions for this study have closed. Thank you for your interest."),
    ),
    "withdrawn": (
        410,
        gettext_lazy("You have withdrawn"),
        gettext_lazy("You withdrew from this study, so there is nothing more to answer. Thank you for taking part."),
    ),
}


# Pages of higher layers reached from the follow-up page (the disputes page,
# for one), registered in their AppConfig.ready(): (label, URL name taking
# the link's token).
_FOLLOW_UP_LINKS: list[tuple[str, str]] = []


def register_follow_up_link(label: str, url_name: str) -> None:
    if all(entry[1] != url_name for entry in _FOLLOW_UP_LINKS):
        _FOLLOW_UP_LINKS.append((label, url_name))


def _follow_up_items(bank, subject) -> list:
    """The follow-up items that make sense for this participant: the
    deduplication check only if their card was merged into other wording,
    the fairness check only if their value is in a built moral graph."""
    applies: dict[str, bool] = {
        SurveyItem.Kind.DEDUP_VERIFICATION: subject["rewritten"],
        SurveyItem.Kind.FAIRNESS: subject["value"] is not None,
    }
    return [item for item in selectors.items(bank, SurveyItem.When.FOLLOW_UP) if applies.get(item.kind, True)]


def _shown(items, subject) -> dict[str, dict]:
    """What each answer was about, stored with it."""
    shown = {}
    for item in items:
        if item.kind == SurveyItem.Kind.DEDUP_VERIFICATION:
            shown[item.key] = {"card": subject["card"].pk, "canonical_value": subject["canonical"].pk}
        elif item.kind == SurveyItem.Kind.FAIRNESS:
            shown[item.key] = {
                "snapshot": subject["snapshot"].pk,
                "value": subject["value"]["id"],
                "wiser": (subject["wiser"] or {}).get("id"),
                "less_wise": (subject["less_wise"] or {}).get("id"),
            }
    return shown


@never_cache  # personal answers behind a bearer link: no shared caches
@require_http_methods(["GET", "HEAD", "POST"])
def follow_up(request, token: str):
    """The questions asked after the study (paper 4.5, Table 4), in the
    participant's language."""
    link, problem = selectors.follow_up_link(token)
    language = languages.participant_language(link.participant) if link else settings.LANGUAGE_CODE
    with translation.override(language):
        return _follow_up(request, token, link, problem)


def _follow_up(request, token, link, problem):
    if problem:
        status, title, message = LINK_PROBLEMS[problem]
        study = link.participant.study if link else None
        return error_page(request, status, title, message, study=study)
    link = cast(FollowUpLink, link)  # no problem: a link
    participant = link.participant
    study = participant.study
    bank = services.ensure_default_bank(study)
    subject = selectors.follow_up_subject(participant, languages.participant_language(participant))
    items = _follow_up_items(bank, subject)
    errors: dict = {}
    status, chosen = 200, selectors.answers_given(participant, items)
    if request.method == "POST" and items:
        answers, errors = services.clean_answers(items, request.POST)
        if not errors:
            services.submit_follow_up(link=link, items=items, answers=answers, shown=_shown(items, subject))
            return redirect("surveys:follow_up", token=token)
        chosen, status = {**chosen, **answers}, 400
    elif request.method != "POST":
        services.mark_opened(link)
    link.refresh_from_db(fields=["completed_at"])
    questions = _questions(items, chosen, errors)
    return render(
        request,
        "surveys/follow_up.html",
        {
            "study": study,
            "subject": subject,
            "questions": questions,
            "total": len(items),
            "unanswered": [q for q in questions if q["error"]],
            "completed": link.completed_at is not None,
            "links": [
                {"label": _(label), "url": reverse(name, kwargs={"token": token})} for label, name in _FOLLOW_UP_LINKS
            ],
        },
        status=status,
    )
