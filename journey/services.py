"""Writes of the journey layer: a participant's dispute of how the study
represents them, and a coordinator's decision on it. Each service changes
the rows and writes its domain event in one transaction; the participant's
words are never copied into an event (withdrawal deletes them with the
dispute and its history)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from graph import stories as graph_stories
from graph import tasks as graph_tasks
from journey import events, selectors
from journey.models import REASON_MAX_CHARS, TEXT_MAX_CHARS, Dispute
from mgeplatform import inputs
from mgeplatform.audit import participant_context, record_event
from studies.models import Participant, Step
from values import services as value_services


class DisputeError(ValueError):
    """Refused, with a message for the participant or coordinator."""


NEEDED = gettext_noop("Please say, in your own words, what is wrong.")


def check_text(text, *, what="Your explanation", max_chars=TEXT_MAX_CHARS, needed=NEEDED) -> str:
    """The text as stored (stripped), or BadInput with a clear message (in
    the active language when the catalogs have it)."""
    inputs.check_text(text, what=what, max_chars=max_chars)
    if not text.strip():
        raise inputs.BadInput("blank", _(needed) if needed else needed)
    return text.strip()


def _target(participant, kind, story_id):
    """(target key, fields) of what the participant disputes, checked against
    what they may dispute now."""
    subject = selectors.dispute_subject(participant)
    if kind == Dispute.Kind.MERGE:
        if not subject["merged"]:
            raise DisputeError(
                _(
                    "Your card has not been grouped with other cards (or has a value of its own), so "
                    "there is no merge to dispute."
                )
            )
        return f"card:{subject['card'].pk}", {"card": subject["card"], "value": subject["canonical"]}
    if kind == Dispute.Kind.STORY:
        story = next((s for s in subject["stories"] if str(s.pk) == str(story_id)), None)
        if story is None:
            raise DisputeError(_("Please choose one of the stories shown about your value."))
        return f"story:{story.pk}", {"card": subject["card"], "value": subject["canonical"], "story": story}
    if kind == Dispute.Kind.PLACE:
        if subject["value"] is None:
            raise DisputeError(_("Your value is not in a built moral graph yet, so its place cannot be disputed."))
        return (
            f"value:{subject['value']['id']}",
            {"card": subject["card"], "value": subject["canonical"], "snapshot": subject["snapshot"]},
        )
    raise DisputeError(_("Please choose what you are disputing."))


def open_dispute(*, participant: Participant, kind: str, text: str, via: str, story_id=None) -> tuple[Dispute, bool]:
    """A participant's dispute, in their own words. (dispute, created): a
    second submit about the same thing while the first is open returns the
    first, so a double click makes one dispute."""
    text = check_text(text)
    if via not in Dispute.Via.values:
        raise DisputeError("Unknown page.")
    with transaction.atomic(), participant_context(participant.pk):
        participant = Participant.objects.select_for_update().select_related("study").get(pk=participant.pk)
        if participant.current_step == Step.WITHDRAWN:
            raise DisputeError(_("You have withdrawn from this study, so there is nothing to dispute."))
        target, fields = _target(participant, kind, story_id)
        existing = Dispute.objects.filter(participant=participant, target=target, status=Dispute.Status.OPEN).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    study=participant.study,
                    participant=participant,
                    kind=kind,
                    via=via,
                    text=text,
                    target=target,
                    **fields,
                )
        except IntegrityError:  # another request won the race (the participant row lock makes it rare)
            return Dispute.objects.get(participant=participant, target=target, status=Dispute.Status.OPEN), False
        record_event(
            events.DISPUTE_OPENED,
            participant_id=participant.pk,
            study_slug=participant.study.slug,
            subject=dispute,
            payload={"kind": kind, "target": target, "via": via},
        )
    return dispute, True


def _decide(dispute: Dispute, *, status: str, user, reason: str, outcome: dict) -> Dispute:
    dispute.status, dispute.decided_at, dispute.decided_by = status, timezone.now(), user
    dispute.reason, dispute.outcome = reason, outcome
    dispute.save(update_fields=["status", "decided_at", "decided_by", "reason", "outcome"])
    return dispute


def _open(dispute: Dispute) -> Dispute:
    dispute = (
        Dispute.objects.select_for_update(of=("self",)).select_related("study", "card", "story").get(pk=dispute.pk)
    )
    if dispute.status != Dispute.Status.OPEN:
        raise DisputeError(f"Dispute #{dispute.pk} was already {dispute.get_status_display().lower()}.")
    return dispute


@transaction.atomic
def uphold_dispute(dispute: Dispute, *, user, reason: str = "") -> Dispute:
    """Do what the participant asked: a disputed merge gives their card a
    canonical value of its own (values.services.split_off_card), a disputed
    story is archived, a disputed place has the study's graph rebuilt (the
    graph build job, queued in this transaction)."""
    reason = check_text(reason, what="The reason", max_chars=REASON_MAX_CHARS, needed="") if reason.strip() else ""
    dispute = _open(dispute)
    if dispute.kind == Dispute.Kind.MERGE:
        if dispute.card is None:
            raise DisputeError(f"Dispute #{dispute.pk}: the card is gone, so it cannot be split off.")
        try:
            value = value_services.split_off_card(card=dispute.card, user=user, reason=f"Dispute #{dispute.pk}")
        except ValueError as err:
            raise DisputeError(f"Dispute #{dispute.pk}: {err}") from None
        outcome = {"new_value": value.pk, "from_value": dispute.value_id}
        # The default reasons are stored in English and shown in the participant's language.
        reason = reason or gettext_noop("Your card now has a value of its own, worded as you wrote it.")
    elif dispute.kind == Dispute.Kind.STORY:
        if dispute.story is None:
            raise DisputeError(f"Dispute #{dispute.pk}: the story is gone.")
        graph_stories.archive_stories([dispute.story], reason=f"Dispute #{dispute.pk} upheld", user=user)
        outcome = {"archived_story": dispute.story_id}
        reason = reason or gettext_noop("The story is no longer shown to anyone.")
    else:
        job = graph_tasks.build_snapshot.defer(study_id=dispute.study_id, user_id=getattr(user, "pk", None))
        outcome = {"build_job": job}
        reason = reason or gettext_noop("The moral graph is being built again.")
    _decide(dispute, status=Dispute.Status.UPHELD, user=user, reason=reason, outcome=outcome)
    record_event(
        events.DISPUTE_UPHELD,
        user=user,
        study_slug=dispute.study.slug,
        subject=dispute,
        payload={"kind": dispute.kind, "target": dispute.target, **outcome},
    )
    return dispute


@transaction.atomic
def reject_dispute(dispute: Dispute, *, user, reason: str) -> Dispute:
    """Reject with a reason the participant will read (required)."""
    reason = check_text(
        reason,
        what="The reason",
        max_chars=REASON_MAX_CHARS,
        needed="A rejection needs a reason: the participant will read it.",
    )
    dispute = _open(dispute)
    _decide(dispute, status=Dispute.Status.REJECTED, user=user, reason=reason, outcome={})
    record_event(
        events.DISPUTE_REJECTED,
        user=user,
        study_slug=dispute.study.slug,
        subject=dispute,
        payload={"kind": dispute.kind, "target": dispute.target},
    )
    return dispute
