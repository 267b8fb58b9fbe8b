"""Reads for values cards and canonical values."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from pgvector.django import CosineDistance

from values.models import CanonicalValue, ValueRendering, ValuesCard, half_precision, wording_digest

# How the nearest canonical values are found (figures in docs/performance.md,
# "Nearest-neighbour search on pgvector"). A study with fewer values than
# EXACT_SEARCH_BELOW is searched exactly: its rows by the b-tree on study_id,
# then every distance; that is faster than the HNSW index there and never
# misses. A larger study goes through the index. The HNSW scan keeps
# ef_search candidates and only then applies the study/model filter, so a
# study holding a small share of the table could get fewer than k values, or
# none: the iterative scan (pgvector 0.8) goes on until k rows pass, and
# strict order keeps them sorted by distance. ef_search 400 on the m=24 index
# is what reaches recall@5 0.95 at a million values; the milliseconds it costs
# are nothing beside the LLM call that follows.
EXACT_SEARCH_BELOW = 2000
HNSW_EF_SEARCH = 400
HNSW_ITERATIVE_SCAN = "strict_order"


# Cards written by the offline (scripted) interviewer are a pilot's stand-ins,
# not what people value: unless the study includes them, they neither become
# nor join canonical values, so they never reach stories or votes. Simulated
# participants are scripted on purpose (their personas' cards) and count.


def left_out_of_values(card: ValuesCard, study) -> bool:
    """The card may not become or join one of the study's canonical values."""
    return card.scripted and not study.include_scripted_cards and not card.interview.participant.simulated


def may_shape_values(cards, study):
    """`cards` (a ValuesCard queryset of `study`) without those left out of its values."""
    if study.include_scripted_cards:
        return cards
    return cards.exclude(scripted=True, interview__participant__simulated=False)


def nearest_canonical_values(vector, *, model_name: str, study, k: int = 5, exclude_ids=()):
    """The k canonical values of a study closest to `vector` (cosine), among
    vectors made by the same model. Each result carries `.distance`."""
    candidates = CanonicalValue.objects.filter(
        study=study, embedding_model=model_name, embedding__isnull=False
    ).exclude(pk__in=list(exclude_ids))
    if candidates[:EXACT_SEARCH_BELOW].count() < EXACT_SEARCH_BELOW:
        # Full-precision distances, and "+ 0": an order the HNSW index cannot
        # give, so the planner reads the study's rows and sorts them all.
        exact = candidates.annotate(distance=CosineDistance("embedding", vector))
        return list(exact.order_by(F("distance") + 0, "pk")[:k])
    # The index holds half-precision vectors: order by the same expression.
    by_distance = candidates.annotate(distance=CosineDistance(half_precision("embedding"), vector))
    # set_config(..., true) is SET LOCAL: it ends with this transaction, so a
    # pooled connection goes back with the server's defaults.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', %s, true)",
            [str(HNSW_EF_SEARCH), HNSW_ITERATIVE_SCAN],
        )
        return list(by_distance.order_by("distance")[:k])


def nearest_to_card(card: ValuesCard, *, k: int = 5):
    if card.embedding is None:
        return []
    return nearest_canonical_values(
        card.embedding, model_name=card.embedding_model, study=card.interview.participant.study, k=k
    )


def submitted_card(participant):
    return (
        ValuesCard.objects.filter(interview__participant=participant, submitted=True)
        .select_related("canonical")
        .order_by("-submitted_at")
        .first()
    )


def pending_approval(participant):
    """(card, canonical value) the participant has not yet said anything
    about, or None. Only a value worded by someone else is a question: a
    canonical value made from the participant's own card (the first of its
    kind) would ask them to approve their own words."""
    card = submitted_card(participant)
    if card is None or card.canonical is None or card.approvals.filter(canonical=card.canonical).exists():
        return None
    representative = card.canonical.representative_card
    if representative is not None and representative.interview.participant_id == participant.pk:
        return None
    return card, card.canonical


def closest_canonical_pairs(study, *, limit: int = 50) -> list[dict]:
    """The most similar pairs of a study's canonical values (candidates for a
    merge, or signs that deduplication is too cautious)."""

    sql = """
        SELECT a.id, a.title, b.id, b.title, a.embedding <=> b.embedding AS distance
        FROM values_canonicalvalue a
        JOIN values_canonicalvalue b
          ON a.study_id = b.study_id AND a.id < b.id AND a.embedding_model = b.embedding_model
        WHERE a.study_id = %s AND a.embedding IS NOT NULL AND b.embedding IS NOT NULL
        ORDER BY distance
        LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [study.pk, limit])
        return [
            {"a_id": r[0], "a_title": r[1], "b_id": r[2], "b_title": r[3], "distance": float(r[4])}
            for r in cursor.fetchall()
        ]


def live_values(study):
    """Canonical values that have not been merged into another, nor archived
    (worded from a withdrawn participant's card, with no other card left)."""
    return CanonicalValue.objects.filter(study=study, merged_into__isnull=True, archived_at__isnull=True)


def worded_from(participant):
    """The canonical values whose wording was taken from one of the
    participant's cards: on withdrawal, worded again or archived."""
    return CanonicalValue.objects.filter(representative_card__interview__participant=participant)


def archived_value_ids(study) -> set[int]:
    """Values archived after a withdrawal: the graph counts no vote on them."""
    return set(CanonicalValue.objects.filter(study=study, archived_at__isnull=False).values_list("pk", flat=True))


def live_value_id(value_ids, study) -> dict[int, int]:
    """{value id: the live value it was (perhaps repeatedly) merged into}."""
    # Only the merged values' rows: a study of 10,000 values has few, and the rest map to themselves.
    parents = dict(
        CanonicalValue.objects.filter(study=study, merged_into__isnull=False).values_list("pk", "merged_into_id")
    )
    if not parents:
        return {value_id: value_id for value_id in value_ids}
    resolved = {}
    for value_id in value_ids:
        seen, current = set(), value_id
        while parents.get(current) and current not in seen:
            seen.add(current)
            current = parents[current]
        resolved[value_id] = current
    return resolved


def value_scenarios(study) -> dict[int, set[int]]:
    """{live value id: ids of the scenarios its cards were written for}."""
    out: dict[int, set[int]] = {}
    # A value known only from cards left out (scripted, matched while the study still included them) gets
    # no scenario, so no stories.
    rows = may_shape_values(ValuesCard.objects.filter(canonical__study=study, submitted=True), study).values_list(
        "canonical_id", "interview__scenario_id"
    )
    # A value seeded from a file belongs to the questions it was seeded for, cards or not.
    seeded = list(
        CanonicalValue.scenarios.through.objects.filter(canonicalvalue__study=study).values_list(
            "canonicalvalue_id", "scenario_id"
        )
    )
    rows = list(rows) + seeded
    resolved = live_value_id({value for value, _ in rows}, study)
    for value, scenario in rows:
        out.setdefault(resolved[value], set()).add(scenario)
    return out


def authors(value_ids) -> list:
    """The participants whose cards worded these canonical values (their
    representative cards): a model call that sends a value's wording carries
    their words (gateway.CallContext.content_of)."""
    return sorted(
        {
            pid
            for pid in CanonicalValue.objects.filter(pk__in=list(value_ids)).values_list(
                "representative_card__interview__participant_id", flat=True
            )
            if pid
        }
    )


# --- a value in the participant's language (issue 27) ---------------------------------


@dataclass(frozen=True)
class ValueWords:
    """A canonical value as a participant is shown it: `language` is the language of these words (""
    for the value's own, pivot-language fields)."""

    pk: int
    title: str
    description: str
    policies: list[str]
    language: str = ""


def value_in(canonical: CanonicalValue, language: str | None) -> ValueWords:
    """The value in `language`: its rendering in that language when there is one of its current wording
    (the representative card's own words, or a translation), else the value's pivot wording."""
    return values_in([canonical], language)[0]


def values_in(canonicals, language: str | None) -> list[ValueWords]:
    """`value_in` for several values, in one query."""
    return wordings_in(
        [ValueWords(c.pk, c.title, c.description, list(c.policies)) for c in canonicals],
        language,
    )


def wordings_in(wordings: list[ValueWords], language: str | None) -> list[ValueWords]:
    """Pivot wordings of values (a value's own fields, or the copy a graph snapshot keeps) in `language`:
    each one's rendering when the value has one of exactly that wording, else the wording as given. A
    snapshot's copy of a value reworded since it was built is so shown in the pivot, never beside a
    rendering of other words."""
    wordings = list(wordings)
    renderings = {}
    if language and wordings:
        renderings = {
            r.canonical_id: r
            for r in ValueRendering.objects.filter(canonical__in=[w.pk for w in wordings], language=language)
        }
    shown = []
    for words in wordings:
        rendering = renderings.get(words.pk)
        if rendering is not None and rendering.pivot_digest == wording_digest(
            words.title, words.description, words.policies
        ):
            shown.append(
                ValueWords(words.pk, rendering.title, rendering.description, list(rendering.policies), language or "")
            )
        else:
            shown.append(ValueWords(words.pk, words.title, words.description, list(words.policies)))
    return shown


@dataclass(frozen=True)
class DrawnValue:
    """A value of a relevance draw as the participant reads it: `canonical` holds its words in their
    language."""

    canonical_id: int
    canonical: ValueWords


def drawn_values(draw, language: str | None) -> list[DrawnValue]:
    """The values of a relevance draw, in order, in `language`."""
    items = list(draw.items.select_related("canonical"))
    words = values_in([item.canonical for item in items], language)
    return [DrawnValue(item.canonical_id, shown) for item, shown in zip(items, words, strict=True)]
