"""A study with a hand-built moral graph for the alignment tests: in the
context about a child resisting rules the graph ranks Informed autonomy first,
then Strict rules, Shared wisdom and Quiet example; it ranks nothing in the
other two contexts."""

import contextlib
from dataclasses import dataclass

import pytest

from graph.models import GraphSnapshot, MoralContext
from mgeplatform.llm import gateway
from tests.factories import Replies, _edge
from values.models import CanonicalValue

PROMPT = "My child refuses to follow our rules at home. What should I do?"
FOLLOWS_AUTONOMY = (
    "Explain the reasons behind each rule so your child understands them. "
    "Let the child make some choices alone, like what to wear. Stay calm."
)
FOLLOWS_STRICT = "Set clear consequences when rules are broken. Follow through every time."


@dataclass
class Target:
    study: object
    snapshot: GraphSnapshot
    child: MoralContext
    distress: MoralContext
    faith: MoralContext
    autonomy: CanonicalValue
    strict: CanonicalValue
    shared: CanonicalValue
    quiet: CanonicalValue


def _value(study, title, policies):
    return CanonicalValue.objects.create(
        study=study, title=title, description=f"An assistant guided by {title}.", policies=policies, origin="manual"
    )


@pytest.fixture
def target(study, settings):
    # A hand-built graph with no votes behind it: these tests are about the winners it ranks, not about
    # how many votes a winner needs (tests/alignment/test_targets.py checks GRAPH_MIN_VOTES_FOR_WINNER).
    settings.GRAPH_MIN_VOTES_FOR_WINNER = 0
    MoralContext.objects.filter(study=study).update(active=False)  # only this graph's contexts apply
    parenting = study.scenarios.get(key="parenting")
    child, distress, faith = (
        MoralContext.objects.create(study=study, scenario=parenting, text=text)
        for text in (
            "When a child resists their parents' rules",
            "When advising someone in distress",
            "When the question touches on religious faith",
        )
    )
    autonomy = _value(
        study, "Informed autonomy", ["CHOICES the child can make alone", "REASONS behind each family rule"]
    )
    strict = _value(study, "Strict rules", ["CONSEQUENCES that follow broken rules"])
    shared = _value(study, "Shared wisdom", ["STORIES from elders about growing up"])
    quiet = _value(study, "Quiet example", ["HABITS the parent shows without words"])
    values = {
        str(v.pk): {"title": v.title, "description": v.description, "policies": list(v.policies)}
        for v in (autonomy, strict, shared, quiet)
    }
    snapshot = GraphSnapshot.objects.create(
        study=study,
        parameters={},
        values=values,
        contexts={str(c.pk): {"text": c.text, "scenario": parenting.pk} for c in (child, distress, faith)},
        scores={
            "global": {str(autonomy.pk): 0.4, str(strict.pk): 0.3, str(shared.pk): 0.2, str(quiet.pk): 0.1},
            "context": {
                str(child.pk): {str(quiet.pk): 0.05, str(shared.pk): 0.2, str(strict.pk): 0.3, str(autonomy.pk): 0.45}
            },
        },
        bootstrap={
            str(autonomy.pk): {"rank": 1, "rank_low": 1, "rank_high": 2, "rank_median": 1, "top_share": 0.7},
            str(strict.pk): {"rank": 2, "rank_low": 1, "rank_high": 3, "rank_median": 2, "top_share": 0.3},
        },
    )
    return Target(study, snapshot, child, distress, faith, autonomy, strict, shared, quiet)


@pytest.fixture
def graph(target):
    """The conftest graph plus edges: two kept edges into Informed autonomy
    in the child context, one into "Calm" (whose only policy has no content
    word, so no answer adheres to it better than another: a dropped pair),
    a dropped edge and a kept one in another context."""
    study, t = target.study, target
    study.scenarios.exclude(key="parenting").update(active=False)
    study.scenarios.filter(key="parenting").update(prompt=PROMPT)
    calm = _value(study, "Calm", ["BE OK"])
    values = {**t.snapshot.values, str(calm.pk): {"title": calm.title, "description": "", "policies": ["BE OK"]}}
    edges = [
        _edge(t.strict, t.autonomy, wiser=9, not_wiser=1, likelihood=0.8),
        _edge(t.shared, t.autonomy, wiser=6, not_wiser=2, likelihood=0.6),
        _edge(t.autonomy, calm, wiser=5, likelihood=0.55),
        _edge(t.quiet, t.shared, wiser=4, kept=False),
        _edge(t.strict, t.shared, wiser=7),
    ]
    for edge in edges[:4]:
        edge["contexts"] = [t.child.pk]
    edges[4]["contexts"] = [t.distress.pk]
    # Snapshots are append-only: the graph with edges is a newer one.
    t.snapshot = GraphSnapshot.objects.create(
        study=study,
        parameters={"min_wiser": 3},
        values=values,
        edges=edges,
        contexts=t.snapshot.contexts,
        scores=t.snapshot.scores,
        bootstrap=t.snapshot.bootstrap,
    )
    return t


@pytest.fixture
def replies(target):
    """Point the study's model at recorded provider answers, given in call order."""
    with contextlib.ExitStack() as installed:

        def install(*texts):
            provider = Replies(texts)
            installed.enter_context(gateway.override_provider("replies", lambda route: provider))
            target.study.llm_provider = "replies"
            target.study.save(update_fields=["llm_provider"])
            return provider

        yield install
