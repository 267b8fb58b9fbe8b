"""Pages of the graph app: the participant's transition stories step and
the graph explorer. Thin: they check input, call services, render."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from graph import services
from graph.models import StoryAssignment, WisdomVote
from interviews import selectors as interview_selectors
from interviews import services as interview_services
from interviews.models import Step


def stories_step(request, study, participant, *, error: str = "", chosen: str = "", reason: str = "", status=200):
    """The next story to judge; when none is left (or none exists yet), the
    participant moves on to the survey."""
    assignment = services.next_assignment(participant)
    if assignment is None:
        assigned = participant.story_assignments.count()
        interview_services.finish_step(participant=participant, step=Step.STORIES)
        if not assigned:
            from mgeplatform.audit import record_event

            record_event("graph.no_stories", participant_id=participant.pk, study_slug=study.slug, subject=participant)
        return redirect("interviews:journey", slug=study.slug)
    story = assignment.story
    total = participant.story_assignments.count()
    return render(request, "graph/story.html", {
        "study": study, "participant": participant, "assignment": assignment, "story": story,
        "pair": [story.from_value, story.to_value], "number": assignment.position + 1, "total": total,
        "answers": WisdomVote.Answer.choices, "chosen": chosen, "reason": reason, "error": error,
        "max_reason": services.REASON_MAX_CHARS, "progress": interview_selectors.progress(participant),
    }, status=status)


@require_http_methods(["POST"])
def vote(request, slug: str):
    """One answer to "Did this person become wiser?"."""
    from interviews.views import _participant_or_error

    study, participant, error = _participant_or_error(request, slug)
    if error:
        return error
    if participant.current_step != Step.STORIES:
        return redirect("interviews:journey", slug=slug)
    raw = request.POST.get("assignment", "")
    assignment = (StoryAssignment.objects.select_related("story").filter(pk=raw, participant=participant).first()
                  if raw.isdigit() else None)
    answer, reason = request.POST.get("answer", ""), request.POST.get("reason", "")
    if assignment is None:
        return stories_step(request, study, participant, status=400, reason=reason,
                            error="That story could not be found. Please answer this one.")
    try:
        services.record_vote(participant=participant, assignment=assignment, answer=answer, reason=reason)
    except services.VoteError as err:
        return stories_step(request, study, participant, error=str(err), chosen=answer, reason=reason, status=400)
    if services.next_assignment(participant, mark_shown=False) is None:
        interview_services.finish_step(participant=participant, step=Step.STORIES)
    return redirect("interviews:journey", slug=slug)
