"""The demo study as a new user first sees it (`run --demo`), in a real
browser: the explorer draws arrows between the personas' values, the
winners page names a value for every scenario, and the report has its
tables and figures. Screenshots go to test-artifacts/screenshots/."""

import pytest

from journey import simulation
from tests.e2e.helpers import beside_the_browser, wait_until
from tests.e2e.test_graph_explorer import laptop, needs_cytoscape  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = 45  # the same generator as the default demo, smaller so the test stays quick


def test_the_demo_explorer_winners_and_report(asgi_live_server, laptop, screenshot_dir, needs_cytoscape, coordinator):
    out = beside_the_browser(simulation.populate_demo, SIZE)
    study, snapshot = out["study"], out["snapshot"]
    kept = sum(e["kept"] for e in snapshot.edges)
    page = laptop
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))

    page.goto(f"{asgi_live_server.url}/graph/demo/")
    wait_until(page, "window.mgeGraph && window.mgeGraph.edges().length > 0", timeout=20000)
    drawn = page.evaluate("""() => ({nodes: mgeGraph.nodes().length, edges: mgeGraph.edges().length,
        arrows: mgeGraph.edges().filter(e => e.style('target-arrow-shape') !== 'none').length})""")
    assert drawn["edges"] == kept and drawn["arrows"] == kept and drawn["nodes"] >= 10
    assert "being built" not in page.content()
    page.screenshot(path=str(screenshot_dir / "demo-explorer-1280px.png"), full_page=False)

    page.goto(f"{asgi_live_server.url}/graph/demo/winners/")
    for scenario in study.scenarios.all():
        section = page.locator(f"#scenario-{scenario.pk}")
        assert section.get_by_role("heading", name=scenario.title).is_visible()
        winner = section.locator("article.winner h3").first
        assert winner.is_visible() and winner.inner_text().strip()
    page.screenshot(path=str(screenshot_dir / "demo-winners-1280px.png"), full_page=True)

    page.goto(f"{asgi_live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(coordinator.email)
    page.get_by_label("Password").fill("x-coord-pass-1")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{asgi_live_server.url}/admin/")
    page.goto(f"{asgi_live_server.url}/admin/studies/study/{study.pk}/report/?simulated=1")
    assert f"{SIZE} participants" in page.locator("#progress").inner_text()
    assert page.locator("#fig12 circle").count() > 0
    page.screenshot(path=str(screenshot_dir / "demo-report-1280px.png"), full_page=True)

    # The playground on the demo's graph, with no API key: it says it is offline and
    # the graph's column is guided by a winning card of a context the message is about.
    context = next(c for c in study.moral_contexts.all() if snapshot.scores["context"].get(str(c.pk)))
    message = f"{context.scenario.prompt} {context.text}"
    page.goto(f"{asgi_live_server.url}/graph/demo/playground/")
    assert page.locator("#offline-notice").is_visible()
    page.get_by_role("button", name="Start a conversation").click()
    page.get_by_label("Your message").fill(message)
    page.get_by_role("button", name="Send").click()
    turn = page.locator(".playground-turn").first
    turn.wait_for()
    assert turn.locator('[data-column="constitution"]').count() == 1  # none pasted: the column says so
    for column in ("plain", "graph"):
        assert turn.locator(f'[data-column="{column}"] .reply-text').inner_text().strip()
    graph = turn.locator('[data-column="graph"]')
    assert graph.locator(".used-card h3").first.inner_text().strip()
    assert graph.locator(".context-link").count() >= 1
    page.screenshot(path=str(screenshot_dir / "demo-playground-1280px.png"), full_page=True)
    assert not errors
