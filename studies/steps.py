"""The participant journey's one step table and its one transition service.

Every change of `Participant.current_step` goes through `move()`: it locks the
participant row, checks the transition against the step table, closes and
opens the step timings, writes the domain event, runs the work the entered
step needs (registered by the feature that owns the step) and, after commit,
pushes the new step to the participant's journey websocket. Progress, the
next step and the journey page's dispatch are all read from the tables here.

The steps themselves are one table, in the journey layer (journey/table.py):
a `StepSpec` per step, in order, with its page, entry work, submit service,
what a simulated participant does there and its label. The journey app
declares it here when the apps are ready (`declare`), after checking that no
part is missing, so the base layer never imports a feature. Features also
register interstitials (`interstitial(view, at=steps)`): questions that wait
for the participant's next visit at any of several steps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from mgeplatform.audit import participant_context, record_event
from mgeplatform.llm import gateway
from studies import events
from studies.models import Participant, Step, StepTiming

log = logging.getLogger(__name__)

# Where a journey can end; nobody is moved out of these except into withdrawal.
ENDED = frozenset({Step.COMPLETE, Step.DECLINED, Step.SCREENED_OUT, Step.WITHDRAWN})

# Work a step needs before it is shown, run inside the transition. A hook may
# return a step to move straight on to (there is nothing to do here).
EntryHook = Callable[[Participant], "str | None"]


@dataclass(frozen=True)
class StepSpec:
    """One step of the journey, whole: the journey layer's table
    (journey/table.py) lists one per step, in order, and declares it here."""

    step: str
    # view(request, study, participant) that draws the step (GET only reads).
    page: Callable | None = None
    # The service that finishes the step: what the page, its websocket and a simulated participant call.
    submit: Callable | None = None
    # simulate(participant, actor): what a simulated participant does at the step (journey/simulation.py).
    simulate: Callable | None = None
    # What the step needs before it is shown (entry work, under the participant's row lock).
    on_enter: tuple[EntryHook, ...] = ()
    # The console's and progress bar's name for it (default: the Step choice's label).
    label: str = ""
    # skip_if(participant): pass the step by without entering it (a study with one question skips the choice).
    skip_if: Callable[[Participant], bool] | None = None
    # Where else a participant may go from here by taking part (consent: declined).
    exits: tuple[str, ...] = ()
    # The end of the journey: no page, submit or simulation of its own.
    final: bool = False

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        try:
            return Step(self.step).label
        except ValueError:
            return self.step.replace("_", " ").capitalize()


# The steps a participant who finishes goes through, in order, and each one's
# spec: filled by `declare()` from the journey layer's table when the apps are
# ready (the base layer imports no feature).
JOURNEY: list[str] = []
SPECS: dict[str, StepSpec] = {}


class TransitionError(ValueError):
    """A move the step table does not allow (a bug in the caller)."""


def check_table(specs: list[StepSpec]) -> list[str]:
    """What is missing from a journey table (empty when it is whole): every
    step but the last has a page, a submit service and a simulation; the
    last is final; no step appears twice."""
    problems = []
    seen = set()
    for i, spec in enumerate(specs):
        if spec.step in seen:
            problems.append(f"{spec.step}: listed twice")
        seen.add(spec.step)
        last = i == len(specs) - 1
        if last != spec.final:
            problems.append(f"{spec.step}: {'the last step must be final' if last else 'only the last step is final'}")
        if not spec.final:
            problems += [
                f"{spec.step}: no {part}" for part in ("page", "submit", "simulate") if getattr(spec, part) is None
            ]
    return problems


def declare(specs: list[StepSpec]) -> None:
    """Make `specs` the journey (refused when check_table finds a gap)."""
    problems = check_table(specs)
    if problems:
        raise ValueError("the journey table is not whole: " + "; ".join(problems))
    JOURNEY[:] = [spec.step for spec in specs]
    SPECS.clear()
    SPECS.update({spec.step: spec for spec in specs})


def spec_for(step: str) -> StepSpec | None:
    return SPECS.get(step)


def label(step: str) -> str:
    """A step's name, for any step (the journey's, or an end such as withdrawn)."""
    spec = SPECS.get(step)
    if spec is not None:
        return spec.name
    try:
        return Step(step).label
    except ValueError:
        return step


def allowed(from_step: str, to_step: str) -> bool:
    if to_step == Step.WITHDRAWN:  # a participant may withdraw at any point, once
        return from_step != Step.WITHDRAWN
    if to_step == Step.SCREENED_OUT:  # staff screen out anyone still taking part
        return from_step not in ENDED
    spec = SPECS.get(from_step)
    if spec is None or spec.final:
        return False
    if to_step in spec.exits:
        return True
    if to_step not in JOURNEY:
        return False
    # Forward to the next step, or past steps that may be skipped on the way.
    i, j = JOURNEY.index(from_step), JOURNEY.index(to_step)
    return j > i and all(SPECS[s].skip_if is not None for s in JOURNEY[i + 1 : j])


def next_step(participant: Participant, step: str) -> str:
    """The step after `step` for someone who takes part as designed."""
    if step not in SPECS or SPECS[step].final:
        raise TransitionError(f"{step} is the end of the journey")
    for candidate in JOURNEY[JOURNEY.index(step) + 1 :]:
        skip_if = SPECS[candidate].skip_if
        if skip_if is None or not skip_if(participant):
            return candidate
    raise TransitionError(f"{step} is the end of the journey")


def progress(participant: Participant) -> dict:
    """Where the participant is, for the progress bar."""
    try:
        index = JOURNEY.index(participant.current_step)
    except ValueError:
        index = len(JOURNEY) - 1
    total = len(JOURNEY) - 1
    return {
        "index": index,
        "total": total,
        "percent": round(100 * index / total),
        "label": label(participant.current_step),
    }


# --- what features register besides the table ----------------------------------------

_interstitials: list[tuple[frozenset[str], Callable]] = []


def interstitial(view: Callable, *, at: tuple[str, ...]) -> None:
    """`view(request, study, participant)` may answer first at the steps `at`
    (None to let the step's page draw): a question that waits for the
    participant's next visit, whatever step they are at."""
    entry = (frozenset(at), view)
    if entry not in _interstitials:
        _interstitials.append(entry)


def page_for(step: str) -> Callable | None:
    spec = SPECS.get(step)
    return spec.page if spec is not None else None


def interstitials_for(step: str) -> list[Callable]:
    return [view for at, view in _interstitials if step in at]


# --- the transition ----------------------------------------------------------------


def move(
    participant: Participant,
    to: str,
    *,
    expect: str | None = None,
    user=None,
    event: str = events.JOURNEY_STEP,
    payload: dict | None = None,
) -> bool:
    """Move the participant to `to`. With `expect`, only if they are still at
    that step (a double submit or a second tab moves them once); False when
    they were not. `event` and `payload` name the domain event (default
    journey.step with from and to). Call inside or outside a transaction."""
    with transaction.atomic(), participant_context(participant.pk):
        # Lock the participant's row only: a lock on the study would queue every participant behind each other.
        locked = Participant.objects.select_for_update(of=("self",)).select_related("study").get(pk=participant.pk)
        if expect is not None and locked.current_step != expect:
            return False
        while to is not None:
            left = locked.current_step
            if not allowed(left, to):
                raise TransitionError(f"{left} → {to} is not a step the journey allows")
            locked.current_step = to
            locked.save(update_fields=["current_step", "updated_at"])
            _record_step_times(locked, left, to)
            record_event(
                event,
                user=user,
                participant_id=locked.pk,
                study_slug=locked.study.slug,
                subject=locked,
                payload={"from": left, "to": to} if payload is None else payload,
            )
            skip_to = _enter(locked, to)
            # An entry hook found nothing to do at the step: the move on is a recorded skip.
            event, user = events.STEP_SKIPPED, None
            payload = {"from": to, "to": skip_to, "reason": "nothing to do at this step"}
            to = skip_to  # type: ignore[assignment]  # None: no skip, which ends the loop
        transaction.on_commit(lambda: _push_state(locked.pk, locked.current_step))
    participant.current_step = locked.current_step
    return True


def finish(participant: Participant, step: str) -> bool:
    """The participant is done with `step`: on to the next one, once."""
    return move(participant, next_step(participant, step), expect=step)


def skip(participant: Participant, step: str, *, reason: str) -> bool:
    """Nothing for the participant to do at `step` (or it waited on
    background work for too long): on to the next step, the skip recorded."""
    to = next_step(participant, step)
    return move(
        participant, to, expect=step, event=events.STEP_SKIPPED, payload={"from": step, "to": to, "reason": reason}
    )


def waited_seconds(participant: Participant, step: str) -> float:
    """How long the participant has been at `step` (0 when no timing is kept)."""
    started = (
        StepTiming.objects.filter(participant=participant, step=step, ended_at__isnull=True)
        .values_list("started_at", flat=True)
        .first()
    )
    return (timezone.now() - started).total_seconds() if started else 0.0


def refresh(participant_id) -> None:
    """Tell the participant's open pages to load again (background work for
    their step is done), after the surrounding transaction commits."""
    transaction.on_commit(lambda: _push_state(participant_id, None))


def _enter(participant: Participant, step: str) -> str | None:
    """Run the entered step's hooks; the step to skip on to, if any. They
    run under the participant's row lock (and, from a submit, the
    interview's): a model call there would hold those locks for as long as
    the provider takes, so it is refused; hooks make such calls on commit."""
    spec = SPECS.get(step)
    with gateway.no_model_calls("while a step's entry work holds the participant's row lock"):
        for hook in spec.on_enter if spec is not None else ():
            skip_to = hook(participant)
            if skip_to is not None:
                return skip_to
    return None


def _record_step_times(participant: Participant, from_step: str, to_step: str) -> None:
    """Close the step being left and open the one entered."""
    now = timezone.now()
    closed = StepTiming.objects.filter(participant=participant, step=from_step, ended_at__isnull=True).update(
        ended_at=now
    )
    opened = [StepTiming(participant=participant, step=to_step, started_at=now)]
    if not closed:  # a step entered before timings were kept: it ran from the participant's arrival
        opened.append(
            StepTiming(participant=participant, step=from_step, started_at=participant.created_at, ended_at=now)
        )
    # A step entered before (withdrawing from where one was) keeps its first timing.
    StepTiming.objects.bulk_create(opened, ignore_conflicts=True)


def participant_group(participant_id) -> str:
    """The channel-layer group of a participant's journey websockets."""
    return f"participant.{participant_id}"


def _push_state(participant_id, step: str | None) -> None:
    """Tell the participant's open pages (best effort: the move is committed,
    and a page that misses it shows the new step on its next load). Without
    a step: the same step has something new to show."""
    layer = get_channel_layer()
    if layer is None:
        return
    message: dict[str, object] = (
        {"type": "participant.state", "step": step} if step else {"type": "participant.state", "refresh": True}
    )
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a sync view or a worker thread
        loop = None
    try:
        if loop is None:
            async_to_sync(layer.group_send)(participant_group(participant_id), message)
        else:  # called from sync code inside a running event loop
            loop.create_task(layer.group_send(participant_group(participant_id), message))
    except Exception:  # the channel layer (e.g. Redis) is down; pages catch up on reload
        log.warning("could not push step %s to participant %s", step, participant_id, exc_info=True)
