"""Reads for values cards and canonical values."""

from __future__ import annotations

from pgvector.django import CosineDistance

from values.models import CanonicalValue, ValuesCard


def nearest_canonical_values(vector, *, model_name: str, study, k: int = 5, exclude_ids=()):
    """The k canonical values of a study closest to `vector` (cosine), among
    vectors made by the same model. Each result carries `.distance`."""
    return list(
        CanonicalValue.objects.filter(study=study, embedding_model=model_name, embedding__isnull=False)
        .exclude(pk__in=list(exclude_ids))
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")[:k]
    )


def nearest_to_card(card: ValuesCard, *, k: int = 5):
    if card.embedding is None:
        return []
    return nearest_canonical_values(card.embedding, model_name=card.embedding_model,
                                    study=card.interview.participant.study, k=k)


def submitted_card(participant):
    return (ValuesCard.objects.filter(interview__participant=participant, submitted=True)
            .select_related("canonical").order_by("-submitted_at").first())


def pending_approval(participant):
    """(card, canonical value) the participant has not yet said anything
    about, or None."""
    card = submitted_card(participant)
    if card is None or card.canonical is None or card.approvals.filter(canonical=card.canonical).exists():
        return None
    return card, card.canonical
