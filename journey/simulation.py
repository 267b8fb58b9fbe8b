"""Simulated participants for pilots and demos: each goes through the whole
journey through the same services as a real one (consent, interview with
the offline interviewer, deduplication, relevance marks, transition
stories, survey), tagged `simulated` so reports leave them out by default.

Personas (journey/personas/*.toml) give participants something to say:
each scenario's personas are taken in turn, so a persona met twice gives
the same card and its cards deduplicate into one canonical value. Votes
come from each persona's hidden sense of which value is wiser in which
moral context (`judge`), with disagreement between personas and noise, so
the graph has clear winners, contested pairs and a few cycles.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import cache

from asgiref.sync import async_to_sync

from graph import services as graph_services
from graph import stories
from interviews import ratings
from interviews import services as chat
from interviews.models import Interview
from journey import personas as persona_data
from journey.personas import Persona
from mgeplatform import locks
from mgeplatform.llm.providers.offline import unpaced
from mgeplatform.models import LLMCall
from studies import languages, selectors, steps
from studies import services as journey
from studies.models import Participant, Scenario, Step, Study
from surveys import selectors as survey_selectors
from surveys import services as survey_services
from surveys.models import SurveyItem
from values import relevance, translation
from values import selectors as value_selectors
from values import services as value_services

APPROVAL = "Yes, that's right."
LIKERT_WEIGHTS = {1: 0.03, 2: 0.05, 3: 0.2, 4: 0.35, 5: 0.37}


@dataclass
class SimulationResult:
    participants: int
    completed: int
    llm_calls: int
    seconds: float
    story_runs: int


def _hidden_preference(value_id: int, title: str) -> float:
    return int.from_bytes(hashlib.sha256(f"{value_id}:{title}".encode()).digest()[:4], "little") / 2**32


# --- the hidden sense of which value is wiser where -----------------------------------

OWN_FAMILY_LEAN = 0.25  # a persona leans towards values of its own family
VOTE_NOISE = 0.2  # spread of a persona's judgement from one story to the next


def persona_of_value(value) -> Persona | None:
    """The persona whose card a canonical value came from: same title, or
    (renamed in chat, or a point dropped) most of the same policies."""
    titles, by_policy = _persona_index()
    if value.title.lower() in titles:
        return titles[value.title.lower()]
    policies = set(value.policies or [])
    best, share = None, 0.0
    for persona, theirs in by_policy:
        overlap = len(policies & theirs) / max(1, len(policies | theirs))
        if overlap > share:
            best, share = persona, overlap
    return best if share >= 0.5 else None


@cache
def _persona_index():
    everyone = persona_data.all_personas()
    return ({p.card.title.lower(): p for p in everyone}, [(p, set(p.card.policies)) for p in everyone])


def wisdom(value, context) -> float:
    """How wise a value is in a moral context, as the personas all sense it
    before their own leanings: its persona's depth plus how much the
    context's wording favours its family. Values from no persona (a real
    participant's) get a fixed place from their id."""
    persona = persona_of_value(value)
    if persona is None:
        return 0.3 + 0.3 * _hidden_preference(value.pk, value.title)
    scenario = persona_data.load().get(context.scenario.key) if context.scenario_id else None
    return persona.depth + (scenario.favours(context.text, persona.family) if scenario else 0.0)


def _lean(voter: Persona | None, value) -> float:
    persona = persona_of_value(value)
    if voter is None or persona is None:
        return 0.0
    return voter.leans.get(persona.family, 0.0) + (OWN_FAMILY_LEAN if persona.family == voter.family else 0.0)


def judge(voter: Persona | None, story, rng: random.Random) -> str:
    """The voter's answer to "did this person become wiser?" for a story:
    how much wiser the second value is in the story's context, moved by the
    voter's leanings and by noise. Near a tie people are often unsure."""
    d = (
        wisdom(story.to_value, story.context)
        - wisdom(story.from_value, story.context)
        + _lean(voter, story.to_value)
        - _lean(voter, story.from_value)
        + rng.gauss(0, VOTE_NOISE)
    )
    unsure = 0.04 + 0.25 * math.exp(-((d / 0.12) ** 2))
    yes = (1 - unsure) / (1 + math.exp(-10 * d))
    return rng.choices(["yes", "no", "unsure"], [yes, 1 - unsure - yes, unsure])[0]


def create_participant(study, rng: random.Random | None = None) -> Participant:
    """A simulated participant; with `rng`, its id comes from it too, so a
    seeded simulation chooses the same stories for the same people (story
    choice is seeded by the participant's id) and draws the same graph."""
    pk = uuid.UUID(int=rng.getrandbits(128), version=4) if rng is not None else uuid.uuid4()
    while rng is not None and Participant.objects.filter(pk=pk).exists():  # another study drew it (same seed)
        pk = uuid.UUID(int=rng.getrandbits(128), version=4)
    return journey.create_participant(study, via="simulation", pk=pk)


def run_interview(participant, scenario, answers: list[str]):
    interview = chat.choose_scenario(participant=participant, scenario=scenario)

    async def ignore(event):
        return None

    for i, text in enumerate([*answers, APPROVAL]):
        chat.add_user_message(interview_id=interview.pk, text=text, client_message_id=f"sim{i}")
        token = chat.claim_reply(interview.pk)
        if token:
            async_to_sync(chat.run_reply)(interview.pk, token, ignore)
        interview.refresh_from_db()
        if interview.status != interview.Status.ACTIVE:
            break
    if interview.status == interview.Status.ACTIVE and interview.cards.exists():
        async_to_sync(chat.match_before_submit)(interview.pk)
        chat.submit_card(interview_id=interview.pk, via="simulation")
    interview.refresh_from_db()
    return interview


def _after_card(participant, rng: random.Random) -> None:
    card = value_selectors.submitted_card(participant)
    if card is None:
        return
    if not card.dedup_decisions.exists():  # submitted without the interviewer's tool call
        value_services.match_card_in_chat(card.pk)
    pending = value_selectors.pending_approval(participant)
    if pending:
        value_services.record_approval(
            card=pending[0], canonical=pending[1], answer=rng.choices(["well", "partly", "not"], [0.85, 0.12, 0.03])[0]
        )


# --- what a simulated participant does at each step (journey/table.py) -------------------


@dataclass
class Actor:
    """A simulated participant's plan: the question and persona chosen for
    them, the random source, and the persona who judges their stories."""

    scenario: Scenario
    persona: Persona
    rng: random.Random


def at_consent(participant, actor: Actor) -> None:
    consent = selectors.current_consent(participant.study)
    if consent is None:
        raise RuntimeError(f"study {participant.study.slug} has no consent form to simulate agreeing to")
    journey.record_consent(participant=participant, consent=consent, accepted=True)


def at_scenario(participant, actor: Actor) -> None:
    chat.choose_scenario(participant=participant, scenario=actor.scenario)


def at_interview(participant, actor: Actor) -> None:
    run_interview(participant, actor.scenario, [*actor.persona.answers, *actor.persona.after_card])
    participant.refresh_from_db()
    if participant.current_step != Step.INTERVIEW:
        _after_card(participant, actor.rng)


def at_relevance(participant, actor: Actor) -> None:
    draw = relevance.draw_for(participant)
    if draw is not None:
        shown = list(draw.items.values_list("canonical_id", flat=True))
        relevance.submit_marks(draw=draw, relevant_ids={v for v in shown if actor.rng.random() < 0.4})
    steps.finish(participant, Step.RELEVANCE)


def at_stories(participant, actor: Actor) -> None:
    if graph_services.next_assignment(participant) is None:
        # Waiting for stories: do what the background job does.
        stories.generate_stories(participant.study, max_stories=40)
        graph_services.serve_waiting(participant.study)
        participant.refresh_from_db()
        if participant.current_step != Step.STORIES:
            return
    while (assignment := graph_services.next_assignment(participant)) is not None:
        graph_services.record_vote(
            participant=participant, assignment=assignment, answer=judge(actor.persona, assignment.story, actor.rng)
        )
    steps.finish(participant, Step.STORIES)


def at_survey(participant, actor: Actor) -> None:
    """Answer the survey step as a real participant would (the attention
    check correctly), through the same service as the survey page."""
    rng = actor.rng
    bank = survey_services.ensure_default_bank(participant.study)
    answers = {}
    for item in survey_selectors.items(bank, SurveyItem.When.JOURNEY):
        if item.kind == SurveyItem.Kind.ATTENTION_CHECK:
            answers[item.key] = item.expected_answer
        elif item.kind == SurveyItem.Kind.LIKERT5:
            answers[item.key] = str(rng.choices(list(LIKERT_WEIGHTS), list(LIKERT_WEIGHTS.values()))[0])
        else:
            answers[item.key] = rng.choice(list(item.options))
    survey_services.submit_survey(participant=participant, bank=bank, answers=answers)


def walk(participant, actor: Actor) -> Participant:
    """Take the participant through the journey table, step by step, doing
    what each step's `simulate` does, until the journey ends or a step keeps
    them where a real participant would wait (no card written, say)."""
    while True:
        participant.refresh_from_db()
        spec = steps.spec_for(participant.current_step)
        if spec is None or spec.final or spec.simulate is None:  # (declare() refuses a step without one)
            return participant
        spec.simulate(participant, actor)
        participant.refresh_from_db()
        if participant.current_step == spec.step:
            return participant  # stays where a real participant would be


def simulate_one(study, rng: random.Random, turns: dict | None = None) -> Participant:
    """One participant. `turns` counts participants per scenario so personas
    are taken in turn: every persona appears once a scenario has as many
    participants as personas (a demo always has its expert)."""
    persona_data.register_cards()
    participant = create_participant(study, rng)
    scenarios = list(selectors.active_scenarios(study))
    scenario = rng.choice(scenarios)
    language = _language(study, scenario, rng)
    personas = persona_data.for_scenario(scenario.key, language)
    turn = scenario.key if language == "en" else f"{scenario.key}:{language}"
    if turns is None:
        persona = rng.choice(personas)
    else:
        persona = personas[turns.get(turn, 0) % len(personas)]
        turns[turn] = turns.get(turn, 0) + 1
    if language != participant.language:
        Participant.objects.filter(pk=participant.pk).update(language=language)
    return walk(participant, Actor(scenario=scenario, persona=persona, rng=rng))


def _language(study, scenario, rng: random.Random) -> str:
    """The language a simulated participant speaks: one of the study's, in turn at random, for which
    the scenario has personas (English when it has none in the others). A study in English only draws
    nothing, so its simulations stay as they were."""
    spoken = [
        code
        for code in languages.study_languages(study)
        if code == "en" or persona_data.for_scenario(scenario.key, code)
    ]
    if len(spoken) < 2:
        return spoken[0] if spoken else "en"
    return rng.choice(spoken)


def _deduplicate(study) -> None:
    """What the batch job does: group the cards, then render the values into the study's other languages."""
    value_services.run_batch_dedup(study)
    translation.render_missing_values(study)


def simulate(study, n: int, *, seed: int = 0, progress=None) -> SimulationResult:
    """Run n participants; stories are written (as the background job would)
    after the first few and then four more times, so values that appear
    later get stories and votes too."""

    # Seeded by how many the study already has, so a top-up run makes new people.
    rng = random.Random(f"{seed}:{study.participants.count()}")
    started, calls_before = time.perf_counter(), LLMCall.objects.count()
    completed = runs = 0
    first_batch = max(5, n // 10)
    every = max(5, n // 5)
    # Personas carry on in turn from where an earlier run stopped, so a top-up meets them again.
    turns = dict(Counter(Interview.objects.filter(participant__study=study).values_list("scenario__key", flat=True)))
    with unpaced():
        for i in range(n):
            if i == first_batch or (i > first_batch and (i - first_batch) % every == 0):
                _deduplicate(study)
                stories.generate_stories(study, max_stories=40)
                runs += 1
            participant = simulate_one(study, rng, turns)
            completed += participant.current_step == Step.COMPLETE
            if progress:
                progress(i + 1, n)
        _deduplicate(study)
    return SimulationResult(
        participants=n,
        completed=completed,
        llm_calls=LLMCall.objects.count() - calls_before,
        seconds=time.perf_counter() - started,
        story_runs=runs,
    )


DEMO_SLUG = "demo"
DEMO_SIZE = 150  # participants in `run --demo` (and `demo_study`) unless told otherwise
DEMO_STORIES_PER_PARTICIPANT = 5
# Said in the demo study's description; a demo without it was filled by an
# earlier generator, and is set aside and built again.
DEMO_GENERATOR = "Demo generator: persona files v1."


def demo_study(slug: str = DEMO_SLUG):
    """The demo study, created if missing. One filled by an earlier generator
    (other personas, other votes) is kept under another slug, unlisted, and a
    fresh one takes its place (studies are never deleted: their events and
    snapshots are insert-only)."""
    old = Study.objects.filter(slug=slug).first()
    if old is not None and DEMO_GENERATOR not in old.description:
        Study.objects.filter(pk=old.pk).update(
            slug=f"{slug}-replaced-{old.pk}", graph_public=False, title=f"{old.title} (replaced by a newer demo)"
        )
    study, created = journey.seed_case_study(slug)
    if created:
        Study.objects.filter(pk=study.pk).update(
            title="Demo: simulated participants",
            graph_public=True,
            include_scripted_cards=True,
            stories_per_participant=DEMO_STORIES_PER_PARTICIPANT,
            description=(
                "Filled by scripted participants (offline models) to show the graph and the report. " + DEMO_GENERATOR
            ),
        )
        study.refresh_from_db()
    return study


def populate_demo(n: int = DEMO_SIZE, *, slug: str = DEMO_SLUG, seed: int = 0, progress=None) -> dict:
    """A study for a new user to look around: the case study's scenarios
    with `n` simulated participants, their transcripts rated, and a moral
    graph built from them. Tops up to `n`, so running it again is cheap.
    While it runs, the study's pages say it is being built (the advisory
    lock of studies.selectors.demo_build); a second build at the same time
    does nothing."""

    study = demo_study(slug)
    with locks.try_advisory_lock(selectors.DEMO_BUILD_LOCK_NAMESPACE, study.pk) as acquired:
        if not acquired:
            return {"study": study, "simulated": None, "rated": 0, "snapshot": None, "busy": True}
        missing = n - Participant.objects.filter(study=study, simulated=True).count()
        result = simulate(study, missing, seed=seed, progress=progress) if missing > 0 else None
        rated = ratings.rate_study(study, include_simulated=True)
        snapshot = None
        if result is not None or not study.graph_snapshots.exists():
            snapshot = graph_services.build_snapshot(study, include_simulated=True)
    return {"study": study, "simulated": result, "rated": rated, "snapshot": snapshot, "busy": False}
