"""Reads of the journey layer: where a finished participant goes back to, and
what they may dispute and have disputed."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db import models
from django.db.models import Count

from graph.models import TransitionStory
from journey.events import PARTICIPANT_WITHDRAWN
from journey.models import Dispute
from mgeplatform.models import DomainEvent
from studies.models import Participant, Step, counted
from surveys import selectors as survey_selectors
from values import selectors as value_selectors


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


# --- disputes --------------------------------------------------------------------


def dispute_subject(participant: Participant, language: str | None = None) -> dict:
    """What this participant may dispute: their card's merge (when the card
    lives on a canonical value), the active stories that depict their value,
    and their value's place in the latest moral graph (when it is in it).
    With a `language`, the values are worded as the participant is shown
    them (`survey_selectors.follow_up_subject`), and so are the two values
    of each story in `stories_shown`."""
    subject = survey_selectors.follow_up_subject(participant, language)
    canonical = subject["canonical"]
    stories = []
    if canonical is not None:
        stories = list(
            TransitionStory.objects.filter(study=participant.study, status=TransitionStory.Status.ACTIVE)
            .filter(models.Q(from_value=canonical) | models.Q(to_value=canonical))
            .select_related("from_value", "to_value", "context")
            .order_by("pk")[:STORIES_SHOWN]
        )
    # A merge to dispute: the card shares its value with other cards, or lives on someone else's wording.
    merged = canonical is not None and (
        canonical.representative_card_id != subject["card"].pk
        or canonical.cards.exclude(pk=subject["card"].pk).exists()
    )
    words = value_selectors.values_in([v for s in stories for v in (s.from_value, s.to_value)], language)
    shown = [StoryShown(s, words[2 * n], words[2 * n + 1]) for n, s in enumerate(stories)]
    return {**subject, "stories": stories, "stories_shown": shown, "merged": merged}


@dataclass(frozen=True)
class StoryShown:
    """A story as the disputes page shows it: its two values in the reader's language."""

    story: TransitionStory
    from_words: value_selectors.ValueWords
    to_words: value_selectors.ValueWords


STORIES_SHOWN = 10


def disputes_of(participant: Participant) -> list:
    return list(
        Dispute.objects.filter(participant=participant)
        .select_related("story", "value", "card")
        .order_by("-created_at", "-pk")
    )


def _counted_disputes(study, include_simulated: bool = False):
    return Dispute.objects.filter(study=study).filter(counted("participant", include_simulated))


def dispute_table(study, *, include_simulated: bool = False) -> dict:
    """Counts by kind and outcome for the graph's pages and the report:
    numbers only, nothing about who disputed or what they wrote."""
    counts = {
        (row["kind"], row["status"]): row["n"]
        for row in _counted_disputes(study, include_simulated).values("kind", "status").annotate(n=Count("pk"))
    }
    rows = []
    for kind in Dispute.Kind:
        cells = {status.value: counts.get((kind.value, status.value), 0) for status in Dispute.Status}
        rows.append({"kind": kind.value, "label": kind.label, **cells, "total": sum(cells.values())})
    totals = {status.value: sum(row[status.value] for row in rows) for status in Dispute.Status}
    return {
        "rows": rows,
        "totals": {**totals, "total": sum(totals.values())},
        "statuses": [{"value": s.value, "label": s.label} for s in Dispute.Status],
    }


def dispute_report(study, *, include_simulated: bool = False) -> dict:
    """The dispute rate (completed participants who disputed anything) and outcomes."""
    table = dispute_table(study, include_simulated=include_simulated)
    completed = study.participants.for_analysis(include_simulated).filter(current_step=Step.COMPLETE)
    disputing = (
        _counted_disputes(study, include_simulated)
        .filter(participant__in=completed)
        .values("participant")
        .distinct()
        .count()
    )
    n = completed.count()
    return {
        **table,
        "completed": n,
        "disputing": disputing,
        "rate_percent": round(100 * disputing / n, 1) if n else None,
    }


def explorer_disputes_section(study) -> dict:
    """The disputes table beside the study's moral graph: counts by kind and
    outcome (staff previews and simulated participants left out), public
    whenever the graph is."""
    table = dispute_table(study)
    header = ["Disputed", *[s["label"] for s in table["statuses"]], "All"]
    rows = [[row["label"], *[row[s["value"]] for s in table["statuses"]], row["total"]] for row in table["rows"]]
    rows.append(["All kinds", *[table["totals"][s["value"]] for s in table["statuses"]], table["totals"]["total"]])
    return {
        "id": "disputes",
        "title": "Disputes",
        "header": header,
        "rows": rows,
        "intro": "Participants may dispute how they are represented: the merge of their card into a shared value, "
        "a story's depiction of their value, or their value's place in the graph. A coordinator upholds "
        "or rejects each. These are the counts; who disputed and what they wrote are never shown here.",
    }


def deletion_receipt(participant: Participant) -> list[dict] | None:
    """What the participant's withdrawal removed ({what, key, count}, no
    content), from its event; None before a withdrawal, or for one made
    before receipts were kept."""
    event = (
        DomainEvent.objects.filter(kind=PARTICIPANT_WITHDRAWN, actor_participant=participant.pk)
        .order_by("-created_at", "-pk")
        .first()
    )
    return None if event is None else event.payload.get("receipt")
