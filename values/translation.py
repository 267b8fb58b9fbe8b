"""Values cards and canonical values across a study's languages (issue 27).

A study's first language is its pivot. A participant writes their card in
their own language; a card in another language gets a pivot-language
rendering (`ValuesCard.pivot_*`), made through the gateway (purpose
`values.translate`, prompt `translator`): before the in-chat match when
there is time, else by the job queued when the card is submitted, retried,
and again by the next deduplication run. Deduplication embeds and compares
the pivot rendering, so cards saying the same thing in two languages meet.

A canonical value's own fields are its pivot wording; `ValueRendering`
keeps it in each other language of the study: the representative card's own
words when it was written in that language, else a translation of the pivot
wording (`render_missing_values`, run after each deduplication run). What a
participant is shown is `selectors.value_in(value, their language)`."""

from __future__ import annotations

from django.db import transaction
from procrastinate.contrib.django import app

from mgeplatform.asyncdb import db_async
from mgeplatform.audit import participant_context, record_event
from mgeplatform.llm import gateway
from mgeplatform.llm.prompts import app_prompt
from mgeplatform.llm.types import ChatRequest, LLMError, LLMOutputError, Message
from studies import languages
from values import events, selectors
from values.contracts import TranslationAnswer
from values.models import CanonicalValue, ValueRendering, ValuesCard, wording_digest

PURPOSE = "values.translate"
TASK = "values.translate_card"


def translator_prompt():
    return app_prompt(__file__, "translator")


def pivot_language(study) -> str:
    return languages.study_languages(study)[0]


def card_language(participant) -> str:
    """The language a participant's card is written in: theirs, one of the study's."""
    return languages.participant_language(participant)


def words_in_pivot(card: ValuesCard) -> tuple[str, str, list[str]]:
    """The card in the pivot language: its rendering when it has one, else its own words (a card in the
    pivot language, or one whose rendering is not made yet)."""
    if card.needs_translation and card.translation == ValuesCard.Translation.DONE:
        return card.pivot_title, card.pivot_description, list(card.pivot_policies)
    return card.title, card.description, list(card.policies)


def lacks_pivot(card: ValuesCard) -> bool:
    return card.needs_translation and card.translation != ValuesCard.Translation.DONE


def _block(title: str, description: str, policies) -> str:
    return f"Title: {title}\nDescription: {description}\nAttentional policies:\n" + "\n".join(
        f"- {p}" for p in policies
    )


def translation_request(*, study, source: str, target: str, words, participant_id=None, content_of=()):
    """The request and call context that render `words` (title, description, policies) from `source`
    into `target`."""
    prompt = translator_prompt()
    text = f"From: {source}\nInto: {target}\n\n" + _block(*words)
    request = ChatRequest(
        model="",
        system=prompt.render(),
        messages=[Message(role="user", content=text)],
        max_tokens=1200,
        temperature=0,
    )
    ctx = gateway.CallContext(
        purpose=PURPOSE,
        prompt=prompt,
        study=study,
        participant_id=participant_id,
        content_of=content_of,
        extra={"from": source, "into": target},
    )
    return request, ctx


def _checked(answer: TranslationAnswer, policies, record) -> TranslationAnswer:
    """A rendering keeps every policy: one dropped or added is a bad answer."""
    if len(answer.policies) != len(policies):
        err = LLMOutputError(
            f"policies: the card has {len(policies)} attentional policies, the translation {len(answer.policies)}"
        )
        err.record = record
        raise err
    return answer


# --- a card's pivot-language rendering ---------------------------------------------------


def _card_request(card_id: int):
    card = ValuesCard.objects.select_related("interview__participant__study").get(pk=card_id)
    if not lacks_pivot(card):
        return card, None, None
    request, ctx = translation_request(
        study=card.interview.participant.study,
        source=card.language,
        target=card.pivot_language,
        words=(card.title, card.description, card.policies),
        participant_id=card.interview.participant_id,
    )
    return card, request, ctx


def _save_card_rendering(card_id: int, answer: TranslationAnswer, record) -> ValuesCard:
    with transaction.atomic():
        card = ValuesCard.objects.select_for_update().select_related("interview__participant__study").get(pk=card_id)
        with participant_context(card.interview.participant_id):
            card.pivot_title, card.pivot_description = answer.title, answer.description
            card.pivot_policies = list(answer.policies)
            card.pivot_llm_call = record
            card.translation, card.translation_error = ValuesCard.Translation.DONE, ""
            card.save(
                update_fields=[
                    "pivot_title",
                    "pivot_description",
                    "pivot_policies",
                    "pivot_llm_call",
                    "translation",
                    "translation_error",
                ]
            )
            record_event(
                events.CARD_TRANSLATED,
                participant_id=card.interview.participant_id,
                study_slug=card.interview.participant.study.slug,
                subject=card,
                payload={"from": card.language, "into": card.pivot_language, "llm_call": getattr(record, "pk", None)},
            )
    return card


def _card_rendering_failed(card_id: int, error: str, record) -> None:
    with transaction.atomic():
        card = ValuesCard.objects.select_for_update().select_related("interview__participant__study").get(pk=card_id)
        with participant_context(card.interview.participant_id):
            card.translation, card.translation_error = ValuesCard.Translation.FAILED, error[:2000]
            card.save(update_fields=["translation", "translation_error"])
            record_event(
                events.CARD_TRANSLATION_FAILED,
                participant_id=card.interview.participant_id,
                study_slug=card.interview.participant.study.slug,
                subject=card,
                payload={"from": card.language, "into": card.pivot_language, "llm_call": getattr(record, "pk", None)},
            )


def translate_card(card_id: int) -> ValuesCard:
    """Render the card in the pivot language (nothing to do for a card in it, or one rendered already).
    A failure is recorded on the card and raised, so the job is retried."""
    card, request, ctx = _card_request(card_id)
    if request is None:
        return card
    try:
        answer, record = gateway.structured(request, TranslationAnswer, ctx)
        answer = _checked(answer, card.policies, record)
    except LLMError as err:
        _card_rendering_failed(card_id, str(err), getattr(err, "record", None))
        raise
    return _save_card_rendering(card_id, answer, record)


async def ensure_pivot_async(card_id: int) -> str:
    """Before deduplication: the card's pivot rendering, made now if it is missing. "" when the card can
    be compared, else why not (recorded on the card; the next run tries again)."""
    card, request, ctx = await db_async(_card_request)(card_id)
    if request is None:
        return ""
    try:
        answer, record = await gateway.structured_async(request, TranslationAnswer, ctx)
        answer = _checked(answer, card.policies, record)
    except LLMError as err:
        await db_async(_card_rendering_failed)(card_id, str(err), getattr(err, "record", None))
        return f"no {card.pivot_language} rendering of the card: {err}"
    await db_async(_save_card_rendering)(card_id, answer, record)
    return ""


def queue_card_translation(card: ValuesCard) -> bool:
    """Inside the submitting transaction: after commit, a job renders the card in the pivot language
    (retried on failure). False when there is nothing to do."""
    if not lacks_pivot(card):
        return False
    ValuesCard.objects.filter(pk=card.pk).update(translation=ValuesCard.Translation.PENDING)
    card_id = card.pk
    transaction.on_commit(lambda: app.configure_task(TASK).defer(card_id=card_id))
    return True


# --- a canonical value in each of its study's languages ---------------------------------


def reset_renderings(value: CanonicalValue, card: ValuesCard | None) -> None:
    """Inside the transaction that (re)words `value` from `card`: renderings of an older wording go, and
    the card's own words become the value's rendering in the card's language. Translations into the
    study's other languages follow (render_missing_values)."""
    ValueRendering.objects.filter(canonical=value).delete()
    if card is None or not card.needs_translation or card.translation != ValuesCard.Translation.DONE:
        return
    ValueRendering.objects.create(
        canonical=value,
        language=card.language,
        title=card.title,
        description=card.description,
        policies=list(card.policies),
        source=ValueRendering.Source.CARD,
        card=card,
        pivot_digest=wording_digest(value.title, value.description, value.policies),
    )


def render_missing_values(study) -> dict:
    """Translate each live value into every language of the study it has no current rendering in.
    One call per value and language; a failure is counted and tried again next time."""
    pivot = pivot_language(study)
    wanted = [code for code in languages.study_languages(study) if code != pivot]
    counts = {"rendered": 0, "failed": 0}
    if not wanted:
        return counts
    # What is there already, in one query: (value, language, wording rendered).
    have = set(
        ValueRendering.objects.filter(canonical__study=study).values_list("canonical_id", "language", "pivot_digest")
    )
    for value in selectors.live_values(study).order_by("pk"):
        digest = wording_digest(value.title, value.description, value.policies)
        for code in wanted:
            if (value.pk, code, digest) in have:
                continue
            request, ctx = translation_request(
                study=study,
                source=pivot,
                target=code,
                words=(value.title, value.description, value.policies),
                content_of=selectors.authors([value.pk]),
            )
            try:
                answer, record = gateway.structured(request, TranslationAnswer, ctx)
                answer = _checked(answer, value.policies, record)
            except LLMError:
                counts["failed"] += 1
                continue
            with transaction.atomic():
                ValueRendering.objects.update_or_create(
                    canonical=value,
                    language=code,
                    defaults={
                        "title": answer.title,
                        "description": answer.description,
                        "policies": list(answer.policies),
                        "source": ValueRendering.Source.TRANSLATION,
                        "card": value.representative_card,
                        "pivot_digest": digest,
                        "llm_call": record,
                    },
                )
                record_event(
                    events.CANONICAL_RENDERED,
                    study_slug=study.slug,
                    subject=value,
                    payload={"language": code, "llm_call": getattr(record, "pk", None)},
                )
            counts["rendered"] += 1
    return counts
