"""What every participant page shares: finding the participant from the
browser's session, and the step check. Feature apps' step views use
`participant_view`; the pages themselves live with the feature that owns them."""

from __future__ import annotations

import functools

from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from studies import languages, links, selectors, steps
from studies.models import Step


def error_page(request, status: int, title: str | Promise, message: str | Promise, study=None):
    return render(request, "studies/error.html", {"title": title, "message": message, "study": study}, status=status)


def step_page(request, template: str, study, participant, *, status: int = 200, label: str | None = None, **context):
    """Render a participant page: the study, the participant and the progress
    bar (`label` names a page shown between steps, such as a question about
    the participant's value, instead of the step it is shown at)."""
    progress = steps.progress(participant)
    if label:
        progress["label"] = label
    return render(
        request, template, {"study": study, "participant": participant, "progress": progress, **context}, status=status
    )


def step_url(participant) -> str:
    """Where the participant's current step is drawn."""
    slug = participant.study.slug
    return links.url("consent" if participant.current_step == Step.CONSENT else "journey", slug)


def find_participant(request, slug: str):
    """(study, participant, None) or (study, None, error response)."""
    study = selectors.get_study(slug)
    if study is None:
        return (
            None,
            None,
            error_page(request, 404, _("Study not found"), _("We could not find this study. Please check the link.")),
        )
    participant = selectors.participant_for_session(request.session, study)
    if participant is None:
        with translation.override(languages.for_request(request, study)):
            return (
                study,
                None,
                error_page(
                    request,
                    403,
                    _("Please start from the study link"),
                    _(
                        "This page belongs to a participant session we cannot find in this browser. "
                        "Open the study link you were given (on Prolific, click the study again)."
                    ),
                    study=study,
                ),
            )
    return study, participant, None


def participant_view(*, at: tuple[str, ...] | None = None):
    """Decorate `view(request, study, participant, ...)` reached by
    /s/<slug>/...: session → participant → step check. A participant who is
    not at one of the steps `at` (a double submit, another tab, the back
    button) is sent to where they are now. The page is drawn in the
    participant's language (studies.languages)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, slug: str, *args, **kwargs):
            study, participant, error = find_participant(request, slug)
            if error:
                return error
            if at is not None and participant.current_step not in at:
                return redirect(step_url(participant))
            with translation.override(languages.participant_language(participant)):
                return view(request, study, participant, *args, **kwargs)

        return wrapper

    return decorate
