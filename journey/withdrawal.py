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

import logging
from pathlib import Path

import pgtrigger
from django.apps import apps
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.db.models import Case, F, Func, Q, Value, When
from django.utils.translation import gettext_noop

from journey import events
from mgeplatform import inputs
from mgeplatform.audit import participant_context, record_event, redaction_marker
from mgeplatform.models import LLMCall
from studies import contributions, steps
from studies.models import Participant, ProlificIdentity, Step, Study

logger = logging.getLogger(__name__)


def _redact_llm_calls(participant) -> int:
    """Every model call that carried the participant's words (made for them,
    or a job's call that sent their messages, cards or values worded from
    their cards: LLMCall.content_of, recorded by the gateway) keeps what
    budgets and audits need (purpose, prompt name, version and hash, model,
    tokens, cost, latency, times, outcome) and loses its texts."""
    marker = redaction_marker(Study.WithdrawalPolicy.DELETE_CONTENT)
    pid = Value(participant.pk, output_field=models.UUIDField())
    calls = LLMCall.objects.filter(Q(participant=participant.pk) | Q(content_of__contains=[participant.pk]))
    return calls.update(
        request_system=marker,
        request_messages=[{"role": "redacted", "content": marker}],
        response_text=marker,
        response_tool_calls=[],
        error=Case(When(error="", then=Value("")), default=Value(marker)),
        participant=None,
        content_of=Func(F("content_of"), pid, function="array_remove", output_field=ArrayField(models.UUIDField())),
    )


# Shorter texts ("ok", "yes") would match files that are not theirs.
MIN_SEARCHED_TEXT = 12


def export_root() -> Path:
    """Where exports are written by default, and searched on withdrawal."""
    return Path(settings.VAR_DIR) / "exports"


def _files_holding(texts: set[str]) -> list[Path]:
    """Every file under the export folder that holds the participant's id or
    any of their texts (an export written before they withdrew). Files
    written elsewhere are the coordinator's to delete (docs/security.md)."""
    root, found = export_root(), list[Path]()
    needles = [t.casefold() for t in texts]
    if not root.is_dir():
        return found
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            content = path.read_text(encoding="utf-8", errors="replace").casefold()
        except OSError:
            continue
        if any(n in content for n in needles):
            found.append(path)
    return found


def _delete_files(paths: list[Path]) -> None:
    """After commit: a deleted file cannot be rolled back."""
    for path in paths:
        path.unlink(missing_ok=True)
    if paths:
        logger.info("withdrawal: deleted %d export file(s) holding a withdrawn participant's data", len(paths))


# What the participant is told was removed, for each count a feature reports (keys not listed read as is).
RECEIPT_LABELS = {
    "messages": gettext_noop("chat messages"),
    "interviews": gettext_noop("interviews"),
    "cards": gettext_noop("versions of your values card"),
    "relevance_draws": gettext_noop("sets of values you marked as relevant or not"),
    "votes": gettext_noop("answers about stories, with any reasons you gave"),
    "impressions": gettext_noop("records of stories shown to you"),
    "survey_answers": gettext_noop("survey answers"),
    "disputes": gettext_noop("disputes you raised"),
    "values_reworded": gettext_noop("shared values reworded from another participant's card instead of yours"),
    "values_archived": gettext_noop("shared values worded only from your card, archived with their text removed"),
    "stories_redacted": gettext_noop("stories written about your value, archived with their text removed"),
    "snapshots_redacted": gettext_noop("built moral graphs, from which your value's wording was removed"),
    "audit_items_redacted": gettext_noop("answer audits' copies of your value's wording, removed"),
    "playground_turns_redacted": gettext_noop("playground replies guided by your value's wording, removed"),
    "training_examples_dropped": gettext_noop("training examples guided by your value's wording, dropped"),
    "llm_calls_redacted": gettext_noop("records of AI model calls that carried your words, with the text removed"),
    "export_files": gettext_noop("export files holding your data"),
    "retest_invitations": gettext_noop("invitations to take part again"),
}


def receipt(deleted: dict[str, int]) -> list[dict]:
    """The deletion receipt: what was removed and how many, never what it
    said. Shown on the thank-you page and kept in the withdrawal event."""
    return [
        {"what": RECEIPT_LABELS.get(key, key.replace("_", " ")), "key": key, "count": int(count)}
        for key, count in deleted.items()
        if count
    ]


def _delete_content(participant) -> dict:
    """Every feature's share of the participant's content (as each registered
    it), the audit trail's copies of it, and the model answers about them."""
    contents = contributions.participant_contents()
    copies: dict[str, list] = {}
    texts = {str(participant.pk)}
    for content in contents:
        copies.update(content.audit_copies(participant))
        texts.update(t.strip() for t in content.texts(participant) if len(t.strip()) >= MIN_SEARCHED_TEXT)
    deleted = {}
    for content in reversed(contents):
        deleted.update(content.delete(participant))
    deleted["llm_calls_redacted"] = _redact_llm_calls(participant)
    files = _files_holding(texts)
    deleted["export_files"] = len(files)
    transaction.on_commit(lambda: _delete_files(files))
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
        steps.move(
            participant,
            Step.WITHDRAWN,
            event=events.PARTICIPANT_WITHDRAWN,
            payload={
                "from_step": left,
                "policy": participant.study.withdrawal_policy,
                "prolific_link_removed": had_identity,
                "deleted": deleted,
                "receipt": receipt(deleted),
                "reason": reason,
            },
        )
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
            record_event(
                events.PREVIEWS_DELETED, user=user, study_slug=study.slug, subject=study, payload={"deleted": count}
            )
    return count
