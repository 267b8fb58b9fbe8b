"""Writes for values: matching a card to canonical values (paper 4.5, step 2)
and participants' approvals.

Bad model output (an id that was not offered, malformed JSON, a refusal) is
treated as "no match": recorded, and never links a card wrongly.
"""

from __future__ import annotations

from pathlib import Path

import pgtrigger
from asgiref.sync import async_to_sync
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from mgeplatform import locks
from mgeplatform.asyncdb import db_async
from mgeplatform.audit import participant_context, record_event, redaction_marker
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.types import ChatRequest, LLMError, LLMOutputError, Message
from mgeplatform.models import LLMCall
from studies.models import Cohort, Step
from values import embeddings, events, seed_file, selectors, translation
from values.clustering import cluster_vectors, groups, medoid
from values.contracts import BestCardAnswer, MatchAnswer
from values.models import CanonicalApproval, CanonicalValue, DeduplicationDecision, DeduplicationRun, ValuesCard
from values.translation import words_in_pivot


def deduplicator_prompt():
    return app_prompt(__file__, "deduplicator")


def card_text(title: str, description: str, policies) -> str:
    return f"Title: {title}\nDescription: {description}\nAttentional policies:\n" + "\n".join(
        f"- {p}" for p in policies
    )


PURPOSES = {
    DeduplicationDecision.Kind.IN_CHAT: "values.match_in_chat",
    DeduplicationDecision.Kind.BATCH: "values.batch_dedup",
}


def _prepare_match(card_id: int, kind: str):
    """Embed the card and pick candidates; no request when there is nothing to ask. None for a card left
    out of the study's values (scripted)."""
    card = ValuesCard.objects.select_related("interview__participant__study").get(pk=card_id)
    study = card.interview.participant.study
    if selectors.left_out_of_values(card, study):
        return None, [], None, None
    if card.embedding is None:
        embeddings.embed_card(card)
    candidates = [
        c
        for c in selectors.nearest_to_card(card, k=settings.DEDUP_CANDIDATES)
        if c.distance <= settings.DEDUP_MAX_DISTANCE
    ]
    offered = [{"id": c.pk, "title": c.title, "distance": round(float(c.distance), 4)} for c in candidates]
    if not candidates:
        return card, offered, None, None
    prompt = deduplicator_prompt()
    # A card in another language is compared by its pivot rendering, the language of the values.
    text = "New card:\n" + card_text(*words_in_pivot(card)) + "\n\nCanonical values:\n"
    text += "\n\n".join(f"id {c.pk}\n" + card_text(c.title, c.description, c.policies) for c in candidates)
    request = ChatRequest(
        model="", system=prompt.render(), messages=[Message(role="user", content=text)], max_tokens=300, temperature=0
    )
    ctx = gateway.CallContext(
        purpose=PURPOSES[DeduplicationDecision.Kind(kind)],
        prompt=prompt,
        study=study,
        participant_id=card.interview.participant_id,
        content_of=selectors.authors(c.pk for c in candidates),
    )
    return card, offered, request, ctx


def _decide(
    card: ValuesCard, kind: str, offered: list, answer: MatchAnswer | None, record, error: str = ""
) -> DeduplicationDecision:
    """Record the decision and act on it, in one transaction. In a batch run,
    a card that matches nothing becomes a canonical value itself; a failed
    call leaves it for the next run."""
    Outcome = DeduplicationDecision.Outcome
    matched = None
    if not offered:
        outcome, reason = Outcome.NO_CANDIDATES, "No canonical value was close enough to ask about."
    elif error:
        outcome, reason = (Outcome.BAD_OUTPUT if error.startswith("bad output") else Outcome.ERROR), error
    else:
        assert answer is not None  # no error, so the model answered
        chosen = answer.match
        reason = answer.reason or ""
        if chosen is None:
            outcome = Outcome.NO_MATCH
        elif chosen in {c["id"] for c in offered}:
            outcome, matched = Outcome.MATCHED, CanonicalValue.objects.get(pk=chosen)
        else:
            outcome, reason = Outcome.BAD_OUTPUT, f"The model named id {chosen}, which was not offered. {reason}"
    with transaction.atomic(), participant_context(card.interview.participant_id):
        if kind == DeduplicationDecision.Kind.BATCH and matched is None and outcome != Outcome.ERROR:
            title, description, policies = words_in_pivot(card)
            matched = CanonicalValue.objects.create(
                study=card.interview.participant.study,
                title=title,
                description=description,
                policies=policies,
                origin=CanonicalValue.Origin.BATCH,
                representative_card=card,
                embedding=card.embedding,
                embedding_model=card.embedding_model,
            )
            translation.reset_renderings(matched, card)
            reason = f"{reason} New canonical value {matched.pk} made from this card.".strip()
        decision = DeduplicationDecision.objects.create(
            card=card,
            kind=kind,
            outcome=outcome,
            candidates=offered,
            matched=matched,
            reason=reason[:2000],
            llm_call=record,
        )
        if matched is not None:
            ValuesCard.objects.filter(pk=card.pk).update(canonical=matched)
            record_event(
                events.VALUES_CARD_MATCHED,
                participant_id=card.interview.participant_id,
                study_slug=matched.study.slug,
                subject=card,
                payload={"canonical": matched.pk, "decision": decision.pk},
            )
    return decision


async def match_card_async(card_id: int, kind: str) -> DeduplicationDecision | None:
    """Match the card (or, in a batch, make it a value); None, and nothing recorded, for a card left out of
    the study's values."""
    untranslated = await translation.ensure_pivot_async(card_id)
    if untranslated:
        # Compared in its own language it would miss the values it shares with other languages: left for
        # the next run (the batch treats it as a failed call), and the card stays as it is.
        return await db_async(_untranslated)(card_id, kind, untranslated)
    card, offered, request, ctx = await db_async(_prepare_match)(card_id, kind)
    if card is None:
        return None
    answer, record, error = None, None, ""
    if request is not None:
        try:
            answer, record = await gateway.structured_async(request, MatchAnswer, ctx)
        except LLMOutputError as err:
            error, record = f"bad output: {err}", getattr(err, "record", None)
        except LLMError as err:
            error, record = f"call failed: {err}", getattr(err, "record", None)
    return await db_async(_decide)(card, kind, offered, answer, record, error)


def _untranslated(card_id: int, kind: str, why: str) -> DeduplicationDecision | None:
    card = ValuesCard.objects.select_related("interview__participant__study").get(pk=card_id)
    if selectors.left_out_of_values(card, card.interview.participant.study):
        return None
    with transaction.atomic(), participant_context(card.interview.participant_id):
        return DeduplicationDecision.objects.create(
            card=card, kind=kind, outcome=DeduplicationDecision.Outcome.ERROR, reason=why[:2000]
        )


async def match_card_in_chat_async(card_id: int) -> DeduplicationDecision | None:
    return await match_card_async(card_id, DeduplicationDecision.Kind.IN_CHAT)


def match_card_in_chat(card_id: int) -> DeduplicationDecision | None:
    return async_to_sync(match_card_async)(card_id, DeduplicationDecision.Kind.IN_CHAT)


def record_approval(*, card: ValuesCard, canonical: CanonicalValue, answer: str) -> CanonicalApproval:
    """The participant says how well the canonical value represents them.
    A second answer (double click, back button) keeps the first."""
    if answer not in CanonicalApproval.Answer.values:
        raise ValueError("unknown answer")
    try:
        with transaction.atomic(), participant_context(card.interview.participant_id):
            approval = CanonicalApproval.objects.create(card=card, canonical=canonical, answer=answer)
            record_event(
                events.CANONICAL_APPROVAL,
                participant_id=card.interview.participant_id,
                study_slug=canonical.study.slug,
                subject=approval,
                payload={"card": card.pk, "canonical": canonical.pk, "answer": answer},
            )
            return approval
    except IntegrityError:
        return CanonicalApproval.objects.get(card=card, canonical=canonical)


# --- seeding (paper 4.5, step 1) -------------------------------------------


def best_card_prompt():
    return app_prompt(__file__, "best_card")


def _pick_best(study, cards: list[ValuesCard], vectors) -> tuple[ValuesCard, str, LLMCall | None]:
    """The LLM picks the best-written card; an unusable answer falls back to
    the cluster's medoid, and the reason says so."""

    prompt = best_card_prompt()
    text = "\n\n".join(f"id {c.pk}\n" + card_text(*words_in_pivot(c)) for c in cards)
    request = ChatRequest(
        model="", system=prompt.render(), messages=[Message(role="user", content=text)], max_tokens=300, temperature=0
    )
    ctx = gateway.CallContext(
        purpose="values.seed_best_card",
        prompt=prompt,
        study=study,
        content_of=[c.interview.participant_id for c in cards],
    )
    by_id = {c.pk: c for c in cards}
    try:
        answer, record = gateway.structured(request, BestCardAnswer, ctx)
    except LLMError as err:
        return (
            cards[medoid(vectors)],
            f"Model answer unusable ({err}); took the cluster's medoid.",
            getattr(err, "record", None),
        )
    if answer.best not in by_id:
        return cards[medoid(vectors)], f"Model chose id {answer.best}, not in the cluster; took the medoid.", record
    return by_id[answer.best], answer.reason or "", record


def seed_canonical_values(study, *, eps: float = 0.3, min_samples: int = 2) -> dict:
    """Cluster the study's submitted cards that have no canonical value yet;
    each cluster becomes a canonical value worded like its best card. Safe to
    re-run: cards already linked are left alone."""

    model_name = gateway.resolve_embedding().model
    pending = selectors.may_shape_values(
        ValuesCard.objects.filter(interview__participant__study=study, submitted=True, canonical__isnull=True), study
    )
    embeddings.embed_objects(pending.exclude(embedding_model=model_name, embedding__isnull=False), study=study)
    cards = list(pending.filter(embedding_model=model_name).order_by("pk"))
    vectors = [list(c.embedding) for c in cards]
    clusters = groups(cluster_vectors(vectors, eps=eps, min_samples=min_samples))
    created = 0
    for members in clusters.values():
        member_cards = [cards[i] for i in members]
        best, reason, record = _pick_best(study, member_cards, [vectors[i] for i in members])
        title, description, policies = words_in_pivot(best)
        with transaction.atomic():
            value = CanonicalValue.objects.create(
                study=study,
                title=title,
                description=description,
                policies=policies,
                origin=CanonicalValue.Origin.SEED,
                representative_card=best,
                embedding=best.embedding,
                embedding_model=best.embedding_model,
            )
            translation.reset_renderings(value, best)
            ValuesCard.objects.filter(pk__in=[c.pk for c in member_cards]).update(canonical=value)
            DeduplicationDecision.objects.bulk_create(
                [
                    DeduplicationDecision(
                        card=c,
                        kind=DeduplicationDecision.Kind.SEED,
                        outcome=DeduplicationDecision.Outcome.MATCHED,
                        matched=value,
                        candidates=[{"id": m.pk, "title": m.title} for m in member_cards],
                        reason=reason[:2000],
                        llm_call=record,
                    )
                    for c in member_cards
                ]
            )
            record_event(
                events.CANONICAL_SEEDED,
                study_slug=study.slug,
                subject=value,
                payload={"cards": [c.pk for c in member_cards], "best": best.pk},
            )
        created += 1
    return {
        "clusters": created,
        "clustered_cards": sum(len(m) for m in clusters.values()),
        "unclustered_cards": len(cards) - sum(len(m) for m in clusters.values()),
    }


# --- coordinator corrections ---------------------------------------------------


@transaction.atomic
def merge_canonical_values(*, keep: CanonicalValue, merge: list[CanonicalValue], user=None) -> CanonicalValue:
    """Merge values into `keep`: their cards follow, and each merged value
    stays (marked merged_into) so its provenance remains readable."""
    others = [v for v in merge if v.pk != keep.pk]
    if not others:
        raise ValueError("Choose at least one other value to merge.")
    if any(v.study_id != keep.study_id for v in others) or keep.merged_into_id:
        raise ValueError("Values can only be merged into a live value of the same study.")
    moved = ValuesCard.objects.filter(canonical__in=others).update(canonical=keep)
    CanonicalValue.objects.filter(pk__in=[v.pk for v in others]).update(merged_into=keep)
    record_event(
        events.CANONICAL_MERGED,
        user=user,
        study_slug=keep.study.slug,
        subject=keep,
        payload={"merged": [v.pk for v in others], "cards_moved": moved},
    )
    return keep


# --- batch deduplication (paper 4.5, step 3) --------------------------------------


def run_batch_dedup(study) -> DeduplicationRun:
    """Every submitted card not yet linked joins a canonical value or becomes
    one. Each card is decided in its own transaction, so a crash loses at
    most the card in hand and a re-run carries on without duplicates; an
    advisory lock keeps two runs of one study from overlapping."""
    run = DeduplicationRun.objects.create(study=study)
    with locks.try_advisory_lock(DEDUP_LOCK_NAMESPACE, study.pk) as acquired:
        if not acquired:
            run.finish(DeduplicationRun.Status.SKIPPED, error="Another run of this study is in progress.")
            return run
        # Holding the lock, no other run of this study is alive: any still
        # marked running was cut off by a dying process.
        locks.mark_runs_failed(DeduplicationRun.objects.filter(study=study).exclude(pk=run.pk), ORPHANED_REASON)
        counts = {"cards": 0, "joined": 0, "new": 0, "failed": 0}
        try:
            # Staff previews never shape the study's values, nor (unless the study says so) scripted cards.
            pending = (
                selectors.may_shape_values(
                    ValuesCard.objects.filter(
                        interview__participant__study=study, submitted=True, canonical__isnull=True
                    ),
                    study,
                )
                .exclude(interview__participant__cohort=Cohort.PREVIEW)
                .order_by("submitted_at", "pk")
            )
            for card_id in list(pending.values_list("pk", flat=True)):
                decision = async_to_sync(match_card_async)(card_id, DeduplicationDecision.Kind.BATCH)
                if decision is None:  # left out since the list was read (the study's setting changed)
                    continue
                counts["cards"] += 1
                if decision.outcome == DeduplicationDecision.Outcome.MATCHED:
                    counts["joined"] += 1
                elif decision.outcome == DeduplicationDecision.Outcome.ERROR:
                    counts["failed"] += 1
                else:
                    counts["new"] += 1
            run.counts = counts
            run.finish(DeduplicationRun.Status.FINISHED)
        except Exception as err:
            run.counts = counts
            run.finish(DeduplicationRun.Status.FAILED, error=f"{type(err).__name__}: {err}")
            raise
    return run


DEDUP_LOCK_NAMESPACE = 4_500  # first key of the advisory lock pair (study id is the second)

ORPHANED_REASON = (
    "Stopped before finishing: the process running it ended (worker stopped or database "
    "restarted). Cards already decided keep their decision; the next run takes the rest."
)


def fail_orphaned_runs(*, min_age_seconds: float = 5) -> int:
    """Deduplication runs still marked running that no process runs (see mgeplatform.locks)."""
    return locks.fail_orphaned_runs(
        DeduplicationRun, DEDUP_LOCK_NAMESPACE, ORPHANED_REASON, min_age_seconds=min_age_seconds
    )


@transaction.atomic
def split_canonical_value(*, cards: list[ValuesCard], user=None) -> CanonicalValue:
    """Move some of a canonical value's cards to a new canonical value,
    worded like the first of them. Decisions that linked them stay, for
    provenance; the split itself is the audited event."""
    sources = {c.canonical_id for c in cards}
    if not cards or len(sources) != 1 or None in sources:
        raise ValueError("Choose cards that all belong to the same canonical value.")
    (source_id,) = sources
    assert source_id is not None  # refused above
    source = CanonicalValue.objects.select_for_update().get(pk=source_id)
    if source.cards.exclude(pk__in=[c.pk for c in cards]).count() == 0:
        raise ValueError("Leave at least one card with the original value (or edit it instead).")
    first = min(cards, key=lambda c: c.pk)
    title, description, policies = words_in_pivot(first)
    value = CanonicalValue.objects.create(
        study=source.study,
        title=title,
        description=description,
        policies=policies,
        origin=CanonicalValue.Origin.MANUAL,
        representative_card=first,
        embedding=first.embedding,
        embedding_model=first.embedding_model,
    )
    translation.reset_renderings(value, first)
    ValuesCard.objects.filter(pk__in=[c.pk for c in cards]).update(canonical=value)
    record_event(
        events.CANONICAL_SPLIT,
        user=user,
        study_slug=source.study.slug,
        subject=value,
        payload={"from": source.pk, "cards": [c.pk for c in cards]},
    )
    return value


@transaction.atomic
def split_off_card(*, card: ValuesCard, user=None, reason: str = "") -> CanonicalValue:
    """Give one card a canonical value of its own, worded as the card: what a
    participant asked for when they disputed their card's merge and a
    coordinator upheld it. The value the card leaves keeps its other cards
    (and the votes on it); the decisions that linked the card stay, for
    provenance. Audited as a split."""
    card = ValuesCard.objects.select_for_update().get(pk=card.pk)
    if card.canonical_id is None:
        raise ValueError("This card is not part of a canonical value, so there is nothing to split it off from.")
    source = CanonicalValue.objects.select_for_update().get(pk=card.canonical_id)
    title, description, policies = words_in_pivot(card)
    if not source.cards.exclude(pk=card.pk).exists() and (source.title, source.description, list(source.policies)) == (
        title,
        description,
        policies,
    ):
        raise ValueError("This card already has a value of its own, worded as the card.")
    value = CanonicalValue.objects.create(
        study=source.study,
        title=title,
        description=description,
        policies=policies,
        origin=CanonicalValue.Origin.MANUAL,
        representative_card=card,
        **(
            {"embedding": card.embedding, "embedding_model": card.embedding_model}
            if card.embedding is not None
            else {"embedding": source.embedding, "embedding_model": source.embedding_model}
        ),
    )
    translation.reset_renderings(value, card)
    ValuesCard.objects.filter(pk=card.pk).update(canonical=value)
    record_event(
        events.CANONICAL_SPLIT,
        user=user,
        study_slug=source.study.slug,
        subject=value,
        payload={"from": source.pk, "cards": [card.pk], "reason": reason[:300]},
    )
    return value


# --- seeding from a file of cards (before launch) ------------------------------------


def _file_bytes(file) -> tuple[bytes, str]:
    """(content, name) of a path, an uploaded file or (name, bytes)."""
    if isinstance(file, tuple):
        return file[1], file[0]
    if isinstance(file, (str, Path)):
        path = Path(file)
        return path.read_bytes(), path.name
    raw = file.read()
    return (raw.encode() if isinstance(raw, str) else raw), Path(getattr(file, "name", "") or "upload").name


def check_seed_file(study, file) -> tuple[list[seed_file.Row], str]:
    """The file's rows, checked against the study (read only): what the
    admin previews before anything is saved."""
    raw, name = _file_bytes(file)
    rows = seed_file.parse(
        raw,
        name,
        scenario_keys=set(study.scenarios.values_list("key", flat=True)),
        existing_titles=set(selectors.live_values(study).values_list("title", flat=True)),
    )
    return rows, name


def seed_values_from_file(study, file, *, user=None) -> dict:
    """Make a canonical value of each card in the file (CSV or JSON; see
    values/seed_file.py), so the study's first participants have values to
    mark and stories to judge. All or nothing: any bad row and nothing is
    saved (SeedFileError lists every problem). Titles the study already has
    are skipped, so the same file can be given twice. Values are embedded
    after they are saved; a failed embedding leaves them without a vector
    (`manage.py reembed --only-missing` fills it in)."""
    rows, name = check_seed_file(study, file)
    bad = seed_file.problems(rows)
    if bad:
        raise seed_file.SeedFileError(bad)
    by_key = {s.key: s for s in study.scenarios.all()}
    everywhere = [s for s in by_key.values() if s.active]
    made, skipped = [], []
    with transaction.atomic():
        # One seeding of a study at a time, so two uploads cannot both add a title.
        type(study).objects.select_for_update().filter(pk=study.pk).first()
        taken = {seed_file._key(t) for t in selectors.live_values(study).values_list("title", flat=True)}
        for row in rows:
            card = row.card
            assert card is not None, "only rows without problems are seeded"
            if seed_file._key(card.title) in taken:
                skipped.append(card.title)
                continue
            value = CanonicalValue.objects.create(
                study=study,
                title=card.title,
                description=card.description,
                policies=card.policies,
                origin=CanonicalValue.Origin.FILE,
                source_name=name[:300],
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
            value.scenarios.set([by_key[k] for k in card.scenarios] if card.scenarios else everywhere)
            made.append(value)
        record_event(
            events.CANONICAL_SEEDED_FROM_FILE,
            user=user if getattr(user, "is_authenticated", False) else None,
            study_slug=study.slug,
            payload={"file": name, "values": [v.pk for v in made], "skipped": skipped},
        )
    embedded, embed_error = 0, ""
    try:  # outside the transaction: the model call holds no row lock
        embedded = embeddings.embed_objects(made, study=study)
    except LLMError as err:
        embed_error = str(err)
    return {"file": name, "made": made, "skipped": skipped, "embedded": embedded, "embed_error": embed_error}


# --- withdrawal: a value worded from a withdrawn participant's card ---------------------


def release_wording(participant) -> dict[str, int]:
    """Called on a withdrawal that deletes what the participant wrote, before
    their cards go: each canonical value worded from one of their cards is
    worded again from another of its cards (the earliest submitted one of a
    participant still in the study), or archived with its text redacted when
    none is left. The value's history rows that hold the withdrawn wording
    are deleted; the rewording itself is audited (ids, no text)."""
    theirs = set(ValuesCard.objects.filter(interview__participant=participant).values_list("pk", flat=True))
    reworded = archived = 0
    for value in selectors.worded_from(participant).select_for_update().order_by("pk"):
        cards = (
            ValuesCard.objects.filter(canonical=value, submitted=True)
            .exclude(interview__participant=participant)
            .exclude(interview__participant__current_step=Step.WITHDRAWN)
        )
        other = selectors.may_shape_values(cards, participant.study).order_by("pk").first()
        if other is not None:
            value.title, value.description, value.policies = words_in_pivot(other)
            value.representative_card = other
            if other.embedding is not None:
                value.embedding, value.embedding_model = other.embedding, other.embedding_model
            reworded += 1
        else:
            marker = redaction_marker(participant.study.withdrawal_policy)
            value.title, value.description, value.policies = marker, marker, []
            value.representative_card, value.embedding = None, None
            value.archived_at, value.archived_reason = timezone.now(), marker
            archived += 1
        value.save()
        # Renderings of the withdrawn wording go (their history copies are the withdrawal's audit copies).
        translation.reset_renderings(value, other)
        with pgtrigger.ignore("values.CanonicalValueEvent:append_only"):
            history = apps.get_model("values", "CanonicalValueEvent").objects
            history.filter(pgh_obj_id=value.pk, representative_card_id__in=theirs).delete()
        record_event(
            events.CANONICAL_REWORDED if other is not None else events.CANONICAL_ARCHIVED,
            study_slug=participant.study.slug,
            subject=value,
            payload={"card": other.pk if other is not None else None, "reason": "participant withdrew"},
        )
    return {"values_reworded": reworded, "values_archived": archived}


def add_card_revision(interview, *, revision, title, description, policies, source, llm_call, scripted) -> ValuesCard:
    """A new revision of an interview's card (the interview's services call it through
    interviews.card_store): written in the participant's language, and rendered in the study's pivot
    language when that is another."""
    participant = interview.participant
    return ValuesCard.objects.create(
        interview=interview,
        revision=revision,
        title=title,
        description=description,
        policies=policies,
        source=source,
        llm_call=llm_call,
        scripted=scripted,
        language=translation.card_language(participant),
        pivot_language=translation.pivot_language(participant.study),
    )
