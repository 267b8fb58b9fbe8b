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

from graph.models import StoryAssignment, WisdomVote
from interviews.models import ChatMessage, Interview
from journey import events
from mgeplatform.audit import participant_context
from mgeplatform.models import LLMCall
from studies import steps
from studies.models import Participant, ProlificIdentity, Step, Study
from surveys import services as survey_services
from values.models import RelevanceDraw

# Audit-trail event tables holding copies of a participant's content, and
# the tracked model each one copies.
_TRACKED = [
    ("interviews.ChatMessageEvent", "interviews.ChatMessage"),
    ("values.ValuesCardEvent", "values.ValuesCard"),
    ("values.CanonicalApprovalEvent", "values.CanonicalApproval"),
    ("values.RelevanceItemEvent", "values.RelevanceItem"),
    ("graph.WisdomVoteEvent", "graph.WisdomVote"),
    ("interviews.InterviewEvent", "interviews.Interview"),
]


def _content_ids(participant) -> dict[str, list]:
    lookups = {
        "interviews.ChatMessage": {"interview__participant": participant},
        "values.ValuesCard": {"interview__participant": participant},
        "values.CanonicalApproval": {"card__interview__participant": participant},
        "values.RelevanceItem": {"draw__participant": participant},
        "graph.WisdomVote": {"participant": participant},
        "interviews.Interview": {"participant": participant},
    }
    ids = {label: list(apps.get_model(label).objects.filter(**lookup).values_list("pk", flat=True))
           for label, lookup in lookups.items()}
    return ids


def _delete_content(participant) -> dict:

    ids = _content_ids(participant)
    deleted = {
        "votes": WisdomVote.objects.filter(participant=participant).delete()[0],
        "impressions": StoryAssignment.objects.filter(participant=participant).delete()[0],
        "relevance_draws": RelevanceDraw.objects.filter(participant=participant).delete()[0],
        "messages": ChatMessage.objects.filter(interview__participant=participant).delete()[0],
    }
    deleted["survey_answers"] = _delete_survey_answers(participant)
    # Cards (with their decisions and approvals) go with the interviews.
    deleted["interviews"] = Interview.objects.filter(participant=participant).delete()[0]
    # Model answers written for this participant may quote them.
    deleted["llm_calls_blanked"] = LLMCall.objects.filter(participant=participant.pk).update(
        response_text="", response_tool_calls=[], participant=None)
    with pgtrigger.ignore(*[f"{event}:append_only" for event, _ in _TRACKED]):
        for event, tracked in _TRACKED:
            apps.get_model(event).objects.filter(pgh_obj_id__in=ids[tracked]).delete()
    return deleted


def _delete_survey_answers(participant) -> int:
    return survey_services.delete_participant_answers(participant)


def withdraw(participant: Participant, *, reason: str = "") -> bool:
    """Withdraw the participant (idempotent: False when already withdrawn)."""
    with transaction.atomic(), participant_context(participant.pk):
        participant = Participant.objects.select_for_update().select_related("study").get(pk=participant.pk)
        if participant.current_step == Step.WITHDRAWN:
            return False
        left = participant.current_step
        had_identity = ProlificIdentity.objects.filter(participant=participant).delete()[0] > 0
        deleted = {}
        if participant.study.withdrawal_policy == Study.WithdrawalPolicy.DELETE_CONTENT:
            deleted = _delete_content(participant)
        steps.move(participant, Step.WITHDRAWN, event=events.PARTICIPANT_WITHDRAWN,
                   payload={"from_step": left, "policy": participant.study.withdrawal_policy,
                            "prolific_link_removed": had_identity, "deleted": deleted, "reason": reason[:500]})
    return True
