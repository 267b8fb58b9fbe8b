"""The moral graph explorer, the winning values and the scalability view,
read as a visitor sees them: who may look, what the page and its JSON show,
and a value's path as participation grows (checked by hand)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from graph import explorer
from graph.models import GraphSnapshot, MoralContext, StoryAssignment, TransitionStory, WisdomVote
from studies.models import Participant
from values.models import CanonicalValue

pytestmark = pytest.mark.django_db


def _visible(html: str) -> str:
    """Text as a reader sees it: tags (and scripts) out, entities read, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    blocks = "td|th|tr|li|p|h\\d|div|section|article|nav|option|optgroup|br|dt|dd|label|button|figcaption"
    html = re.sub(rf"</?({blocks})\b[^>]*>", " ", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def _text(response) -> str:
    return _visible(response.content.decode())


def _value(study, title, **extra):
    name = title.lower()
    return CanonicalValue.objects.create(
        study=study,
        title=title,
        description=f"An assistant guided by {name}.",
        policies=[f"MOMENTS of {name}", f"SIGNS of {name}"],
        origin="manual",
        **extra,
    )


def _counts(wiser=0, not_wiser=0, unsure=0, less_wise=0, impressions=0):
    return {
        "wiser": wiser,
        "not_wiser": not_wiser,
        "unsure": unsure,
        "less_wise": less_wise,
        "impressions": impressions,
    }


def _edge(a, b, contexts, *, kept=True, reason="", wiser=4, likelihood=0.8, entropy=0.7, **counts):
    return {
        "source": a.pk,
        "target": b.pk,
        "counts": _counts(wiser=wiser, **counts),
        "likelihood": likelihood,
        "entropy": entropy,
        "contexts": [c.pk for c in contexts],
        "kept": kept,
        "reason": reason,
    }


@pytest.fixture
def graph(study):
    """A hand-made snapshot: parenting has Curiosity on top (a stable
    winner), abortion has Informed choice (not stable), weapons has only a
    cycle, so no winner."""
    scenarios = {s.key: s for s in study.scenarios.all()}
    ctx = {
        "resists": MoralContext.objects.create(
            study=study, scenario=scenarios["parenting"], text="When a child resists authority"
        ),
        "bored": MoralContext.objects.create(
            study=study, scenario=scenarios["parenting"], text="When a child is bored"
        ),
        "scared": MoralContext.objects.create(
            study=study, scenario=scenarios["abortion"], text="When someone is scared of a pregnancy"
        ),
        "weapon": MoralContext.objects.create(
            study=study, scenario=scenarios["weapons"], text="When someone asks how to build a weapon"
        ),
    }
    v = {
        key: _value(study, title)
        for key, title in [
            ("rules", "Rules and discipline"),
            ("curiosity", "Curiosity"),
            ("calm", "Calm home"),
            ("reasons", "Shared reasons"),
            ("faith", "Faithful care"),
            ("informed", "Informed choice"),
            ("safety", "Safety first"),
            ("law", "Respect the law"),
            ("trust", "Trust the asker"),
        ]
    }
    edges = [
        _edge(
            v["rules"],
            v["curiosity"],
            [ctx["resists"]],
            wiser=4,
            not_wiser=1,
            impressions=6,
            likelihood=0.8,
            entropy=1.2,
        ),
        _edge(v["calm"], v["reasons"], [ctx["bored"]], wiser=3, likelihood=0.75),
        _edge(v["faith"], v["informed"], [ctx["scared"]], wiser=5, likelihood=0.71),
        _edge(v["curiosity"], v["calm"], [ctx["resists"]], kept=False, reason="too_few_wiser", wiser=1, likelihood=0.5),
        _edge(
            v["informed"],
            v["faith"],
            [ctx["scared"]],
            kept=False,
            reason="low_likelihood",
            wiser=2,
            less_wise=5,
            likelihood=-0.3,
        ),
        _edge(v["safety"], v["law"], [ctx["weapon"]], kept=False, reason="cycle"),
        _edge(v["law"], v["trust"], [ctx["weapon"]], kept=False, reason="cycle"),
        _edge(v["trust"], v["safety"], [ctx["weapon"]], kept=False, reason="cycle"),
    ]
    ids = {k: str(x.pk) for k, x in v.items()}
    global_scores = {
        ids["curiosity"]: 0.25,
        ids["reasons"]: 0.2,
        ids["informed"]: 0.15,
        ids["calm"]: 0.1,
        ids["rules"]: 0.06,
        ids["faith"]: 0.06,
        ids["safety"]: 0.06,
        ids["law"]: 0.06,
        ids["trust"]: 0.06,
    }
    bootstrap = {
        ids["curiosity"]: {"rank": 1, "rank_low": 1, "rank_high": 1, "rank_median": 1.0, "top_share": 0.97},
        ids["reasons"]: {"rank": 2, "rank_low": 1, "rank_high": 4, "rank_median": 2.0, "top_share": 0.2},
        ids["informed"]: {"rank": 3, "rank_low": 2, "rank_high": 5, "rank_median": 3.0, "top_share": 0.05},
    }
    values = {
        ids[k]: {
            "title": x.title,
            "description": x.description,
            "policies": x.policies,
            "external_id": f"ext-{k}-77",
            "origin": "manual",
            "scenarios": [],
        }
        for k, x in v.items()
    }
    snapshot = GraphSnapshot.objects.create(
        study=study,
        parameters={
            "min_wiser": 2,
            "min_likelihood": 0.33,
            "max_entropy": 1.69,
            "entropy_over": "five",
            "pagerank_alpha": 0.85,
            "bootstrap_samples": 200,
            "bootstrap_seed": 0,
        },
        summary={
            "values": 9,
            "edges_kept": 3,
            "dropped": {"too_few_wiser": 1, "low_likelihood": 1, "cycle": 3},
            "cycles": 1,
        },
        values=values,
        contexts={str(c.pk): {"text": c.text, "scenario": c.scenario_id} for c in ctx.values()},
        edges=edges,
        cycles=[[v["safety"].pk, v["law"].pk, v["trust"].pk]],
        scores={
            "global": global_scores,
            "scenario": {
                str(scenarios["parenting"].pk): {
                    ids["curiosity"]: 0.4,
                    ids["reasons"]: 0.3,
                    ids["calm"]: 0.15,
                    ids["rules"]: 0.15,
                },
                str(scenarios["abortion"].pk): {ids["informed"]: 0.6, ids["faith"]: 0.4},
            },
            "context": {
                str(ctx["resists"].pk): {ids["curiosity"]: 0.6, ids["rules"]: 0.4},
                str(ctx["bored"].pk): {ids["reasons"]: 0.6, ids["calm"]: 0.4},
                str(ctx["scared"].pk): {ids["informed"]: 0.6, ids["faith"]: 0.4},
            },
        },
        bootstrap=bootstrap,
    )
    # The active story for rules → curiosity, an archived one, and one for the reverse direction.
    TransitionStory.objects.create(
        study=study,
        from_value=v["rules"],
        to_value=v["curiosity"],
        context=ctx["resists"],
        story="I used to insist on rules, until I saw my son light up when he asked why.",
    )
    TransitionStory.objects.create(
        study=study,
        from_value=v["rules"],
        to_value=v["curiosity"],
        context=ctx["bored"],
        story="An old draft nobody should see.",
        status="archived",
    )
    TransitionStory.objects.create(
        study=study,
        from_value=v["curiosity"],
        to_value=v["rules"],
        context=ctx["resists"],
        story="The reverse story, for the other direction.",
    )
    return {"study": study, "snapshot": snapshot, "values": v, "contexts": ctx, "scenarios": scenarios}


def _url(name, study, **query):
    url = reverse(f"graph:{name}", args=[study.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _staff_client(user):
    client = Client()
    client.force_login(user)
    return client


# --- who may look ------------------------------------------------------------------


def test_private_graph_is_refused_to_anonymous_visitors_and_shown_to_staff(graph, coordinator, auditor):
    study = graph["study"]
    assert not study.graph_public
    anonymous = Client()
    for name in ("explorer", "winners", "scalability"):
        response = anonymous.get(_url(name, study))
        assert response.status_code == 403
        assert "This moral graph is not public" in _text(response)
        assert "Curiosity" not in _text(response)
    response = anonymous.get(_url("data", study))
    assert response.status_code == 403 and "nodes" not in response.json()

    for user in (coordinator, auditor):
        client = _staff_client(user)
        response = client.get(_url("explorer", study))
        assert response.status_code == 200
        assert "Curiosity" in _text(response)
        assert client.get(_url("data", study)).status_code == 200
        assert client.get(_url("winners", study)).status_code == 200


def test_staff_without_graph_permission_and_unknown_studies(graph, django_user_model):
    study = graph["study"]
    outsider = django_user_model.objects.create_user(
        username="nobody", email="n@example.org", password="x" * 12, is_staff=True
    )
    assert _staff_client(outsider).get(_url("explorer", study)).status_code == 403
    assert Client().get("/graph/no-such-study/").status_code == 404
    other = GraphSnapshot.objects.create(study=type(study).objects.create(slug="other", title="Other"), parameters={})
    assert _staff_client(outsider).get(_url("explorer", study, snapshot=other.pk)).status_code == 403


def test_snapshot_of_another_study_is_not_found(graph, coordinator):
    study = graph["study"]
    other = GraphSnapshot.objects.create(study=type(study).objects.create(slug="other", title="Other"), parameters={})
    client = _staff_client(coordinator)
    assert client.get(_url("explorer", study, snapshot=other.pk)).status_code == 404
    assert client.get(_url("data", study, snapshot="x")).status_code == 404
    assert client.get(_url("explorer", study, snapshot=graph["snapshot"].pk)).status_code == 200


# --- the public, anonymised explorer -------------------------------------------------


@pytest.fixture
def public_graph(graph):
    graph["study"].graph_public = True
    graph["study"].save(update_fields=["graph_public"])
    return graph


def test_public_explorer_json_has_every_value_and_only_kept_edges(public_graph):
    study, v = public_graph["study"], public_graph["values"]
    response = Client().get(_url("data", study))
    assert response.status_code == 200
    data = response.json()
    assert {n["id"] for n in data["nodes"]} == {str(x.pk) for x in v.values()}
    assert {(e["source"], e["target"]) for e in data["edges"]} == {
        (str(v["rules"].pk), str(v["curiosity"].pk)),
        (str(v["calm"].pk), str(v["reasons"].pk)),
        (str(v["faith"].pk), str(v["informed"].pk)),
    }
    assert data["access"] == "public"
    # Anonymised: no external ids, no admin links, nothing about participants.
    body = response.content.decode()
    assert "ext-" not in body and "admin" not in body and "participant" not in body.lower()
    curiosity = next(n for n in data["nodes"] if n["id"] == str(v["curiosity"].pk))
    assert curiosity["title"] == "Curiosity" and curiosity["rank"] == 1
    assert curiosity["policies"] == ["MOMENTS of curiosity", "SIGNS of curiosity"]
    assert curiosity["interval_text"] == "95% interval 1" and curiosity["stable"]
    assert curiosity["votes"] == 6 and not curiosity["too_few_votes"]
    # Shared reasons has 3 votes, under GRAPH_MIN_VOTES_FOR_WINNER (5): ranked, but no interval from so few.
    reasons = next(n for n in data["nodes"] if n["id"] == str(v["reasons"].pk))
    assert reasons["rank"] == 2 and reasons["interval_text"] == "" and reasons["interval"] is None
    assert reasons["too_few_votes"] and reasons["votes"] == 3 and not reasons["stable"]
    assert data["min_votes"] == 5


def test_edge_carries_the_active_story_for_its_direction_only(public_graph):
    study, v = public_graph["study"], public_graph["values"]
    data = Client().get(_url("data", study)).json()
    edge = next(e for e in data["edges"] if e["source"] == str(v["rules"].pk))
    assert edge["counts"] == _counts(wiser=4, not_wiser=1, impressions=6)
    assert edge["likelihood"] == 0.8 and edge["entropy"] == 1.2
    assert edge["contexts"] == [str(public_graph["contexts"]["resists"].pk)]
    assert [s["text"] for s in edge["stories"]] == [
        "I used to insist on rules, until I saw my son light up when he asked why."
    ]
    others = [e for e in data["edges"] if e is not edge]
    assert all(not e["stories"] for e in others)


def test_public_page_lists_dropped_edges_with_reasons_and_the_cycle(public_graph):
    study = public_graph["study"]
    response = Client().get(_url("explorer", study))
    assert response.status_code == 200
    text = _text(response)
    assert "anonymised" in text
    assert "ext-" not in text and "/admin/" not in response.content.decode()
    dropped = _text_of(response, "dropped-edges")
    assert "Curiosity Calm home too few participants marked the move as wiser" in dropped
    assert "Informed choice Faithful care wiser-likelihood below the threshold" in dropped
    assert dropped.count("part of a cycle") == 3
    assert "Safety first → Respect the law → Trust the asker → Safety first" in _text_of(response, "cycles")
    kept = _text_of(response, "kept-edges")
    assert "Rules and discipline Curiosity When a child resists authority 4 / 1 / 0 / 0 / 6 0.800 1.200" in kept
    # The graph itself is drawn by the script from data.json; the ranking is in a table.
    html = response.content.decode()
    assert f'data-url="{_url("data", study)}?snapshot={public_graph["snapshot"].pk}"' in html
    assert "graph/explorer.js" in html
    ranking = _text_of(response, "ranking-table")
    assert ranking.startswith("Rank Value PageRank Bootstrap 1 Curiosity")
    assert "2 Shared reasons show in graph 0.2000 too few votes (3 of 5)" in ranking
    assert "1 Curiosity show in graph 0.2500 95% interval 1 · stable" in ranking
    # The kept edge with 3 votes is marked; the one with 5 is not.
    assert "Calm home Shared reasons When a child is bored 3 / 0 / 0 / 0 / 0 too few votes" in kept
    assert "4 / 1 / 0 / 0 / 6 too few votes" not in kept


def _text_of(response, element_id: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<(table|ul)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return _visible(match.group(2))


def test_context_filter_offers_scenarios_and_contexts_and_filters_the_table(public_graph):
    study, ctx, scenarios = public_graph["study"], public_graph["contexts"], public_graph["scenarios"]
    data = Client().get(_url("data", study)).json()
    assert data["contexts"][str(ctx["bored"].pk)] == {
        "text": "When a child is bored",
        "scenario": str(scenarios["parenting"].pk),
    }
    assert data["scenarios"][str(scenarios["parenting"].pk)] == scenarios["parenting"].title
    assert data["scores"]["context"][str(ctx["bored"].pk)]

    html = Client().get(_url("explorer", study)).content.decode()
    assert f'<option value="context:{ctx["bored"].pk}">When a child is bored</option>' in html
    parenting = scenarios["parenting"]
    assert f'<option value="scenario:{parenting.pk}">All of “{parenting.title}”</option>' in html

    # Without JavaScript the form filters the table of kept edges.
    response = Client().get(_url("explorer", study, context=f"context:{ctx['bored'].pk}"))
    rows = re.findall(r'<tr data-contexts="([^"]*)"( hidden)?>', response.content.decode())
    assert sorted(rows) == sorted(
        [(str(ctx["resists"].pk), " hidden"), (str(ctx["bored"].pk), ""), (str(ctx["scared"].pk), " hidden")]
    )
    assert "Edges kept (1 of 3)" in _text(response)
    response = Client().get(_url("explorer", study, context=f"scenario:{scenarios['parenting'].pk}"))
    assert "Edges kept (2 of 3)" in _text(response)
    assert "selected>All of" in response.content.decode()


def test_staff_see_external_ids_and_provenance_links(graph, coordinator):
    v = graph["values"]
    data = _staff_client(coordinator).get(_url("data", graph["study"])).json()
    node = next(n for n in data["nodes"] if n["id"] == str(v["curiosity"].pk))
    assert node["admin_url"] == reverse("admin:values_canonicalvalue_change", args=[v["curiosity"].pk])
    assert node["external_id"] == "ext-curiosity-77"
    assert data["access"] == "staff"


def test_explorer_without_a_snapshot_says_so(study, coordinator):
    response = _staff_client(coordinator).get(_url("explorer", study))
    assert response.status_code == 200
    assert "No moral graph has been built for this study yet." in _text(response)
    assert _staff_client(coordinator).get(_url("data", study)).status_code == 404


# --- winning values ------------------------------------------------------------------


def _section(response, scenario) -> str:
    html = response.content.decode()
    match = re.search(rf'<section[^>]*id="scenario-{scenario.pk}"[^>]*>(.*?)</section>', html, re.S)
    assert match
    return _visible(match.group(1))


def test_winners_page_shows_the_top_values_of_each_scenario(public_graph):
    study, scenarios = public_graph["study"], public_graph["scenarios"]
    response = Client().get(_url("winners", study))
    assert response.status_code == 200
    parenting = _section(response, scenarios["parenting"])
    order = [
        parenting.index(t)
        for t in (
            "#1 in this scenario · PageRank 0.4000 Curiosity",
            "#2 in this scenario · PageRank 0.3000 Shared reasons",
            "#3 in this scenario",
        )
    ]
    assert order == sorted(order)
    assert "An assistant guided by curiosity. Attentional policies" in parenting
    assert "MOMENTS of curiosity SIGNS of curiosity" in parenting
    assert "Rank in the whole graph: 1, 95% interval 1; first in 97% of samples. Stable? Yes" in parenting
    # Shared reasons has 3 votes: labelled, not presented as a winner with an interval.
    assert (
        "SIGNS of shared reasons Too few votes: 3 votes on stories about this value, 5 needed before it is "
        "called a winner or given a rank interval. #3 in this scenario"
    ) in parenting
    assert "95% interval 1–4" not in parenting
    assert parenting.count("#") == 3  # top 3 only

    abortion = _section(response, scenarios["abortion"])
    assert abortion.index("Informed choice") < abortion.index("Faithful care")
    assert "Stable? Not yet." in abortion and "Stable? Yes" not in abortion
    weapons = _section(response, scenarios["weapons"])
    assert "no winner" in weapons


def test_the_minimum_is_a_setting_and_the_snapshot_page_labels_thin_winners(graph, coordinator, settings):
    study, scenarios, snapshot = graph["study"], graph["scenarios"], graph["snapshot"]
    page = _visible(
        _staff_client(coordinator).get(reverse("admin:graph_graphsnapshot_change", args=[snapshot.pk])).content.decode()
    )
    assert "Shared reasons 0.3000 too few votes (3; 5 needed to call it a winner)" in page
    assert "Curiosity 0.4000 1–1 in the whole graph" in page
    # With a minimum of 3, Shared reasons has enough votes: its interval is back.
    settings.GRAPH_MIN_VOTES_FOR_WINNER = 3
    parenting = _section(_staff_client(coordinator).get(_url("winners", study)), scenarios["parenting"])
    assert "Rank in the whole graph: 2, 95% interval 1–4; first in 20% of samples. Stable? Not yet." in parenting
    assert "Too few votes" not in parenting


def test_stable_rule():
    assert explorer.is_stable({"rank_low": 1, "rank_high": 1, "top_share": 0.5})
    assert explorer.is_stable({"rank_low": 1, "rank_high": 2, "top_share": 0.9})
    assert not explorer.is_stable({"rank_low": 1, "rank_high": 2, "top_share": 0.89})
    assert not explorer.is_stable(None)


# --- scalability (paper 5.5, Fig. 12) ----------------------------------------------


@pytest.fixture
def timeline(study):
    """Eleven votes, one minute apart. z is reached late through b, while e
    collects many direct votes at the end:

        1-2  a → b yes        (a → b kept from the 2nd)
        3-4  c → b yes        (c → b kept from the 4th)
        5-6  b → z yes        (b → z kept from the 6th: z is at the end of the chain)
        7-9  d → e yes        (d → e kept from the 8th)
        10-11 f → e yes       (f → e kept from the 11th)

    plus a simulated participant's vote for z, left out by default."""
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.get(key="abortion"), text="When someone is scared of a pregnancy"
    )
    # Created in this order so that z has the lower id when z and e tie.
    v = {k: _value(study, f"Value {k}") for k in "abczdef"}
    start = timezone.now() - timedelta(days=1)
    plan = [
        ("a", "b"),
        ("a", "b"),
        ("c", "b"),
        ("c", "b"),
        ("b", "z"),
        ("b", "z"),
        ("d", "e"),
        ("d", "e"),
        ("d", "e"),
        ("f", "e"),
        ("f", "e"),
    ]
    for i, (x, y) in enumerate(plan):
        voter = Participant.objects.create(study=study)
        vote = WisdomVote.objects.create(
            study=study, participant=voter, from_value=v[x], to_value=v[y], context=context, answer="yes"
        )
        WisdomVote.objects.filter(pk=vote.pk).update(created_at=start + timedelta(minutes=i))
    bot = Participant.objects.create(study=study, simulated=True)
    WisdomVote.objects.create(
        study=study, participant=bot, from_value=v["a"], to_value=v["z"], context=context, answer="yes"
    )
    return study, v, context


# Worked out by hand from the rules (min 2 wiser votes; PageRank over kept
# edges, positions among the values those edges touch; ties to the lower id).
# After 6 events z is the sink of a → b → z and c → b → z, so it has the most
# PageRank from then on (with base score s: z = s(1 + α + 2α²) > b = e = s(1 + 2α)).
# By direct votes z has 2 from the 5th/6th event: b (4) is ahead; e ties z
# after 8 (z keeps 2nd, lower id) and passes it after 9.
EXPECTED_Z = [
    (1, None, None),
    (2, None, None),
    (3, None, None),
    (4, None, None),
    (5, None, 2),
    (6, 1, 2),
    (7, 1, 2),
    (8, 1, 2),
    (9, 1, 3),
    (10, 1, 3),
    (11, 1, 3),
]


def test_value_positions_as_participation_grows_match_a_hand_computation(timeline):
    study, v, _ = timeline
    result = explorer.scalability(study, v["z"].pk)
    assert result["events"] == 11 and result["votes"] == 11 and result["impressions"] == 0
    got = [(p["events"], p["pagerank_position"], p["votes_position"]) for p in result["points"]]
    assert got == EXPECTED_Z
    # b leads by direct votes until e overtakes it with its fifth vote.
    b = explorer.scalability(study, v["b"].pk)["points"]
    assert [p["votes_position"] for p in b] == [1] * 10 + [2]


def test_scalability_page_shows_the_chart_and_the_table(timeline, coordinator):
    study, v, _ = timeline
    client = _staff_client(coordinator)
    response = client.get(_url("scalability", study, value=v["z"].pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{v["z"].pk}" selected>Value z</option>' in html
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", html)
    assert [(int(e), None if p == "–" else int(p), None if d == "–" else int(d)) for _, e, p, d in rows] == EXPECTED_Z
    svg = re.search(r'<svg id="trajectory-chart".*?</svg>', html, re.S).group(0)
    assert svg.count('data-series="pagerank_position"') == 1 and svg.count('data-series="votes_position"') == 1
    assert svg.count("<circle") == 6 + 7  # positions drawn where the value is ranked
    assert "11 votes and 0 impressions, simulated participants left out" in _text(response)
    # Staff may include simulated participants: the bot's vote a → z is the 12th event.
    response = client.get(_url("scalability", study, value=v["z"].pk, simulated=1))
    assert "12 votes and 0 impressions, simulated participants included" in _text(response)
    # An unknown value is not computed.
    response = client.get(_url("scalability", study, value=999999))
    assert "That value is not in this graph" in _text(response)
    # A value nobody has ranked yet gets a sentence, not an empty chart.
    lonely = _value(study, "Lonely")
    response = client.get(_url("scalability", study, value=lonely.pk))
    assert "Lonely has no position at any checkpoint yet" in _text(response)
    assert 'id="trajectory-chart"' not in response.content.decode()


def test_participation_events_are_chronological_with_impressions_and_merged_values(study):
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.get(key="parenting"), text="When a child resists authority"
    )
    a, b, c = _value(study, "A"), _value(study, "B"), _value(study, "C")
    story = TransitionStory.objects.create(study=study, from_value=a, to_value=b, context=context, story="…")
    t0 = timezone.now() - timedelta(hours=1)
    p1, p2 = Participant.objects.create(study=study), Participant.objects.create(study=study)
    bot = Participant.objects.create(study=study, simulated=True)
    StoryAssignment.objects.create(participant=p1, story=story, position=0, shown_at=t0)
    StoryAssignment.objects.create(participant=p2, story=story, position=0, shown_at=t0 + timedelta(minutes=2))
    StoryAssignment.objects.create(participant=bot, story=story, position=0, shown_at=t0)
    StoryAssignment.objects.create(
        participant=p1,
        position=1,
        shown_at=None,
        story=TransitionStory.objects.create(
            study=study, from_value=b, to_value=c, context=context, story="never shown"
        ),
    )
    first = WisdomVote.objects.create(
        study=study, participant=p1, from_value=a, to_value=b, context=context, answer="unsure"
    )
    second = WisdomVote.objects.create(
        study=study, participant=p2, from_value=a, to_value=b, context=context, answer="no"
    )
    WisdomVote.objects.filter(pk=first.pk).update(created_at=t0 + timedelta(minutes=1))
    WisdomVote.objects.filter(pk=second.pk).update(created_at=t0 + timedelta(minutes=3))
    # c was merged into b: its votes count for b.
    CanonicalValue.objects.filter(pk=c.pk).update(merged_into=b)
    merged = WisdomVote.objects.create(
        study=study, participant=p1, from_value=a, to_value=c, context=context, answer="yes"
    )
    WisdomVote.objects.filter(pk=merged.pk).update(created_at=t0 + timedelta(minutes=4))
    events = explorer.participation_events(study)
    assert events == [
        (a.pk, b.pk, context.pk, "impression"),
        (a.pk, b.pk, context.pk, "unsure"),
        (a.pk, b.pk, context.pk, "impression"),
        (a.pk, b.pk, context.pk, "no"),
        (a.pk, b.pk, context.pk, "yes"),
    ]
    assert len(explorer.participation_events(study, include_simulated=True)) == 6
