from django.test import Client

from studies.models import Participant, Step
from tests.conftest import consented_participant
from tests.factories import move_to


def at_step(study, pid, step=Step.SURVEY) -> tuple[Participant, Client]:
    """A participant (with a browser session) moved straight to `step`."""
    participant, client = consented_participant(study, pid)
    move_to(participant, step)
    return participant, client


TABLE_3_KEYS = ["clarify", "expresses_care", "contributions_placed", "trust_process", "learned_values",
                "gained_respect"]


def full_answers(value="4", **overrides) -> dict:
    return {**{key: value for key in TABLE_3_KEYS}, **overrides}


def canonical_value(study, title, **extra):
    from values.models import CanonicalValue

    return CanonicalValue.objects.create(study=study, title=title, description=f"An assistant that {title.lower()}.",
                                         policies=[f"MOMENTS of {title.lower()}"], origin="manual", **extra)


def _edge(source, target, wiser, not_wiser=0, unsure=0, likelihood=0.5, kept=True):
    return {"source": source.pk, "target": target.pk, "likelihood": likelihood, "entropy": 1.0, "kept": kept,
            "reason": "" if kept else "cycle", "contexts": [],
            "counts": {"wiser": wiser, "not_wiser": not_wiser, "unsure": unsure, "less_wise": 0, "impressions": 20}}


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
    interview = interview_services.choose_scenario(participant=participant,
                                                   scenario=study.scenarios.get(key="parenting"))
    live = canonical_value(study, "Informed autonomy")
    old = canonical_value(study, "Gentle guidance", merged_into=live)
    card = ValuesCard.objects.create(
        interview=interview, revision=1, title="Let kids choose", description="Help children decide for themselves.",
        policies=["CHOICES the child can make alone"], source="articulator", submitted=True,
        submitted_at=timezone.now(), canonical=old)
    wiser, runner_up = canonical_value(study, "Shared wisdom"), canonical_value(study, "Wise elders")
    dropped, less_wise, other = (canonical_value(study, t) for t in ("Dropped", "Strict rules", "Other"))
    values = {str(v.pk): {"title": v.title, "description": v.description, "policies": list(v.policies)}
              for v in (live, wiser, runner_up, dropped, less_wise, other)}
    GraphSnapshot.objects.create(study=study, parameters={}, values=values, edges=[
        _edge(live, wiser, wiser=12, not_wiser=2, unsure=1, likelihood=0.7),
        _edge(live, runner_up, wiser=12, not_wiser=3, likelihood=0.6),
        _edge(live, dropped, wiser=30, kept=False),
        _edge(less_wise, live, wiser=5, not_wiser=1),
        _edge(other, less_wise, wiser=9),
    ])
    Participant.objects.filter(pk=participant.pk).update(current_step=Step.COMPLETE)
    participant.refresh_from_db()
    return participant, card, live, wiser, less_wise
