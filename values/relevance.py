"""The relevance step (paper 5.4): a participant sees six values other
participants articulated and marks those that apply to their own scenario.
Draws and marks are kept per item, so Table 2 (relevance of same-scenario
vs other-scenario values) can be computed."""

from __future__ import annotations

from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from pgvector.django import CosineDistance

from mgeplatform.audit import participant_context, record_event
from studies import steps
from studies.models import Step, counted
from values import events
from values.models import CanonicalValue, RelevanceDraw, RelevanceItem, ValuesCard

DRAW_SIZE = 6
POOL_SIZE = 12


def hotness(votes: int, impressions: int) -> float:
    """Votes per impression; never-shown values rank after shown ones with votes."""
    return votes / impressions if impressions else 0.0


def source_scenario_id(value: CanonicalValue, own_scenario_id=None):
    """The scenario most of a value's cards came from (its representative
    card's scenario breaks ties). A value without cards (seeded from a file)
    comes from the scenarios it was seeded for: the participant's own if it
    is one of them."""
    counts: Counter[int] = Counter()
    for scenario_id in value.cards.values_list("interview__scenario_id", flat=True):
        counts[scenario_id] += 2  # whole cards count 2, the representative's tie-break 1
    representative = value.representative_card if value.representative_card_id else None
    if representative is not None:
        counts[representative.interview.scenario_id] += 1
    if counts:
        return counts.most_common(1)[0][0]
    seeded = sorted(value.scenarios.values_list("pk", flat=True))
    if own_scenario_id in seeded:
        return own_scenario_id
    return seeded[0] if seeded else None


def current_draw(participant) -> RelevanceDraw | None:
    """The draw made when the participant reached the step (read only)."""
    return RelevanceDraw.objects.filter(participant=participant).first()


def on_enter_relevance(participant) -> str | None:
    """Entry work of the relevance step: make the participant's draw. With
    nothing to show (the study's first participants: no other values yet)
    the step is skipped, and the skip recorded."""
    draw = draw_for(participant)
    if draw is not None and draw.items.exists():
        return None
    record_event(
        events.RELEVANCE_SKIPPED,
        participant_id=participant.pk,
        study_slug=participant.study.slug,
        subject=participant,
        payload={"reason": "no card" if draw is None else "no other values yet"},
    )
    return steps.next_step(participant, Step.RELEVANCE)


def _submitted_card(participant) -> ValuesCard | None:
    return (
        ValuesCard.objects.filter(interview__participant=participant, submitted=True)
        .select_related("interview")
        .order_by("-submitted_at")
        .first()
    )


def _others(participant, card: ValuesCard):
    """The study's live values other than the one the card joined."""
    live = CanonicalValue.objects.filter(
        study_id=participant.study_id, merged_into__isnull=True, archived_at__isnull=True
    )
    return live.exclude(pk=card.canonical_id) if card.canonical_id else live


def draw_for(participant) -> RelevanceDraw | None:
    """The participant's draw, made once (a reload shows the same values),
    ordered by closeness to their card. It makes no model call: it runs in
    the step's entry work, under the transition's row locks. The card was
    embedded when it was written (the in-chat match); one whose embedding
    failed then gets the values unordered, and is embedded by the next
    deduplication run."""
    existing = RelevanceDraw.objects.filter(participant=participant).first()
    if existing is not None:
        return existing
    card = _submitted_card(participant)
    if card is None:
        return None
    live = _others(participant, card)
    stats = live.annotate(
        impressions=Count("relevance_items", filter=Q(relevance_items__relevant__isnull=False)),
        votes=Count("relevance_items", filter=Q(relevance_items__relevant=True)),
    )
    hot = sorted(stats, key=lambda v: (-hotness(v.votes, v.impressions), -v.created_at.timestamp(), v.pk))[:POOL_SIZE]
    new = list(live.order_by("-created_at", "-pk")[:POOL_SIZE])
    pools = {v.pk: RelevanceItem.Pool.HOT for v in hot}
    for v in new:
        pools.setdefault(v.pk, RelevanceItem.Pool.NEW)
    candidates = CanonicalValue.objects.filter(pk__in=pools).select_related("representative_card__interview")
    if card.embedding is not None:
        chosen: list[CanonicalValue] = list(
            candidates.filter(embedding_model=card.embedding_model)
            .annotate(distance=CosineDistance("embedding", card.embedding))
            .order_by("distance", "pk")[:DRAW_SIZE]
        )
        # Values with no vector of this model (a seeded value whose embedding failed) still fill the draw,
        # after the close ones, rather than leave the participant nothing to mark.
        chosen += list(candidates.exclude(pk__in=[v.pk for v in chosen]).order_by("pk")[: DRAW_SIZE - len(chosen)])
    else:
        chosen = list(candidates[:DRAW_SIZE])
    try:
        with transaction.atomic(), participant_context(participant.pk):
            draw = RelevanceDraw.objects.create(participant=participant, card=card, scenario=card.interview.scenario)
            RelevanceItem.objects.bulk_create(
                [
                    RelevanceItem(
                        draw=draw,
                        canonical=value,
                        position=i,
                        pool=pools[value.pk],
                        source_scenario_id=source_scenario_id(value, card.interview.scenario_id),
                    )
                    for i, value in enumerate(chosen)
                ]
            )
        return draw
    except IntegrityError:  # a second tab made it first
        return RelevanceDraw.objects.get(participant=participant)


@transaction.atomic
def submit(*, participant, draw: RelevanceDraw, relevant_ids: set[int]) -> bool:
    """The participant's marks, and on to the next step, together."""
    marked = submit_marks(draw=draw, relevant_ids=relevant_ids)
    steps.finish(participant, Step.RELEVANCE)
    return marked


@transaction.atomic
def submit_marks(*, draw: RelevanceDraw, relevant_ids: set[int]) -> bool:
    """Store the marks; False when already submitted (double click)."""
    draw = RelevanceDraw.objects.select_for_update().get(pk=draw.pk)
    if draw.submitted_at is not None:
        return False
    with participant_context(draw.participant_id):
        for item in draw.items.all():
            item.relevant = item.canonical_id in relevant_ids
            item.save(update_fields=["relevant"])
        draw.submitted_at = timezone.now()
        draw.save(update_fields=["submitted_at"])
        record_event(
            events.RELEVANCE_MARKED,
            participant_id=draw.participant_id,
            study_slug=draw.participant.study.slug,
            subject=draw,
            payload={"shown": draw.items.count(), "relevant": len(relevant_ids)},
        )
    return True


def relevance_by_origin(rows) -> dict:
    """Table 2 from (same_scenario: bool, relevant: bool) pairs: votes,
    impressions and % relevant for values from the participant's own
    scenario and from other scenarios."""
    out = {}
    for key, same in (("same_scenario", True), ("other_scenario", False)):
        marks = [relevant for is_same, relevant in rows if is_same is same]
        votes = sum(1 for m in marks if m)
        out[key] = {
            "votes": votes,
            "impressions": len(marks),
            "percent": round(100 * votes / len(marks), 1) if marks else None,
        }
    return out


def relevance_table(study, *, include_simulated: bool = False) -> dict:
    rows = RelevanceItem.objects.filter(draw__participant__study=study, relevant__isnull=False)
    rows = rows.filter(counted("draw__participant", include_simulated))
    triples = rows.values_list("source_scenario_id", "draw__scenario_id", "relevant")
    return relevance_by_origin([(source == own, relevant) for source, own, relevant in triples])
