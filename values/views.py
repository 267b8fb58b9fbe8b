"""The values app's participant pages: the approval of a canonical value the
participant's card matched, and the relevance step (paper 4.5, 5.4). GET
pages only read; the draw is made when the participant enters the step."""

from __future__ import annotations

from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mgeplatform import inputs
from studies.languages import participant_language
from studies.models import Step
from studies.views import participant_view, step_page, step_url
from values import relevance, selectors, services
from values.models import CanonicalApproval


def approval_page(request, study, participant, card=None, canonical=None, error="", status=200):
    """A card matched in the chat, or merged later by the batch deduplicator,
    is put to its author on their next visit. None when nothing is pending."""
    if card is None:
        pending = selectors.pending_approval(participant)
        if pending is None:
            return None
        card, canonical = pending
    return step_page(
        request,
        "values/approval.html",
        study,
        participant,
        status=status,
        label="Your value",
        card=card,
        canonical=selectors.value_in(canonical, participant_language(participant)),
        error=error,
        answers=[(value, _(label)) for value, label in CanonicalApproval.Answer.choices],
    )


@require_http_methods(["POST"])
@participant_view()
def record_approval(request, study, participant):
    """The participant's answer about the canonical value their card matched."""
    pending = selectors.pending_approval(participant)
    if pending is None:  # already answered (double click) or nothing to ask
        return redirect(step_url(participant))
    card, canonical = pending
    answer = request.POST.get("answer")
    if answer not in CanonicalApproval.Answer.values or request.POST.get("canonical") != str(canonical.pk):
        return approval_page(
            request, study, participant, card, canonical, error=_("Please choose one of the answers."), status=400
        )
    services.record_approval(card=card, canonical=canonical, answer=answer)
    return redirect(step_url(participant))


def relevance_page(request, study, participant, draw=None, error="", status=200):
    """The six values to mark; None while there is nothing to show."""
    draw = draw or relevance.current_draw(participant)
    if draw is None or not draw.items.exists():
        return None
    return step_page(
        request,
        "values/relevance.html",
        study,
        participant,
        status=status,
        draw=draw,
        error=error,
        items=selectors.drawn_values(draw, participant_language(participant)),
    )


@require_http_methods(["POST"])
@participant_view(at=(Step.RELEVANCE,))
def submit_relevance(request, study, participant):
    """Which of the six values apply to the participant's scenario (paper 5.4)."""
    draw = relevance.current_draw(participant)
    if draw is None:
        return redirect(step_url(participant))
    shown = set(draw.items.values_list("canonical_id", flat=True))
    chosen = [inputs.parse_id(value) for value in request.POST.getlist("relevant")]
    if not all(value in shown for value in chosen):
        return relevance_page(
            request,
            study,
            participant,
            draw,
            status=400,
            error=_("Something went wrong with your choices. Please mark them again."),
        )
    relevance.submit(participant=participant, draw=draw, relevant_ids=set(chosen))
    return redirect(step_url(participant))
