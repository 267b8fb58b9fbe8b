"""The participant's transition stories step (paper 4.4). Thin: it checks
input, calls services, renders. GET only reads: stories are chosen when the
participant enters the step."""

from __future__ import annotations

from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from graph import selectors, services
from graph.models import WisdomVote
from mgeplatform import inputs
from studies.languages import participant_language
from studies.models import Step
from studies.views import participant_view, step_page, step_url
from values.selectors import values_in


def stories_page(request, study, participant, *, error: str = "", chosen: str = "", reason: str = "", status=200):
    """The next story to judge; None when there is none."""
    assignment = services.current_assignment(participant)
    if assignment is None:
        return None
    story = assignment.story
    return step_page(
        request,
        "graph/story.html",
        study,
        participant,
        status=status,
        assignment=assignment,
        story=story,
        # The two values in the participant's language (the story itself is in the study's pivot language).
        pair=values_in([story.from_value, story.to_value], participant_language(participant)),
        number=assignment.position + 1,
        total=participant.story_assignments.count(),
        answers=[(value, _(label)) for value, label in WisdomVote.Answer.choices],
        chosen=chosen,
        reason=reason,
        error=error,
        max_reason=services.REASON_MAX_CHARS,
    )


@require_http_methods(["POST"])
@participant_view(at=(Step.STORIES,))
def vote(request, study, participant):
    """One answer to "Did this person become wiser?"."""
    raw = request.POST.get("assignment", "")
    pk = inputs.parse_id(raw)
    assignment = selectors.assignment_of(participant, pk) if pk is not None else None
    answer, reason = request.POST.get("answer", ""), request.POST.get("reason", "")
    if assignment is None:
        return stories_page(
            request,
            study,
            participant,
            status=400,
            reason=inputs.storable(reason),
            error=_("That story could not be found. Please answer this one."),
        ) or redirect(step_url(participant))
    try:
        services.vote_and_continue(participant=participant, assignment=assignment, answer=answer, reason=reason)
    except services.VoteError as err:
        # The text comes back without the characters that cannot be saved, so sending it again works.
        return stories_page(
            request,
            study,
            participant,
            error=str(err),
            chosen=inputs.storable(answer),
            reason=inputs.storable(reason),
            status=400,
        )
    return redirect(step_url(participant))
