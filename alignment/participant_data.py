"""The alignment app's share of a withdrawal: it stores no participant's rows,
but copies the wording of the graph's values into answer audits, playground
turns and training examples. Under "delete what they wrote", the copies of a
value worded from the withdrawn participant's card lose that text (and the
replies and answers written from it), before the values app words the value
again or archives it."""

from alignment.models import AnswerAudit, AnswerAuditItem, PlaygroundTurn, TrainingExample
from mgeplatform.audit import redaction_marker
from studies.contributions import participant_content
from values import selectors as value_selectors


def _worded(participant) -> set[int]:
    return set(value_selectors.worded_from(participant).values_list("pk", flat=True))


def _audits_using(ids):
    return AnswerAudit.objects.filter(items__value__in=ids).distinct()


def _redact_value(entry: dict, ids: set[int], marker: str, *, id_key: str = "id") -> dict:
    if entry.get(id_key) in ids:
        return {**entry, "title": marker, **({"description": marker} if "description" in entry else {}), "policies": []}
    return entry


def _redact_audits(ids: set[int], marker: str) -> int:
    items = AnswerAuditItem.objects.filter(value__in=ids)
    n = items.update(value_title=marker[:200], policies=[], quotes=[])
    for audit in _audits_using(ids):
        audit.verdicts = [
            {
                **v,
                **({"winner_title": marker} if v.get("winner") in ids else {}),
                **({"follows_best_title": marker} if v.get("follows_best") in ids else {}),
            }
            for v in audit.verdicts
        ]
        audit.save(update_fields=["verdicts"])
    return n


def _turns_using(ids):
    turns = PlaygroundTurn.objects.none()
    for value_id in ids:
        turns = turns | PlaygroundTurn.objects.filter(values__contains=[{"id": value_id}])
    return turns.distinct()


def _redact_turns(ids: set[int], marker: str) -> int:
    n = 0
    for turn in _turns_using(ids):
        # The graph's reply was written from the value's wording: it goes too.
        turn.values = [_redact_value(v, ids, marker) for v in turn.values]
        turn.reply_graph = marker
        turn.save(update_fields=["values", "reply_graph"])
        n += 1
    return n


def _redact_examples(study, ids: set[int], marker: str) -> int:
    """Training examples guided by the value (a context's winner, either end
    of a pair) are dropped, without their line: a re-run leaves them out."""
    n = 0
    for example in TrainingExample.objects.filter(
        run__study=study,
        status=TrainingExample.Status.KEPT,
        kind__in=[TrainingExample.Kind.SFT, TrainingExample.Kind.PAIR],
    ):
        meta = (example.line or {}).get("metadata") or {}
        used = {
            meta.get("value", {}).get("id"),
            meta.get("chosen_value", {}).get("id"),
            meta.get("rejected_value", {}).get("id"),
        }
        if example.edge:
            used |= {int(v) for v in example.edge.split(">")}
        if used & ids:
            example.status, example.reason, example.line = TrainingExample.Status.DROPPED, "withdrawn", None
            example.error = marker
            example.save(update_fields=["status", "reason", "line", "error"])
            n += 1
    return n


def _delete(participant) -> dict[str, int]:
    ids = _worded(participant)
    if not ids:
        return {}
    marker = redaction_marker(participant.study.withdrawal_policy)
    return {
        "audit_items_redacted": _redact_audits(ids, marker),
        "playground_turns_redacted": _redact_turns(ids, marker),
        "training_examples_dropped": _redact_examples(participant.study, ids, marker),
    }


def _audit_copies(participant) -> dict[str, list]:
    ids = _worded(participant)
    if not ids:
        return {}
    return {
        "alignment.AnswerAuditItemEvent": list(
            AnswerAuditItem.objects.filter(value__in=ids).values_list("pk", flat=True)
        ),
        "alignment.AnswerAuditEvent": list(_audits_using(ids).values_list("pk", flat=True)),
    }


def register() -> None:
    participant_content(_delete, _audit_copies)
