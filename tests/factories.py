"""Builders that make test data through the platform's own services, so a
test's participant is in the state a real one would be in, and the test data
more than one test package uses. Plain functions and constants only: the
shared pytest fixtures are in tests/fixtures.py."""

import contextlib

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client, TestCase

from mgeplatform.llm.types import Done, TextDelta, Usage
from studies import steps
from studies.models import Participant, Step, Study
from values import embeddings
from values.models import CanonicalValue, ValuesCard

# --- what the participant's open pages are told ---------------------------------------


@contextlib.contextmanager
def pushes_to(participant):
    """The messages pushed to the participant's open pages (their journey
    group) by the block: its on-commit callbacks run when it ends, as a
    commit would run them, and the list is filled then. A block that rolls
    back pushes nothing."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(steps.participant_group(participant.pk), channel)
    pushed: list[dict] = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield pushed

    async def drain():
        while layer.channels.get(channel):
            pushed.append(await layer.receive(channel))

    async_to_sync(drain)()
    async_to_sync(layer.group_discard)(steps.participant_group(participant.pk), channel)


# --- Prolific entry ----------------------------------------------------------------

PROLIFIC = {
    "PROLIFIC_PID": "5f1a2b3c4d5e6f7a8b9c0d1e",
    "STUDY_ID": "64aa00bb11cc22dd33ee44ff",
    "SESSION_ID": "sess0001",
}


def enter(client: Client, study: Study, **params):
    """Open the study link the way a participant's browser does."""
    return client.get(f"/s/{study.slug}/", params)


# --- the journey ---------------------------------------------------------------------


def move_to(participant: Participant, step: str) -> Participant:
    """Take the participant through the journey's steps up to `step` with the
    transition service: each step's entry work runs as it does for a real
    participant (a step with nothing to do may move them past `step`)."""
    order = steps.JOURNEY
    participant.refresh_from_db()
    while participant.current_step != step and order.index(participant.current_step) < order.index(step):
        steps.move(participant, steps.next_step(participant, participant.current_step))
    participant.refresh_from_db()
    return participant


def consented_participant(study, pid="pid-consented"):
    from studies import services as journey
    from studies.models import Participant

    client = Client()
    enter(client, study, PROLIFIC_PID=pid, STUDY_ID="s", SESSION_ID="t")
    participant = Participant.objects.get(prolific_identity__prolific_pid=pid)
    journey.record_consent(participant=participant, consent=study.consent_documents.get(), accepted=True)
    participant.refresh_from_db()
    return participant, client


def at_step(study, pid, step=Step.SURVEY) -> tuple[Participant, Client]:
    """A participant (with a browser session) moved straight to `step`."""
    participant, client = consented_participant(study, pid)
    move_to(participant, step)
    return participant, client


# --- interviews ----------------------------------------------------------------------

INTERVIEW_ANSWERS = [
    "Abortion is wrong, you should never do it.",
    "I care that people think about everyone affected, not only themselves, when they decide.",
    "When I thought I was pregnant in college I was scared and only thought about myself at first.",
    "Looking back I paid attention to how others would feel and to what my faith teaches me.",
]


def run_interview(participant, scenario, answers=INTERVIEW_ANSWERS, submit=True):
    """Drive a whole interview through the services (no websocket)."""
    from asgiref.sync import async_to_sync

    from interviews import services as chat

    interview = chat.choose_scenario(participant=participant, scenario=scenario)
    events = []

    async def emit(event):
        events.append(event)

    for i, answer in enumerate(answers):
        chat.add_user_message(interview_id=interview.pk, text=answer, client_message_id=f"t{i}")
        token = chat.claim_reply(interview.pk)
        async_to_sync(chat.run_reply)(interview.pk, token, emit)
    if submit:
        chat.submit_card(interview_id=interview.pk)
    interview.refresh_from_db()
    return interview, events


# --- background jobs -----------------------------------------------------------------


def run_jobs_until_idle(queues=("default",)):
    """Run a real procrastinate worker (as `manage.py procrastinate worker`
    does) until the queues are empty."""
    from procrastinate.contrib.django import app

    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        worker_app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False, queues=list(queues))


# --- values --------------------------------------------------------------------------

# Values cards' policies: two close pairs, and one that is like nothing else.
CURIOSITY = [
    "MOMENTS when the child's eyes light up with interest",
    "QUESTIONS the child asks on their own",
    "OPPORTUNITIES to follow the child's passions",
]
CURIOSITY_2 = CURIOSITY[:2] + ["OPPORTUNITIES to follow the child's own passions and interests"]
FAITH = ["SCRIPTURE passages that guide the decision", "PRAYER before choosing", "TEACHINGS of the church"]
FAITH_2 = FAITH[:2]
ODD = ["RITUALS of the royal court", "ETIQUETTE at state banquets"]

# The policies of the six parenting values make_values writes.
POLICIES = [
    ["EXAMPLES of discipline that can inspire the child", "ROLE MODELS who embody discipline"],
    [
        "MOMENTS when the child's eyes light up with interest",
        "QUESTIONS the child asks on their own",
        "OPPORTUNITIES to follow the child's passions",
    ],
    ["ROUTINES that give the family a calm evening", "SIGNS that the child feels safe at home"],
    ["CONVERSATIONS where the child explains their reasons", "AGREEMENTS the child helped shape"],
    ["CONSEQUENCES the child can understand", "CONSISTENCY between what parents say and do"],
    [
        "PLAY that builds the child's confidence",
        "PRAISE for effort rather than results",
        "CHANCES for the child to teach the parent",
    ],
]


def make_values(study, scenario_key="parenting", policies=POLICIES, prefix="author"):
    """Canonical values written by participants, embedded with the offline model."""
    from interviews import services as chat

    scenario = study.scenarios.get(key=scenario_key)
    values = []
    for i, value_policies in enumerate(policies):
        author, _ = consented_participant(study, f"{prefix}-{scenario_key}-{i}")
        interview = chat.choose_scenario(participant=author, scenario=scenario)
        card = ValuesCard.objects.create(
            interview=interview,
            revision=1,
            title=f"Value {i}",
            description=f"An assistant with value {i}.",
            policies=value_policies,
            source="articulator",
            submitted=True,
        )
        value = CanonicalValue.objects.create(
            study=study,
            title=f"Value {i}",
            description=card.description,
            policies=value_policies,
            origin="manual",
            representative_card=card,
        )
        ValuesCard.objects.filter(pk=card.pk).update(canonical=value)
        values.append(value)
    embeddings.embed_objects(values, study=study)
    return values


def parent_with_card(study, pid, value):
    """A participant (with a browser session) whose submitted parenting card
    matched `value` and who approved its wording."""
    from django.utils import timezone

    from interviews import services as chat
    from values import services as value_services

    participant, client = consented_participant(study, pid)
    interview = chat.choose_scenario(participant=participant, scenario=study.scenarios.get(key="parenting"))
    card = ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Mine",
        description="d",
        canonical=value,
        policies=list(value.policies),
        source="articulator",
        submitted=True,
        submitted_at=timezone.now(),
    )
    value_services.record_approval(card=card, canonical=value, answer="well")
    return participant, client


# A file of cards seeding two values for each of the case study's three questions (values.seed_file).
SEED_CARDS_CSV = "title,description,policies,scenarios\n" + "".join(
    f"{row}\n"
    for row in [
        "Curiosity,An assistant that follows the child's interest.,"
        "MOMENTS when the child's eyes light up;QUESTIONS the child asks on their own,parenting",
        "Calm evenings,An assistant that keeps the home calm.,"
        "ROUTINES that give the family a calm evening;SIGNS that the child feels safe,parenting",
        "Faith,An assistant that respects belief.,SCRIPTURE passages that guide the decision;PRAYER before choosing,"
        "abortion",
        "Her own choice,An assistant that leaves the choice to her.,OPTIONS she can weigh herself;FACTS she asked for,"
        "abortion",
        "Plain facts,An assistant that tells what happened.,SOURCES on all sides;EVENTS in the order they happened,"
        "weapons",
        "Safety,An assistant that keeps people from harm.,SIGNS that someone may be drawn to violence;HELP close by,"
        "weapons",
    ]
)


def canonical_value(study, title, **extra):
    from values.models import CanonicalValue

    return CanonicalValue.objects.create(
        study=study,
        title=title,
        description=f"An assistant that {title.lower()}.",
        policies=[f"MOMENTS of {title.lower()}"],
        origin="manual",
        **extra,
    )


# --- the survey and after --------------------------------------------------------------

TABLE_3_KEYS = [
    "clarify",
    "expresses_care",
    "contributions_placed",
    "trust_process",
    "learned_values",
    "gained_respect",
]


def full_answers(value="4", **overrides) -> dict:
    return {**dict.fromkeys(TABLE_3_KEYS, value), **overrides}


def _edge(source, target, wiser, not_wiser=0, unsure=0, likelihood=0.5, kept=True):
    return {
        "source": source.pk,
        "target": target.pk,
        "likelihood": likelihood,
        "entropy": 1.0,
        "kept": kept,
        "reason": "" if kept else "cycle",
        "contexts": [],
        "counts": {"wiser": wiser, "not_wiser": not_wiser, "unsure": unsure, "less_wise": 0, "impressions": 20},
    }


def finished_participant(study, pid):
    """A participant who completed, whose card ("Let kids choose") was merged,
    via an older value ("Gentle guidance"), into "Informed autonomy". The
    latest moral graph has "Shared wisdom" voted wiser than it (and a runner-up
    and a dropped edge that must not be shown) and "Strict rules" less wise.
    Returns (participant, card, live value, wiser value, less wise value)."""
    from django.utils import timezone

    from graph.models import GraphSnapshot
    from interviews import services as interview_services
    from values.models import ValuesCard

    participant, _ = at_step(study, pid, step=Step.INTERVIEW)
    interview = interview_services.choose_scenario(
        participant=participant, scenario=study.scenarios.get(key="parenting")
    )
    live = canonical_value(study, "Informed autonomy")
    old = canonical_value(study, "Gentle guidance", merged_into=live)
    card = ValuesCard.objects.create(
        interview=interview,
        revision=1,
        title="Let kids choose",
        description="Help children decide for themselves.",
        policies=["CHOICES the child can make alone"],
        source="articulator",
        submitted=True,
        submitted_at=timezone.now(),
        canonical=old,
    )
    wiser, runner_up = canonical_value(study, "Shared wisdom"), canonical_value(study, "Wise elders")
    dropped, less_wise, other = (canonical_value(study, t) for t in ("Dropped", "Strict rules", "Other"))
    values = {
        str(v.pk): {"title": v.title, "description": v.description, "policies": list(v.policies)}
        for v in (live, wiser, runner_up, dropped, less_wise, other)
    }
    GraphSnapshot.objects.create(
        study=study,
        parameters={},
        values=values,
        edges=[
            _edge(live, wiser, wiser=12, not_wiser=2, unsure=1, likelihood=0.7),
            _edge(live, runner_up, wiser=12, not_wiser=3, likelihood=0.6),
            _edge(live, dropped, wiser=30, kept=False),
            _edge(less_wise, live, wiser=5, not_wiser=1),
            _edge(other, less_wise, wiser=9),
        ],
    )
    move_to(participant, Step.COMPLETE)
    return participant, card, live, wiser, less_wise


class Replies:
    """A stand-in provider that answers each call with the next text and keeps the requests."""

    def __init__(self, texts):
        self.texts = list(texts)
        self.requests = []

    async def stream_chat(self, request, *, timeout):
        self.requests.append(request)
        yield TextDelta(self.texts.pop(0))
        yield Done(usage=Usage(), stop_reason="end_turn")


def stories_and_honest_votes(study, values, *, voters=24, per_voter=6, contexts=2, seed=0, prefix="honest"):
    """Stories for every ordered pair of `values` in `contexts` contexts of
    the parenting question, and `voters` participants who each judge
    `per_voter` of them with realistic disagreement: a move to a value later
    in the list is wiser for most (yes 70% / no 20% / unsure 10%), a move to
    an earlier one mostly not (25 / 60 / 15), so values[0] is the least
    wise. Each story judged was shown first (an impression); votes are
    spread over a day. Returns (stories, voters)."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from graph.models import MoralContext, StoryAssignment, TransitionStory, WisdomVote

    rng = random.Random(seed)
    scenario = study.scenarios.get(key="parenting")
    made = [
        MoralContext.objects.create(study=study, scenario=scenario, text=f"Context {i} of the parenting question")
        for i in range(contexts)
    ]
    index = {v.pk: i for i, v in enumerate(values)}
    stories = [
        TransitionStory.objects.create(
            study=study, from_value=a, to_value=b, context=c, story=f"I moved from {a.title} to {b.title}."
        )
        for c in made
        for a in values
        for b in values
        if a != b
    ]
    people = [consented_participant(study, f"{prefix}-{i}")[0] for i in range(voters)]
    start = timezone.now() - timedelta(days=1)
    for person in people:
        at = start + timedelta(seconds=rng.uniform(0, 80000))
        shown = rng.sample(stories, per_voter)
        StoryAssignment.objects.bulk_create(
            [
                StoryAssignment(
                    participant=person, story=story, position=n, shown_at=at + timedelta(seconds=90 * n - 30)
                )
                for n, story in enumerate(shown)
            ]
        )
        for n, story in enumerate(shown):
            upgrade = index[story.to_value_id] > index[story.from_value_id]
            answer = rng.choices(["yes", "no", "unsure"], [0.7, 0.2, 0.1] if upgrade else [0.25, 0.6, 0.15])[0]
            vote = WisdomVote.objects.create(
                study=study,
                participant=person,
                from_value=story.from_value,
                to_value=story.to_value,
                context=story.context,
                story=story,
                answer=answer,
            )
            WisdomVote.objects.filter(pk=vote.pk).update(created_at=at + timedelta(seconds=90 * n))
    return stories, people
