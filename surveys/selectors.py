"""Reads for surveys, follow-up links and the survey analyses."""

from __future__ import annotations

import uuid
from typing import Any

from django.core import signing
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from graph.selectors import latest_snapshot
from mgeplatform import inputs
from studies import weighting as weighting_source
from studies.models import ProlificIdentity, Step, counted
from surveys import analysis
from surveys.models import FollowUpLink, ItemBank, SurveyItem, SurveyResponse
from values import selectors as value_selectors
from values.models import CanonicalValue

TOKEN_SALT = "surveys.follow_up"


def current_bank(study) -> ItemBank | None:
    """The bank participants are asked now: the newest published version."""
    return ItemBank.objects.filter(study=study, published=True).order_by("-version").first()


def published_bank(study, bank_id) -> ItemBank | None:
    pk = inputs.parse_id(bank_id)
    if pk is None:
        return None
    return ItemBank.objects.filter(study=study, published=True, pk=pk).first()


def items(bank: ItemBank | None, when: str) -> list[SurveyItem]:
    if bank is None:
        return []
    return list(bank.items.filter(when=when).order_by("order", "id"))


def answers_given(participant, items_) -> dict[str, str]:
    """{item key: answer} the participant already gave to these items."""
    by_id = {item.pk: item.key for item in items_}
    rows = SurveyResponse.objects.filter(participant=participant, item_id__in=by_id).values_list("item_id", "answer")
    return {by_id[item_id]: answer for item_id, answer in rows}


def failed_attention(participant) -> bool:
    """Did the participant answer enough attention checks wrongly to get the
    study's failed-attention code? (By default one wrong answer is enough;
    a bank can ask for more, as Prolific does for studies of 5+ minutes.)"""
    per_bank = (
        SurveyResponse.objects.filter(participant=participant, item__kind=SurveyItem.Kind.ATTENTION_CHECK)
        .exclude(answer=F("item__expected_answer"))
        .values("item__bank", "item__bank__attention_failures_to_flag")
        .annotate(wrong=Count("id"))
    )
    return any(row["wrong"] >= max(1, row["item__bank__attention_failures_to_flag"]) for row in per_bank)


# Follow-up links ---------------------------------------------------------


def participant_id_in_token(token: str) -> uuid.UUID | None:
    """The participant a token was signed for, or None if it was altered."""
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
        return uuid.UUID(payload["p"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def follow_up_link(token: str) -> tuple[FollowUpLink | None, str]:
    """(link, "") for a usable link, else (link or None, why not): "invalid"
    (tampered, unknown, replaced), "expired" or "withdrawn"."""

    participant_id = participant_id_in_token(token)
    if participant_id is None:
        return None, "invalid"
    link = (
        FollowUpLink.objects.select_related("participant__study")
        .filter(participant_id=participant_id, token=token)
        .first()
    )
    if link is None:
        return None, "invalid"
    if link.participant.current_step == Step.WITHDRAWN:
        return link, "withdrawn"
    if link.expires_at <= timezone.now():
        return link, "expired"
    return link, ""


def link_status(link: FollowUpLink, now=None) -> str:
    now = now or timezone.now()
    if link.completed_at:
        return "completed"
    if link.expires_at <= now:
        return "expired"
    return "opened" if link.first_opened_at else "not opened"


def follow_up_link_rows(links, *, site_url: str) -> list[dict]:
    """One row per link for messaging participants on Prolific; nobody who
    has withdrawn is messaged."""

    links = list(links.exclude(participant__current_step=Step.WITHDRAWN).select_related("participant"))
    pids = dict(
        ProlificIdentity.objects.filter(participant_id__in=[link.participant_id for link in links]).values_list(
            "participant_id", "prolific_pid"
        )
    )
    base = site_url.rstrip("/")
    return [
        {
            "participant_id": str(link.participant_id),
            "prolific_pid": pids.get(link.participant_id, ""),
            "url": base + reverse("surveys:follow_up", kwargs={"token": link.token}),
            "expires_at": link.expires_at.isoformat(),
        }
        for link in sorted(links, key=lambda link: (link.participant.created_at, link.pk))
    ]


def follow_up_subject(participant, language: str | None = None) -> dict:
    """What the follow-up is about: the participant's submitted card, the
    canonical value it lives on now (4.5), and that value's place in the
    study's latest moral graph with one wiser and one less wise neighbour
    (Table 4). Missing parts are None.

    With a `language`, the values are worded as a participant reading it is
    shown them (`values.selectors.wordings_in`): `canonical_words` is the
    canonical value so worded, and the graph's values carry their rendering of
    the snapshot's wording in place of it (a value reworded since the graph was
    built stays in the snapshot's pivot wording)."""

    out = _follow_up_subject(participant)
    if language is None:
        return out
    if out["canonical"] is not None:
        out["canonical_words"] = value_selectors.value_in(out["canonical"], language)
    graph = [out[side] for side in ("value", "wiser", "less_wise") if out[side] is not None]
    shown = value_selectors.wordings_in(
        [value_selectors.ValueWords(v["id"], v["title"], v["description"], list(v["policies"])) for v in graph],
        language,
    )
    for value, words in zip(graph, shown, strict=True):
        value.update(title=words.title, description=words.description, policies=words.policies)
    return out


def _follow_up_subject(participant) -> dict:
    out: dict[str, Any] = {
        "card": None,
        "canonical": None,
        "canonical_words": None,
        "rewritten": False,
        "snapshot": None,
        "value": None,
        "wiser": None,
        "less_wise": None,
    }
    card = value_selectors.submitted_card(participant)
    if card is None:
        return out
    out["card"] = card
    if card.canonical_id is None:
        return out
    study = participant.study
    live_id = value_selectors.live_value_id([card.canonical_id], study)[card.canonical_id]
    canonical = CanonicalValue.objects.get(pk=live_id)
    out["canonical"] = canonical
    out["canonical_words"] = value_selectors.value_in(canonical, None)
    # Their card was rewritten if the value they live on is worded otherwise.
    out["rewritten"] = canonical.representative_card_id != card.pk and (
        (canonical.title, canonical.description, list(canonical.policies))
        != (card.title, card.description, list(card.policies))
    )
    snapshot = latest_snapshot(study)
    if snapshot is None:
        return out
    # A value merged after the snapshot was built is in it under its old id.
    value_id = next((v for v in (live_id, card.canonical_id) if str(v) in snapshot.values), None)
    if value_id is None:
        return out
    out["snapshot"] = snapshot
    out["value"] = {"id": value_id, **snapshot.values[str(value_id)]}
    neighbours = analysis.fairness_neighbours(snapshot.edges, value_id)
    for side, other_end in (("wiser", "target"), ("less_wise", "source")):
        edge = neighbours[side]
        if edge is None or str(edge[other_end]) not in snapshot.values:
            continue
        other = int(edge[other_end])
        out[side] = {
            "id": other,
            **snapshot.values[str(other)],
            "wiser_votes": edge["counts"].get("wiser", 0),
            "judged": analysis.judged(edge),
        }
    return out


# Research exports ---------------------------------------------------------


def export_rows(participant_ids) -> list[tuple]:
    """One row per answer: participant, item, bank version, kind, answer,
    created_at, updated_at (for the study export's survey_answers.csv)."""
    rows = (
        SurveyResponse.objects.filter(participant_id__in=list(participant_ids))
        .order_by("participant__created_at", "participant_id", "item__when", "item__order", "item__key")
        .values_list(
            "participant_id", "item__key", "item__bank__version", "item__kind", "answer", "created_at", "updated_at"
        )
    )
    return [
        # Survey answers are of the first round (a retest asks the interview and the stories again).
        (pid, key, version, kind, answer, created.isoformat(), updated.isoformat(), 1)
        for pid, key, version, kind, answer, created, updated in rows
    ]


def answers_by_participant(participant_ids) -> dict:
    """{participant id: {item key: answer}} (one wide row per participant)."""
    out: dict = {}
    rows = SurveyResponse.objects.filter(participant_id__in=list(participant_ids)).values_list(
        "participant_id", "item__key", "answer"
    )
    for pid, key, answer in rows:
        out.setdefault(pid, {})[key] = answer
    return out


# Analyses -----------------------------------------------------------------


def _responses(study, *, kinds, include_simulated: bool, bank: ItemBank | None):
    rows = SurveyResponse.objects.filter(item__bank__study=study, item__kind__in=kinds)
    if bank is not None:
        rows = rows.filter(item__bank=bank)
    return rows.filter(counted("participant", include_simulated))


def likert_answers(study, *, include_simulated: bool = False, bank: ItemBank | None = None) -> dict[str, list[int]]:
    """{item key: answers 1-5} for the Likert items, in the order asked.
    Answers to the same key in different bank versions are pooled; pass
    `bank` to keep to one version's wording."""
    rows = (
        _responses(study, kinds=[SurveyItem.Kind.LIKERT5], include_simulated=include_simulated, bank=bank)
        .order_by("item__order", "item__key", "pk")
        .values_list("item__key", "answer")
    )
    out: dict[str, list[int]] = {}
    for key, answer in rows:
        out.setdefault(key, []).append(int(answer))
    return out


def answers_for_item(study, key: str, *, include_simulated: bool = False) -> dict:
    """{participant id: answer} to the item with this key (any bank version;
    a participant answers one version)."""
    rows = SurveyResponse.objects.filter(item__bank__study=study, item__key=key)
    rows = rows.filter(counted("participant", include_simulated))
    return dict(rows.values_list("participant_id", "answer"))


def legitimacy_table(study, *, include_simulated: bool = False, bank: ItemBank | None = None) -> list[dict]:
    """Table 3 for a study, each row with the wording of the newest version asked."""
    rows = analysis.likert_table(likert_answers(study, include_simulated=include_simulated, bank=bank))
    texts = dict(
        SurveyItem.objects.filter(bank__study=study, kind=SurveyItem.Kind.LIKERT5)
        .order_by("bank__version")
        .values_list("key", "text")
    )
    for row in rows:
        row["text"] = texts.get(row["key"], "")
    return rows


def fairness_table(study, *, include_simulated: bool = False, bank: ItemBank | None = None) -> dict:
    """Table 4 for a study."""
    answers = _responses(
        study, kinds=[SurveyItem.Kind.FAIRNESS], include_simulated=include_simulated, bank=bank
    ).values_list("answer", flat=True)
    return analysis.yes_no_table(list(answers))


def dedup_verification_table(study, *, include_simulated: bool = False, bank: ItemBank | None = None) -> dict:
    """Section 4.5: how many felt the value they were merged into represents them."""
    answers = _responses(
        study, kinds=[SurveyItem.Kind.DEDUP_VERIFICATION], include_simulated=include_simulated, bank=bank
    ).values_list("answer", flat=True)
    return analysis.dedup_table(list(answers))


def attention_summary(study, *, include_simulated: bool = False) -> dict:
    """How many participants answered attention checks, and how many wrongly."""
    rows = _responses(study, kinds=[SurveyItem.Kind.ATTENTION_CHECK], include_simulated=include_simulated, bank=None)
    return rows.aggregate(
        participants=Count("participant", distinct=True),
        wrong=Count("participant", distinct=True, filter=~Q(answer=F("item__expected_answer"))),
    )


# Weighted analyses: each answer counted with its participant's survey weight ---


def _weighted_pairs(rows, weighting) -> tuple[dict, int, int]:
    """{key: [(answer, weight)]} from (participant, key, answer) rows, with the
    answers and participants left out for having no weight (the run's policy)."""
    out: dict = {}
    left, people = 0, set()
    for pid, key, answer in rows:
        weight = weighting.weight_of(pid)
        if weight is None:
            left += 1
            people.add(pid)
            continue
        out.setdefault(key, []).append((answer, weight))
    return out, left, len(people)


def weighted_legitimacy_table(
    study, weighting, *, include_simulated: bool = False, bank: ItemBank | None = None
) -> dict:
    """Table 3 weighted by a weighting run (a run, its id or a studies.weighting.Weighting):
    {"run", "rows" (as legitimacy_table's, each answer counted by weight),
    "left_out_answers", "left_out_participants" (no weight in the run)}."""
    found = weighting_source.resolve(weighting, study=study)
    rows = (
        _responses(study, kinds=[SurveyItem.Kind.LIKERT5], include_simulated=include_simulated, bank=bank)
        .order_by("item__order", "item__key", "pk")
        .values_list("participant_id", "item__key", "answer")
    )
    pairs, left, people = _weighted_pairs(rows, found)
    table = analysis.weighted_likert_table(pairs)
    texts = dict(
        SurveyItem.objects.filter(bank__study=study, kind=SurveyItem.Kind.LIKERT5)
        .order_by("bank__version")
        .values_list("key", "text")
    )
    for row in table:
        row["text"] = texts.get(row["key"], "")
    return {"run": found.run_id, "rows": table, "left_out_answers": left, "left_out_participants": people}


def weighted_fairness_table(study, weighting, *, include_simulated: bool = False, bank: ItemBank | None = None) -> dict:
    """Table 4 weighted by a weighting run, with what was left out (as weighted_legitimacy_table)."""
    found = weighting_source.resolve(weighting, study=study)
    rows = _responses(
        study, kinds=[SurveyItem.Kind.FAIRNESS], include_simulated=include_simulated, bank=bank
    ).values_list("participant_id", "item__key", "answer")
    pairs, left, people = _weighted_pairs(rows, found)
    table = analysis.weighted_yes_no_table([p for key_pairs in pairs.values() for p in key_pairs])
    return {"run": found.run_id, **table, "left_out_answers": left, "left_out_participants": people}
