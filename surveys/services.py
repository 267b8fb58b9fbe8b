"""Writes for item banks, survey answers and follow-up links.

Each service does its change and its audit event in one transaction, under
a pghistory context naming the participant where one is acting.
"""

from __future__ import annotations

import io
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from mgeplatform import csvfiles
from mgeplatform.audit import participant_context, record_event
from studies import steps
from studies.models import Participant, Step, Study
from surveys import defaults, events, selectors
from surveys.models import FollowUpLink, ItemBank, SurveyItem, SurveyResponse
from surveys.selectors import TOKEN_SALT


class BankError(ValueError):
    pass


# Item banks ---------------------------------------------------------------


def _locked_study(study: Study) -> Study:
    # Serialises version numbering for one study.
    return Study.objects.select_for_update().get(pk=study.pk)


def _next_version(study: Study) -> int:
    return (ItemBank.objects.filter(study=study).aggregate(v=Max("version"))["v"] or 0) + 1


@transaction.atomic
def ensure_default_bank(study: Study) -> ItemBank:
    """The bank participants are asked now. A study with no published bank
    gets the paper's questions (Tables 3 and 4, section 4.5), published, so
    nobody reaches the survey without questions; for a new study that is
    version 1."""
    bank = selectors.current_bank(study)
    if bank is not None:
        return bank
    study = _locked_study(study)
    bank = selectors.current_bank(study)  # made by a concurrent request
    if bank is not None:
        return bank
    bank = ItemBank.objects.create(study=study, version=_next_version(study), note="The paper's questions")
    SurveyItem.objects.bulk_create(SurveyItem(bank=bank, **fields) for fields in defaults.default_items())
    _publish(bank)
    record_event(
        events.SURVEY_DEFAULT_BANK_CREATED, study_slug=study.slug, subject=bank, payload={"version": bank.version}
    )
    return bank


@transaction.atomic
def new_version(study: Study, *, source: ItemBank | None = None, user=None, note: str = "") -> ItemBank:
    """A draft bank to edit: a copy of `source` (default: the newest bank),
    or of the paper's questions when the study has none."""
    study = _locked_study(study)
    if source is None:
        source = ItemBank.objects.filter(study=study).order_by("-version").first()
    elif source.study_id != study.pk:
        raise BankError("That bank belongs to another study.")
    bank = ItemBank.objects.create(
        study=study,
        version=_next_version(study),
        note=note or (f"From v{source.version}" if source else ""),
        attention_failures_to_flag=source.attention_failures_to_flag if source else 1,
    )
    fields = (
        defaults.default_items()
        if source is None
        else [
            dict(key=i.key, kind=i.kind, text=i.text, order=i.order, when=i.when, expected_answer=i.expected_answer)
            for i in source.items.all()
        ]
    )
    SurveyItem.objects.bulk_create(SurveyItem(bank=bank, **f) for f in fields)
    record_event(
        events.SURVEY_BANK_DRAFTED,
        user=user,
        study_slug=study.slug,
        subject=bank,
        payload={"version": bank.version, "from_version": source.version if source else None},
    )
    return bank


def validate_bank(bank: ItemBank) -> None:
    """Raise BankError if the bank cannot be asked as it is."""
    problems = []
    for item in bank.items.all():
        try:
            item.clean()
        except ValidationError as err:
            problems.append(f"{item.key}: {'; '.join(err.messages)}")
    if problems:
        raise BankError("; ".join(problems))


def _publish(bank: ItemBank) -> None:
    bank.published, bank.published_at = True, timezone.now()
    bank.save(update_fields=["published", "published_at"])


@transaction.atomic
def publish_bank(bank: ItemBank, *, user=None) -> ItemBank:
    """Freeze a draft and ask it from now on. Only the newest version may be
    published, so "newest published" is always the one just published."""
    _locked_study(bank.study)
    bank = ItemBank.objects.select_for_update().get(pk=bank.pk)
    if bank.published:
        return bank
    newest = ItemBank.objects.filter(study=bank.study_id).aggregate(v=Max("version"))["v"]
    if bank.version != newest:
        raise BankError(f"v{newest} is newer than v{bank.version}: make a new version from the newest bank instead.")
    validate_bank(bank)
    _publish(bank)
    record_event(
        events.SURVEY_BANK_PUBLISHED,
        user=user,
        study_slug=bank.study.slug,
        subject=bank,
        payload={"version": bank.version, "items": list(bank.items.values_list("key", flat=True))},
    )
    return bank


@transaction.atomic
def add_attention_check(
    bank: ItemBank,
    *,
    key: str = defaults.ATTENTION_CHECK_EXAMPLE[0],
    text: str = defaults.ATTENTION_CHECK_EXAMPLE[1],
    expected_answer: str = defaults.ATTENTION_CHECK_EXAMPLE[2],
    order: int | None = None,
) -> SurveyItem:
    """Add an instructed-response item to a draft bank (default: last in
    the survey step)."""
    if bank.published:
        raise BankError("This bank is published; make a new version to add an attention check.")
    if order is None:
        order = (bank.items.filter(when=SurveyItem.When.JOURNEY).aggregate(o=Max("order"))["o"] or 0) + 1
    item = SurveyItem(
        bank=bank,
        key=key,
        kind=SurveyItem.Kind.ATTENTION_CHECK,
        text=text,
        expected_answer=expected_answer,
        order=order,
        when=SurveyItem.When.JOURNEY,
    )
    item.full_clean()
    item.save()
    return item


# Answers ------------------------------------------------------------------


def clean_answers(items, data) -> tuple[dict[str, str], dict[str, str]]:
    """({key: answer} for the valid answers, {key: error} for the others).
    Every item shown is required."""
    answers, errors = {}, {}
    for item in items:
        value = (data.get(item.key) or "").strip()
        if not value:
            errors[item.key] = _("Please choose an answer.")
        elif value not in item.options:
            errors[item.key] = _("That answer was not understood. Please choose again.")
        else:
            answers[item.key] = value
    return answers, errors


def _save_answers(participant, items, answers: dict[str, str], shown: dict[str, dict]) -> int:
    for item in items:
        SurveyResponse.objects.update_or_create(
            participant=participant, item=item, defaults={"answer": answers[item.key], "shown": shown.get(item.key, {})}
        )
    return len(items)


def submit_survey(*, participant: Participant, bank: ItemBank, answers: dict[str, str]) -> bool:
    """Record the survey step's answers and finish the journey. False when
    the participant had already moved on (a double submit records once)."""
    items = selectors.items(bank, SurveyItem.When.JOURNEY)
    missing = {item.key for item in items} - set(answers)
    if missing:
        raise ValueError(f"answers missing for {sorted(missing)}")
    with transaction.atomic(), participant_context(participant.pk):
        locked = Participant.objects.select_for_update(of=("self",)).select_related("study").get(pk=participant.pk)
        if locked.current_step != Step.SURVEY:
            return False
        _save_answers(locked, items, answers, {})
        record_event(
            events.SURVEY_SUBMITTED,
            participant_id=locked.pk,
            study_slug=locked.study.slug,
            subject=bank,
            payload={"version": bank.version, "items": len(items)},
        )
        return steps.finish(locked, Step.SURVEY)


def on_enter_survey(participant: Participant) -> str | None:
    """Entry work of the survey step: the bank to ask (the paper's questions
    if the study has none); with no survey-step items, nothing to ask: move on."""
    bank = ensure_default_bank(participant.study)
    if selectors.items(bank, SurveyItem.When.JOURNEY):
        return None
    record_event(
        events.SURVEY_NO_ITEMS, participant_id=participant.pk, study_slug=participant.study.slug, subject=participant
    )
    return steps.next_step(participant, Step.SURVEY)


# Follow-up links ----------------------------------------------------------


def make_token(participant_id) -> str:
    # The nonce makes a reissued link differ from one it replaces.
    return signing.dumps({"p": str(participant_id), "n": secrets.token_urlsafe(6)}, salt=TOKEN_SALT)


@transaction.atomic
def issue_follow_up_links(study: Study, *, days_valid: int = 30, user=None) -> int:
    """A link for every real participant who completed the study and has
    none yet (idempotent). Returns how many were made."""
    if days_valid < 1:
        raise ValueError("days_valid must be at least 1")
    _locked_study(study)
    waiting = (
        Participant.objects.filter(study=study, follow_up_link__isnull=True).real().completed().order_by("created_at")
    )
    expires = timezone.now() + timedelta(days=days_valid)
    made = FollowUpLink.objects.bulk_create(
        FollowUpLink(participant=p, token=make_token(p.pk), expires_at=expires) for p in waiting
    )
    if made:
        record_event(
            events.SURVEY_FOLLOW_UP_LINKS_ISSUED,
            user=user,
            study_slug=study.slug,
            subject=study,
            payload={"links": len(made), "days_valid": days_valid, "expires_at": expires.isoformat()},
        )
    return len(made)


def deliver_links(participants, *, days_valid: int = 30) -> dict[str, int]:
    """Make sure each of `participants` has a follow-up link valid for at
    least `days_valid` more days: made if missing, its expiry moved on if
    sooner (the token stays, so a link already sent keeps working). What a
    retest round's invitations are delivered by (journey.retest). Runs in
    the caller's transaction; the caller writes the event."""
    if days_valid < 1:
        raise ValueError("days_valid must be at least 1")
    expires = timezone.now() + timedelta(days=days_valid)
    ids = [p.pk for p in participants]
    extended = FollowUpLink.objects.filter(participant__in=ids, expires_at__lt=expires).update(expires_at=expires)
    have = set(FollowUpLink.objects.filter(participant__in=ids).values_list("participant_id", flat=True))
    made = FollowUpLink.objects.bulk_create(
        FollowUpLink(participant_id=pid, token=make_token(pid), expires_at=expires) for pid in ids if pid not in have
    )
    return {"made": len(made), "extended": extended}


def mark_opened(link: FollowUpLink) -> None:
    if link.first_opened_at is None:
        with participant_context(link.participant_id):
            FollowUpLink.objects.filter(pk=link.pk, first_opened_at__isnull=True).update(first_opened_at=timezone.now())


def submit_follow_up(*, link: FollowUpLink, items, answers: dict[str, str], shown: dict[str, dict]) -> None:
    """Record the follow-up answers (again, if the participant changes them);
    the link counts as completed from the first submit."""
    participant = link.participant
    with transaction.atomic(), participant_context(participant.pk):
        link = FollowUpLink.objects.select_for_update().get(pk=link.pk)
        _save_answers(participant, items, answers, shown)
        first = link.completed_at is None
        if first:
            link.completed_at = timezone.now()
            link.save(update_fields=["completed_at"])
        record_event(
            events.SURVEY_FOLLOW_UP_SUBMITTED,
            participant_id=participant.pk,
            study_slug=participant.study.slug,
            subject=link,
            payload={"items": sorted(answers), "first": first},
        )


@transaction.atomic
def export_follow_up_links(links, *, user) -> str:
    """CSV of links with Prolific ids, for messaging participants. Exports
    identities, so each export is an audited event naming the user."""
    rows = selectors.follow_up_link_rows(links, site_url=settings.SITE_URL)
    out = io.StringIO()
    writer = csvfiles.DictWriter(out, fieldnames=["participant_id", "prolific_pid", "url", "expires_at"])
    writer.writeheader()
    writer.writerows(rows)
    slugs = {str(pid): slug for pid, slug in links.values_list("participant_id", "participant__study__slug")}
    per_study: dict[str, dict] = {}
    for row in rows:
        counts = per_study.setdefault(slugs[row["participant_id"]], {"links": 0, "with_prolific_pid": 0})
        counts["links"] += 1
        counts["with_prolific_pid"] += bool(row["prolific_pid"])
    for slug, counts in sorted(per_study.items()):
        record_event(events.SURVEY_FOLLOW_UP_LINKS_EXPORTED, user=user, study_slug=slug, payload=counts)
    return out.getvalue()
