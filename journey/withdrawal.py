"""Withdrawal: a participant leaves the study at any step.

The Prolific identity link is always removed. Under the study's
"delete content" policy, everything the participant wrote or chose is
deleted too (chat, cards, marks, votes with their impressions, survey
answers), and so are the audit trail's copies of those rows, which would
otherwise keep the content. What stays: the pseudonymous participant row
(step "withdrawn", so participant counts add up), consent records (the
evidence of what they agreed to) and the domain event of the withdrawal.
Votes and impressions go together, so edge counts stay consistent.
"""

from __future__ import annotations

import pgtrigger
from django.apps import apps
from django.db import transaction

from journey import events
from mgeplatform import inputs
from mgeplatform.audit import participant_context, record_event
from mgeplatform.models import LLMCall
from studies import contributions, steps
from studies.models import Participant, ProlificIdentity, Step, Study


def _delete_content(participant) -> dict:
    """Every feature's share of the participant's content (as each registered
    it), the audit trail's copies of it, and the model answers about them."""
    contents = contributions.participant_contents()
    copies: dict[str, list] = {}
    for content in contents:
        copies.update(content.audit_copies(participant))
    deleted = {}
    for content in reversed(contents):
        deleted.update(content.delete(participant))
    # Model answers written for this participant may quote them.
    deleted["llm_calls_blanked"] = LLMCall.objects.filter(participant=participant.pk).update(
        response_text="", response_tool_calls=[], participant=None)
    with pgtrigger.ignore(*[f"{label}:append_only" for label in copies]):
        for label, ids in copies.items():
            apps.get_model(label).objects.filter(pgh_obj_id__in=ids).delete()
    return deleted


REASON_MAX_CHARS = 500


def check_reason(reason: str) -> str:
    """The participant's optional reason, stripped; inputs.BadInput if it
    cannot be stored or is too long (it is refused, never cut)."""
    return inputs.check_text(reason or "", what="Your message", max_chars=REASON_MAX_CHARS).strip()


def withdraw(participant: Participant, *, reason: str = "") -> bool:
    """Withdraw the participant (idempotent: False when already withdrawn)."""
    reason = check_reason(reason)
    with transaction.atomic(), participant_context(participant.pk):
        participant = Participant.objects.select_for_update(of=("self",)).select_related("study").get(pk=participant.pk)
        if participant.current_step == Step.WITHDRAWN:
            return False
        left = participant.current_step
        had_identity = ProlificIdentity.objects.filter(participant=participant).delete()[0] > 0
        deleted = {}
        if participant.study.withdrawal_policy == Study.WithdrawalPolicy.DELETE_CONTENT:
            deleted = _delete_content(participant)
        steps.move(participant, Step.WITHDRAWN, event=events.PARTICIPANT_WITHDRAWN,
                   payload={"from_step": left, "policy": participant.study.withdrawal_policy,
                            "prolific_link_removed": had_identity, "deleted": deleted, "reason": reason})
    return True


def delete_previews(study: Study, *, user=None) -> int:
    """Delete the study's staff previews and everything they wrote, chose
    and consented to (a preview's consent is a test, not evidence). The
    domain event says how many and who deleted them."""
    count = 0
    with transaction.atomic():
        for participant in Participant.objects.previews().filter(study=study).select_for_update(of=("self",)):
            with participant_context(participant.pk):
                _delete_content(participant)
            with pgtrigger.ignore("studies.ConsentRecord:consent_record_append_only"):
                participant.consent_records.all().delete()
            participant.delete()
            count += 1
        if count:
            record_event(events.PREVIEWS_DELETED, user=user, study_slug=study.slug, subject=study,
                         payload={"deleted": count})
    return count
