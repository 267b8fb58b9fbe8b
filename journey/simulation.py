"""Simulated participants for pilots and demos: each goes through the whole
journey through the same services as a real one (consent, interview with
the offline interviewer, deduplication, relevance marks, transition
stories, survey), tagged `simulated` so reports leave them out by default.

Personas give participants something to say: several share a persona, so
their cards deduplicate into shared canonical values, and votes lean
towards a hidden preference order so the graph has a shape.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.db import transaction

from graph import services as graph_services
from graph import stories
from interviews import ratings
from interviews import services as chat
from mgeplatform.audit import participant_context, record_event
from mgeplatform.llm.providers.offline import unpaced
from mgeplatform.models import LLMCall
from studies import events as studies_events
from studies import selectors, steps
from studies import services as journey
from studies.models import Participant, Step, Study
from surveys import selectors as survey_selectors
from surveys import services as survey_services
from surveys.models import SurveyItem
from values import relevance
from values import selectors as value_selectors
from values import services as value_services

PERSONAS = {
    "abortion": [
        # First-person experience, so the expert rater (Fig. 12) finds someone.
        ["It is not my place to judge her.",
         "I care that she weighs the decision with full information and on her own terms.",
         "When I was pregnant at twenty I considered an abortion, and a nurse walked me through every option.",
         "What mattered was having the facts and the time to decide for myself, without pressure."],
        ["She should never do it, it is wrong.",
         "I care that she knows every option and the facts about each, so she can decide for herself.",
         "When my sister faced a hard pregnancy I looked for clear information and doctors she could trust.",
         "What mattered was that the choice stayed hers, with the information she needed to make it."],
        ["She should pray about it.",
         "I care that she feels held by her faith community and is not alone while she decides.",
         "When I went through a crisis my church friends sat with me and listened without judging.",
         "What mattered was being accompanied by people who shared my faith and loved me anyway."],
        ["It is her body and her choice.",
         "I care about the feelings she may not have named yet, like fear or grief or relief.",
         "When my friend was pregnant at nineteen she needed someone to notice how scared she was.",
         "What mattered was noticing her feelings before giving any advice at all."],
    ],
    "parenting": [
        ["He must obey his parents.",
         "I care that the child develops discipline and routines that help him finish what he starts.",
         "When I was a boy my coach made us practise every day and I learned to stick with hard things.",
         "What mattered was the steady routine and the pride of finishing."],
        ["Kids need freedom.",
         "I care about moments when the child's eyes light up with interest and curiosity.",
         "When my daughter hated maths I found puzzles she loved and she started asking questions herself.",
         "What mattered was following her curiosity instead of forcing her."],
        ["Take the computer away.",
         "I care that the child understands the reasons behind rules and helps shape the agreements.",
         "When my son fought about bedtime we wrote the rules together and the fights stopped.",
         "What mattered was that he had a say in the agreement and knew why it existed."],
    ],
    "weapons": [
        ["Just tell the facts.",
         "I care that the answer sticks to verified facts from reliable sources about the events.",
         "When rumours spread in my town after a fire I checked the official reports before sharing anything.",
         "What mattered was accuracy and naming where each fact came from."],
        ["Do not spread violence.",
         "I care that the answer avoids details that could help someone copy an attack.",
         "When I worked in a school we talked about threats without describing how to carry them out.",
         "What mattered was informing people while keeping them safe."],
        ["People deserve to know.",
         "I care that people can understand what happened so they can judge it for themselves.",
         "When I read about historical riots I wanted the full picture, not a filtered one.",
         "What mattered was trusting readers with the whole story in context."],
    ],
}
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


def create_participant(study, rng: random.Random | None = None) -> Participant:
    """A simulated participant; with `rng`, its id comes from it too, so a
    seeded simulation chooses the same stories for the same people (story
    choice is seeded by the participant's id) and draws the same graph."""
    pk = uuid.UUID(int=rng.getrandbits(128), version=4) if rng is not None else uuid.uuid4()
    with transaction.atomic():
        participant = Participant.objects.create(pk=pk, study=study, simulated=True)
        with participant_context(participant.pk):
            record_event(studies_events.PARTICIPANT_JOINED, participant_id=participant.pk, study_slug=study.slug,
                         subject=participant, payload={"via_prolific": False, "simulated": True})
    return participant


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
        value_services.record_approval(card=pending[0], canonical=pending[1],
                                       answer=rng.choices(["well", "partly", "not"], [0.85, 0.12, 0.03])[0])


def _relevance(participant, rng: random.Random) -> None:
    draw = relevance.draw_for(participant)
    if draw is not None:
        shown = list(draw.items.values_list("canonical_id", flat=True))
        relevance.submit_marks(draw=draw, relevant_ids={v for v in shown if rng.random() < 0.4})
    steps.finish(participant, Step.RELEVANCE)


def _stories(participant, rng: random.Random) -> None:
    while (assignment := graph_services.next_assignment(participant)) is not None:
        story = assignment.story
        upgrade = (_hidden_preference(story.to_value_id, story.to_value.title)
                   > _hidden_preference(story.from_value_id, story.from_value.title))
        weights = [0.75, 0.15, 0.1] if upgrade else [0.25, 0.6, 0.15]
        graph_services.record_vote(participant=participant, assignment=assignment,
                                   answer=rng.choices(["yes", "no", "unsure"], weights)[0])
    steps.finish(participant, Step.STORIES)


def _survey(participant, rng: random.Random) -> None:
    """Answer the survey step as a real participant would (the attention
    check correctly), through the same service as the survey page."""

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


def simulate_one(study, rng: random.Random, turns: dict | None = None) -> Participant:
    """One participant. `turns` counts participants per scenario so personas
    are taken in turn: every persona appears once a scenario has as many
    participants as personas (a demo always has its expert)."""
    participant = create_participant(study, rng)
    journey.record_consent(participant=participant, consent=selectors.current_consent(study), accepted=True)
    scenarios = list(selectors.active_scenarios(study))
    scenario = rng.choice(scenarios)
    personas = PERSONAS.get(scenario.key) or [p for ps in PERSONAS.values() for p in ps]
    if turns is None:
        persona = rng.choice(personas)
    else:
        persona = personas[turns.get(scenario.key, 0) % len(personas)]
        turns[scenario.key] = turns.get(scenario.key, 0) + 1
    run_interview(participant, scenario, persona)
    participant.refresh_from_db()
    if participant.current_step == Step.INTERVIEW:
        return participant  # no card: stays where a real participant would be
    _after_card(participant, rng)
    if participant.current_step == Step.RELEVANCE:
        _relevance(participant, rng)
        participant.refresh_from_db()
    if participant.current_step == Step.STORIES and graph_services.next_assignment(participant) is None:
        # Waiting for stories: do what the background job does.
        stories.generate_stories(study, max_stories=40)
        graph_services.serve_waiting(study)
        participant.refresh_from_db()
    if participant.current_step == Step.STORIES:
        _stories(participant, rng)
        participant.refresh_from_db()
    if participant.current_step == Step.SURVEY:
        _survey(participant, rng)
        participant.refresh_from_db()
    return participant


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
    turns: dict[str, int] = {}
    with unpaced():
        for i in range(n):
            if i == first_batch or (i > first_batch and (i - first_batch) % every == 0):
                value_services.run_batch_dedup(study)
                stories.generate_stories(study, max_stories=40)
                runs += 1
            participant = simulate_one(study, rng, turns)
            completed += participant.current_step == Step.COMPLETE
            if progress:
                progress(i + 1, n)
        value_services.run_batch_dedup(study)
    return SimulationResult(participants=n, completed=completed, llm_calls=LLMCall.objects.count() - calls_before,
                            seconds=time.perf_counter() - started, story_runs=runs)


DEMO_SLUG = "demo"


def populate_demo(n: int, *, slug: str = DEMO_SLUG, seed: int = 0, progress=None) -> dict:
    """A study for a new user to look around: the case study's scenarios
    with `n` simulated participants, their transcripts rated, and a moral
    graph built from them. Tops up to `n`, so running it again is cheap."""

    study, created = journey.seed_case_study(slug)
    if created:
        Study.objects.filter(pk=study.pk).update(
            title="Demo: simulated participants", graph_public=True,
            description="Filled by scripted participants (offline models) to show the graph and the report.")
        study.refresh_from_db()
    missing = n - Participant.objects.filter(study=study, simulated=True).count()
    result = simulate(study, missing, seed=seed, progress=progress) if missing > 0 else None
    rated = ratings.rate_study(study, include_simulated=True)
    snapshot = None
    if result is not None or not study.graph_snapshots.exists():
        snapshot = graph_services.build_snapshot(study, include_simulated=True)
    return {"study": study, "simulated": result, "rated": rated, "snapshot": snapshot}

