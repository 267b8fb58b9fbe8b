"""Embedding values cards and canonical values (paper 4.5, step 1).

What is embedded is the attentional policies, one per line: they are the
part of a card written in a standard form, and what deduplication compares.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from mgeplatform.llm import gateway
from values import selectors
from values.models import CanonicalValue, ValuesCard

BATCH_SIZE = 64


def policies_text(policies) -> str:
    return "\n".join(p.strip() for p in policies)


def embedded_text(obj) -> str:
    """What is embedded: a value's policies, or a card's in the pivot language (its rendering, when it was
    written in another), so that cards saying the same thing in two languages lie close."""
    if isinstance(obj, ValuesCard) and obj.needs_translation and obj.translation == ValuesCard.Translation.DONE:
        return policies_text(obj.pivot_policies)
    return policies_text(obj.policies)


def embed_texts(texts: list[str], *, study=None, participant_id=None, content_of=()) -> tuple[str, list[list[float]]]:
    route = gateway.resolve_embedding()
    ctx = gateway.CallContext(
        purpose="values.embed", study=study, participant_id=participant_id, route=route, content_of=content_of
    )
    vectors = gateway.embed(texts, ctx, model=route.model, dimensions=settings.EMBEDDING_DIMENSIONS)
    return route.model, vectors


def embed_objects(objects, *, study=None) -> int:
    """Embed cards or canonical values in batches; returns how many."""
    objects = list(objects)
    for start in range(0, len(objects), BATCH_SIZE):
        batch = objects[start : start + BATCH_SIZE]
        model_name, vectors = embed_texts([embedded_text(o) for o in batch], study=study, content_of=_authors(batch))
        for obj, vector in zip(batch, vectors):
            obj.embedding, obj.embedding_model = vector, model_name
        with transaction.atomic():
            type(batch[0]).objects.bulk_update(batch, ["embedding", "embedding_model"])
    return len(objects)


def _authors(objects) -> list:
    """Whose words the texts are: a card's participant, a value's wording's author."""
    cards = [o.pk for o in objects if isinstance(o, ValuesCard)]
    values = [o.pk for o in objects if isinstance(o, CanonicalValue)]
    return sorted(
        set(ValuesCard.objects.filter(pk__in=cards).values_list("interview__participant_id", flat=True))
        | set(selectors.authors(values))
    )


def embed_card(card: ValuesCard) -> ValuesCard:
    embed_objects([card], study=card.interview.participant.study)
    return card


def reembed_study(study, *, only_missing: bool = False) -> dict:
    """Recompute vectors of a study's submitted cards and canonical values
    with the current embedding model (after changing EMBEDDING_PROVIDER)."""
    model_name = gateway.resolve_embedding().model
    cards = ValuesCard.objects.filter(interview__participant__study=study, submitted=True)
    canonical = CanonicalValue.objects.filter(study=study)
    if only_missing:
        cards = cards.exclude(embedding_model=model_name, embedding__isnull=False)
        canonical = canonical.exclude(embedding_model=model_name, embedding__isnull=False)
    return {
        "model": model_name,
        "cards": embed_objects(cards.order_by("pk"), study=study),
        "canonical_values": embed_objects(canonical.order_by("pk"), study=study),
    }
