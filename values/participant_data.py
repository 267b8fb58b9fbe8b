"""The values app's share of a participant's data: cards (with their
pivot-language renderings), deduplication
decisions, approvals, relevance marks and the study's canonical values in the
export; on withdrawal, the relevance draw (cards go with the interview), the
audit-trail copies of cards, approvals and marks, and the wording of values
taken from their cards (worded again from another card, or archived), with
the values' renderings in other languages made from it."""

import json

from django.apps import apps

from studies.contributions import TrailSection, admin_link, export_table, iso, participant_content, participant_trail
from values import services
from values.models import (
    CanonicalApproval,
    CanonicalValue,
    DeduplicationDecision,
    RelevanceDraw,
    RelevanceItem,
    ValuesCard,
)


def _cards(study, pids):
    return (
        (
            c.interview.participant_id,
            c.interview_id,
            c.pk,
            c.revision,
            c.title,
            c.description,
            " | ".join(c.policies),
            c.source,
            c.submitted,
            c.canonical_id,
            iso(c.created_at),
            c.language,
            c.pivot_title,
            c.pivot_description,
            " | ".join(c.pivot_policies),
            c.translation,
            c.round,
        )
        for c in ValuesCard.objects.filter(interview__participant__in=pids)
        .select_related("interview")
        .order_by("interview", "revision")
    )


def _decisions(study, pids):
    return (
        (
            d.card.interview.participant_id,
            d.card_id,
            d.kind,
            d.outcome,
            d.matched_id,
            json.dumps(d.candidates),
            iso(d.created_at),
            d.card.round,
        )
        for d in DeduplicationDecision.objects.filter(card__interview__participant__in=pids)
        .select_related("card__interview")
        .order_by("created_at")
    )


def _approvals(study, pids):
    return (
        (a.card.interview.participant_id, a.card_id, a.canonical_id, a.answer, iso(a.created_at), a.card.round)
        for a in CanonicalApproval.objects.filter(card__interview__participant__in=pids)
        .select_related("card__interview")
        .order_by("created_at")
    )


def _canonical_values(study, pids):
    return (
        (
            v.pk,
            v.title,
            v.description,
            " | ".join(v.policies),
            v.origin,
            v.merged_into_id,
            v.external_id,
            iso(v.created_at),
            iso(v.archived_at),
        )
        for v in CanonicalValue.objects.filter(study=study).order_by("pk")
    )


def _relevance(study, pids):
    return (
        (
            i.draw.participant_id,
            i.canonical_id,
            i.position,
            i.pool,
            i.source_scenario_id,
            i.draw.scenario_id,
            i.relevant,
            iso(i.draw.created_at),
            1,  # relevance marks are of the first round: a retest does not ask them again (issue 29)
        )
        for i in RelevanceItem.objects.filter(draw__participant__in=pids)
        .select_related("draw")
        .order_by("draw", "position")
    )


def _delete(participant) -> dict[str, int]:
    # Before the cards go (with the interview): the values worded from them are worded again or archived.
    return {
        **services.release_wording(participant),
        "cards": ValuesCard.objects.filter(interview__participant=participant).count(),  # go with the interview
        "relevance_draws": RelevanceDraw.objects.filter(participant=participant).delete()[0],
    }


def _rendering_copies(participant) -> list:
    """Renderings of values in other languages made from the participant's cards (their own words, or a
    translation of the wording taken from them), including those already replaced: by their history."""
    cards = ValuesCard.objects.filter(interview__participant=participant).values_list("pk", flat=True)
    history = apps.get_model("values", "ValueRenderingEvent").objects
    return sorted(set(history.filter(card_id__in=list(cards)).values_list("pgh_obj_id", flat=True)))


def _audit_copies(participant) -> dict[str, list]:
    return {
        "values.ValueRenderingEvent": _rendering_copies(participant),
        "values.ValuesCardEvent": list(
            ValuesCard.objects.filter(interview__participant=participant).values_list("pk", flat=True)
        ),
        "values.CanonicalApprovalEvent": list(
            CanonicalApproval.objects.filter(card__interview__participant=participant).values_list("pk", flat=True)
        ),
        "values.RelevanceItemEvent": list(
            RelevanceItem.objects.filter(draw__participant=participant).values_list("pk", flat=True)
        ),
        "values.RelevanceDrawEvent": list(
            RelevanceDraw.objects.filter(participant=participant).values_list("pk", flat=True)
        ),
        "values.DeduplicationDecisionEvent": list(
            DeduplicationDecision.objects.filter(card__interview__participant=participant).values_list("pk", flat=True)
        ),
    }


def _texts(participant):
    for card in ValuesCard.objects.filter(interview__participant=participant):
        yield from (card.title, card.description, *card.policies)
        if card.pivot_title:  # its rendering in the pivot language
            yield from (card.pivot_title, card.pivot_description, *card.pivot_policies)


def _trail(participant) -> list[TrailSection]:
    cards = ValuesCard.objects.filter(interview__participant=participant).select_related("canonical")
    decisions = DeduplicationDecision.objects.filter(card__interview__participant=participant).select_related(
        "card", "matched"
    )
    approvals = CanonicalApproval.objects.filter(card__interview__participant=participant).select_related(
        "card", "canonical"
    )
    marks = RelevanceItem.objects.filter(draw__participant=participant).select_related("canonical")
    return [
        TrailSection(
            "Values card revisions",
            [
                "card",
                "title",
                "description",
                "policies",
                "language",
                "in the pivot language",
                "source",
                "submitted",
                "canonical value",
                "written",
            ],
            [
                [
                    admin_link(c, f"rev {c.revision}"),
                    c.title,
                    c.description,
                    " | ".join(c.policies),
                    c.language,
                    " | ".join([c.pivot_title, c.pivot_description, *c.pivot_policies])
                    if c.pivot_title
                    else c.get_translation_display(),
                    c.get_source_display(),
                    "yes" if c.submitted else "no",
                    admin_link(c.canonical),
                    iso(c.created_at),
                ]
                for c in cards.order_by("interview", "revision")
            ],
            empty="No card yet.",
        ),
        TrailSection(
            "Deduplication decisions",
            ["when", "card", "how", "outcome", "matched value", "reason"],
            [
                [
                    admin_link(d, iso(d.created_at)),
                    admin_link(d.card),
                    d.get_kind_display(),
                    d.get_outcome_display(),
                    admin_link(d.matched),
                    d.reason,
                ]
                for d in decisions.order_by("created_at")
            ],
            empty="No decision yet.",
        ),
        TrailSection(
            "Approvals of the matched value",
            ["when", "card", "value", "answer"],
            [
                [iso(a.created_at), admin_link(a.card), admin_link(a.canonical), a.get_answer_display()]
                for a in approvals.order_by("created_at")
            ],
            empty="Not asked.",
        ),
        TrailSection(
            "Relevance marks",
            ["#", "value", "drawn from", "applies to their scenario"],
            [
                [
                    m.position + 1,
                    admin_link(m.canonical),
                    m.get_pool_display(),
                    {True: "yes", False: "no", None: "not answered"}[m.relevant],
                ]
                for m in marks.order_by("position")
            ],
            empty="No values drawn.",
        ),
    ]


def register() -> None:
    export_table(
        "cards.csv",
        [
            "participant",
            "interview",
            "card",
            "revision",
            "title",
            "description",
            "policies",
            "source",
            "submitted",
            "canonical_value",
            "created_at",
            "language",
            "pivot_title",
            "pivot_description",
            "pivot_policies",
            "translation",
            "round",
        ],
        _cards,
    )
    export_table(
        "dedup_decisions.csv",
        ["participant", "card", "kind", "outcome", "matched_value", "candidates", "created_at", "round"],
        _decisions,
    )
    export_table(
        "approvals.csv", ["participant", "card", "canonical_value", "answer", "created_at", "round"], _approvals
    )
    export_table(
        "canonical_values.csv",
        [
            "canonical_value",
            "title",
            "description",
            "policies",
            "origin",
            "merged_into",
            "external_id",
            "created_at",
            "archived_at",
        ],
        _canonical_values,
    )
    export_table(
        "relevance.csv",
        [
            "participant",
            "canonical_value",
            "position",
            "pool",
            "value_scenario",
            "own_scenario",
            "relevant",
            "drawn_at",
            "round",
        ],
        _relevance,
    )
    participant_content(_delete, _audit_copies, _texts)
    participant_trail(_trail)
