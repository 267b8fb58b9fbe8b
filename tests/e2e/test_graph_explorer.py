"""The public moral graph explorer in a real browser on a laptop screen:
cytoscape (from npm) draws the values, a click on a value shows its card,
a click on an arrow its story, and the context filter hides other edges."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from graph.models import GraphSnapshot, MoralContext, TransitionStory
from tests.e2e.helpers import wait_until
from values.models import CanonicalValue

pytestmark = pytest.mark.django_db(transaction=True)

CYTOSCAPE = Path(settings.BASE_DIR) / "node_modules" / "cytoscape" / "dist" / "cytoscape.min.js"


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def needs_cytoscape():
    if not CYTOSCAPE.exists():
        if os.environ.get("CI"):
            pytest.fail("node_modules/cytoscape is missing; scripts/dev.py should have run npm ci")
        pytest.skip("cytoscape is not installed (run: npm ci)")


def _public_graph():
    from studies import services

    study, _ = services.seed_case_study()
    study.graph_public = True
    study.save(update_fields=["graph_public"])
    parenting = study.scenarios.get(key="parenting")
    resists = MoralContext.objects.create(study=study, scenario=parenting, text="When a child resists authority")
    bored = MoralContext.objects.create(study=study, scenario=parenting, text="When a child is bored")
    titles = ["Rules and discipline", "Curiosity", "Calm home", "Shared reasons"]
    v = [
        CanonicalValue.objects.create(
            study=study,
            title=t,
            description=f"An assistant guided by {t.lower()}.",
            policies=[f"MOMENTS of {t.lower()}"],
            origin="manual",
        )
        for t in titles
    ]
    TransitionStory.objects.create(
        study=study,
        from_value=v[0],
        to_value=v[1],
        context=resists,
        story="I used to insist on rules, until I saw my son light up when he asked why.",
    )

    def edge(a, b, ctx, kept=True, reason=""):
        return {
            "source": v[a].pk,
            "target": v[b].pk,
            "likelihood": 0.8,
            "entropy": 0.9,
            "contexts": [ctx.pk],
            "counts": {"wiser": 4, "not_wiser": 1, "unsure": 0, "less_wise": 0, "impressions": 5},
            "kept": kept,
            "reason": reason,
        }

    ids = [str(x.pk) for x in v]
    GraphSnapshot.objects.create(
        study=study,
        parameters={"min_wiser": 2, "min_likelihood": 0.33, "max_entropy": 1.69, "bootstrap_samples": 50},
        summary={"values": 4, "edges_kept": 3},
        values={
            i: {
                "title": x.title,
                "description": x.description,
                "policies": x.policies,
                "external_id": "",
                "origin": "manual",
                "scenarios": [parenting.pk],
            }
            for i, x in zip(ids, v)
        },
        contexts={str(c.pk): {"text": c.text, "scenario": parenting.pk} for c in (resists, bored)},
        edges=[edge(0, 1, resists), edge(1, 3, resists), edge(2, 3, bored), edge(3, 2, bored, False, "low_likelihood")],
        cycles=[],
        scores={
            "global": {ids[3]: 0.45, ids[1]: 0.25, ids[0]: 0.15, ids[2]: 0.15},
            "scenario": {str(parenting.pk): {ids[3]: 0.45, ids[1]: 0.25, ids[0]: 0.15, ids[2]: 0.15}},
            "context": {
                str(resists.pk): {ids[3]: 0.5, ids[1]: 0.3, ids[0]: 0.2},
                str(bored.pk): {ids[3]: 0.6, ids[2]: 0.4},
            },
        },
        bootstrap={
            ids[3]: {"rank": 1, "rank_low": 1, "rank_high": 2, "rank_median": 1.0, "top_share": 0.8},
            ids[1]: {"rank": 2, "rank_low": 1, "rank_high": 3, "rank_median": 2.0, "top_share": 0.2},
        },
    )
    return study, v, resists


def _click_element(page, selector_js):
    """Click where cytoscape drew an element (rendered coordinates are
    relative to the graph container)."""
    box = page.locator("#graph-canvas").bounding_box()
    point = page.evaluate(f"""() => {{
        const ele = {selector_js};
        const p = ele.isNode() ? ele.renderedPosition() : ele.renderedMidpoint();
        return {{x: p.x, y: p.y}};
    }}""")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def test_public_explorer_draws_the_graph_and_shows_cards_and_stories(
    asgi_live_server, laptop, screenshot_dir, needs_cytoscape
):
    study, values, resists = _public_graph()
    page = laptop
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{asgi_live_server.url}/graph/{study.slug}/")
    try:
        wait_until(page, "window.mgeGraph && window.mgeGraph.nodes().length > 0", timeout=15000)
    except Exception:
        pytest.fail(
            f"the graph was not drawn; page errors: {errors}; note: {page.locator('#graph-js-note').inner_text()}"
        )

    # cytoscape drew every value, inside the visible canvas, and the three kept edges.
    drawn = page.evaluate("""() => {
        const cy = window.mgeGraph, w = cy.width(), h = cy.height();
        return {nodes: cy.nodes().map(n => n.data('label')).sort(), edges: cy.edges().length,
                inside: cy.nodes().every(n => { const p = n.renderedPosition();
                                                 return p.x > 0 && p.y > 0 && p.x < w && p.y < h; }),
                canvases: document.querySelectorAll('#graph-canvas canvas').length};
    }""")
    assert drawn["nodes"] == sorted(v.title for v in values)
    assert drawn["edges"] == 3
    assert drawn["inside"] and drawn["canvases"] >= 1
    # The wisest value (a sink of the arrows) is drawn above the values that point to it.
    y = page.evaluate(
        f"() => ({{top: mgeGraph.getElementById('{values[3].pk}').position('y'),"
        f" low: mgeGraph.getElementById('{values[0].pk}').position('y')}})"
    )
    assert y["top"] < y["low"]

    # A click on a value shows its card, PageRank and rank interval.
    _click_element(page, f"mgeGraph.getElementById('{values[3].pk}')")
    panel = page.locator("#graph-panel")
    wait_until(page, "document.querySelector('#panel-title') !== null")
    assert panel.locator("h2").inner_text() == "Shared reasons"
    text = panel.inner_text()
    assert "An assistant guided by shared reasons." in text
    assert "MOMENTS of shared reasons" in text
    assert "rank 1 of 4, 95% interval 1–2" in text
    assert "0.4500" in text
    assert "admin" not in text.lower()  # public view: no provenance links
    page.screenshot(path=str(screenshot_dir / "graph-explorer-node-1280px.png"), full_page=False)

    # A click on an arrow shows its counts, contexts and story.
    _click_element(page, f"mgeGraph.getElementById('{values[0].pk}-{values[1].pk}')")
    wait_until(page, "document.querySelector('#panel-title').textContent.includes('→')")
    text = panel.inner_text()
    assert "Rules and discipline → Curiosity" in text
    assert "When a child resists authority" in text
    assert "I used to insist on rules, until I saw my son light up when he asked why." in text

    # The context filter hides edges of other contexts, in the drawing and the table.
    page.select_option("#context-filter", f"context:{resists.pk}")
    visible = page.evaluate("() => mgeGraph.edges().filter(e => e.visible()).length")
    assert visible == 2
    assert page.locator("#kept-edges tbody tr:visible").count() == 2
    assert page.locator("#kept-count").inner_text() == "2 of 3"
    assert f"context=context%3A{resists.pk}" in page.url or f"context=context:{resists.pk}" in page.url
    page.screenshot(path=str(screenshot_dir / "graph-explorer-filtered-1280px.png"), full_page=True)
    assert errors == []


def test_winners_and_scalability_pages(asgi_live_server, laptop, screenshot_dir):
    """Server-rendered: the winners per scenario, and a value's path as
    votes come in drawn as an inline SVG chart."""
    from graph.models import WisdomVote
    from studies.models import Participant

    study, values, resists = _public_graph()
    for a, b in [(0, 1), (0, 1), (1, 3), (1, 3), (2, 3), (2, 3), (0, 3)]:
        WisdomVote.objects.create(
            study=study,
            participant=Participant.objects.create(study=study),
            from_value=values[a],
            to_value=values[b],
            context=resists,
            answer="yes",
        )
    page = laptop
    page.goto(f"{asgi_live_server.url}/graph/{study.slug}/winners/")
    parenting = page.locator("section.winners-scenario", has_text="Parenting")
    assert parenting.locator("article h3").all_inner_texts()[:2] == ["Shared reasons", "Curiosity"]
    assert "Stable? Not yet." in parenting.locator("article").first.inner_text()
    page.screenshot(path=str(screenshot_dir / "graph-winners-1280px.png"), full_page=True)

    page.get_by_role("link", name="Scalability").click()
    page.select_option("#value-choice", label="Shared reasons")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#trajectory-chart")
    assert page.locator("#trajectory-chart").is_visible()
    assert page.locator("#trajectory-table tbody tr").count() == 11
    # After all seven votes "Shared reasons" leads by PageRank and by direct votes.
    last = page.locator("#trajectory-table tbody tr").last.locator("td").all_inner_texts()
    assert last == ["11", "7", "1", "1"]
    page.screenshot(path=str(screenshot_dir / "graph-scalability-1280px.png"), full_page=True)


def test_a_larger_graph_is_laid_out_with_arrows_pointing_up(asgi_live_server, laptop, screenshot_dir, needs_cytoscape):
    """Sixty values in layers: every kept arrow points to a value drawn higher."""
    import random

    from studies import services

    study, _ = services.seed_case_study()
    study.graph_public = True
    study.save(update_fields=["graph_public"])
    context = MoralContext.objects.create(
        study=study, scenario=study.scenarios.get(key="abortion"), text="When someone is scared of a pregnancy"
    )
    rng = random.Random(7)
    ids = [str(i) for i in range(1, 61)]
    edges = []
    for i in range(1, 61):
        for j in rng.sample(range(i + 1, 61), k=min(2, 60 - i)) if i < 60 else []:
            edges.append(
                {
                    "source": i,
                    "target": j,
                    "likelihood": 0.6,
                    "entropy": 1.0,
                    "contexts": [context.pk],
                    "counts": {"wiser": 3, "not_wiser": 1, "unsure": 0, "less_wise": 0, "impressions": 4},
                    "kept": True,
                    "reason": "",
                }
            )
    GraphSnapshot.objects.create(
        study=study,
        parameters={},
        summary={},
        values={
            i: {
                "title": f"Value number {i} with a longer title",
                "description": "…",
                "policies": [],
                "external_id": "",
                "origin": "imported",
                "scenarios": [],
            }
            for i in ids
        },
        contexts={str(context.pk): {"text": context.text, "scenario": context.scenario_id}},
        edges=edges,
        scores={"global": {i: int(i) / 1830 for i in ids}, "scenario": {}, "context": {}},
        bootstrap={},
    )
    page = laptop
    page.goto(f"{asgi_live_server.url}/graph/{study.slug}/")
    wait_until(page, "window.mgeGraph && window.mgeGraph.nodes().length === 60", timeout=15000)
    upward = page.evaluate("""() => mgeGraph.edges().every(e =>
        e.target().position('y') < e.source().position('y'))""")
    assert upward
    assert page.evaluate("() => mgeGraph.edges().length") == len(edges)
    page.screenshot(path=str(screenshot_dir / "graph-explorer-60-values-1280px.png"))
