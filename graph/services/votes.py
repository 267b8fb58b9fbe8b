"""Recording a participant's wisdom votes and the pair counts built from them."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from graph import events
from graph.models import REBUILD_SQL, StoryAssignment, WisdomVote
from graph.services.assignment import next_assignment
from mgeplatform import inputs
from mgeplatform.audit import participant_context, record_event
from studies import steps
from studies.models import Step

REASON_MAX_CHARS = 1000


@transaction.atomic
def vote_and_continue(*, participant, assignment: StoryAssignment, answer: str, reason: str = "") -> WisdomVote:
    """Record the vote, then show the next story or, after the last, move on."""
    vote = record_vote(participant=participant, assignment=assignment, answer=answer, reason=reason)
    if next_assignment(participant) is None:
        steps.finish(participant, Step.STORIES)
    return vote


class VoteError(ValueError):
    pass


def record_vote(*, participant, assignment: StoryAssignment, answer: str, reason: str = "") -> WisdomVote:
    """Store "did this person become wiser?". A second submit (double click,
    back button, second tab) updates the same vote, never adds one."""
    if answer not in WisdomVote.Answer.values:
        raise VoteError(_("Please choose yes, no or not sure."))
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_CHARS:
        raise VoteError(
            _("Please keep the reason under %(max)s characters (it has %(count)s).")
            % {"max": REASON_MAX_CHARS, "count": len(reason)}
        )
    try:
        inputs.check_text(reason, what="Your reason")
    except inputs.BadInput as err:
        raise VoteError(err.message) from None
    if assignment.participant_id != participant.pk:
        raise VoteError(_("This story was not given to you."))
    story = assignment.story
    taken = None
    if assignment.shown_at:
        taken = int((timezone.now() - assignment.shown_at).total_seconds() * 1000)
    key = {
        "participant": participant,
        "from_value_id": story.from_value_id,
        "to_value_id": story.to_value_id,
        "context_id": story.context_id,
    }
    for attempt in range(2):
        try:
            with transaction.atomic(), participant_context(participant.pk):
                vote = WisdomVote.objects.select_for_update().filter(**key).first()
                if vote is None:
                    vote = WisdomVote.objects.create(
                        study_id=participant.study_id,
                        story=story,
                        answer=answer,
                        reason=reason,
                        time_taken_ms=taken,
                        **key,
                    )
                    kind = events.GRAPH_VOTE
                else:
                    vote.answer, vote.reason, vote.story = answer, reason, story
                    vote.save(update_fields=["answer", "reason", "story", "updated_at"])
                    kind = events.GRAPH_VOTE_CHANGED
                record_event(
                    kind,
                    participant_id=participant.pk,
                    study_slug=participant.study.slug,
                    subject=vote,
                    payload={"story": story.pk, "answer": answer},
                )
                return vote
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def rebuild_pair_counts(study=None) -> int:
    """Count a study's (or, with None, every study's) votes and impressions
    again into graph.models.PairCount, e.g. after a bulk load with the
    triggers off. Writes to the votes and story impressions wait until it is
    done (a share lock), so none is counted twice or missed. Returns the
    rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE graph_wisdomvote, graph_storyassignment IN SHARE MODE")
        if study is None:
            cursor.execute("DELETE FROM graph_paircount")
        else:
            cursor.execute("DELETE FROM graph_paircount WHERE study_id = %s", [study.pk])
        cursor.execute(REBUILD_SQL, {"study": study.pk if study is not None else None})
        return cursor.rowcount
