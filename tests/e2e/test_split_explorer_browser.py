"""The explorer's split contexts on a laptop screen (1280 px): the section
is there beside the drawn graph, each group's winner with its interval is
readable, and the table fits the page (no sideways scrolling)."""

import pytest

from graph.models import GraphSnapshot
from tests.e2e.test_graph_explorer import _public_graph

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def test_split_contexts_are_shown_beside_the_graph(asgi_live_server, laptop, screenshot_dir):
    study, values, resists = _public_graph()
    shown = GraphSnapshot.objects.filter(study=study).latest("pk")
    splits = {
        "attribute": "U.s. political affiliation",
        "cyclic_share_threshold": 0.3,
        "min_group_votes": 5,
        "weighted": True,
        "context": {
            str(resists.pk): {
                "reasons": ["cyclic_share", "group_difference"],
                "cyclic_share": 0.42,
                "pooled_winner": values[3].pk,
                "groups": [
                    {
                        "group": "Democrat",
                        "winner": values[3].pk,
                        "score": 0.5,
                        "rank_low": 1,
                        "rank_high": 1,
                        "votes": 40,
                    },
                    {
                        "group": "Republican",
                        "winner": values[0].pk,
                        "score": 0.4,
                        "rank_low": 1,
                        "rank_high": 2,
                        "votes": 22.5,
                    },
                ],
            }
        },
    }
    GraphSnapshot.objects.create(
        study=study,
        parameters=shown.parameters,
        summary=shown.summary,
        values=shown.values,
        contexts=shown.contexts,
        edges=shown.edges,
        cycles=[],
        scores={**shown.scores, "splits": splits},
        bootstrap=shown.bootstrap,
    )
    page = laptop
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{asgi_live_server.url}/graph/{study.slug}/")
    section = page.locator("#splits-section")
    assert section.is_visible()
    assert section.locator("h2").inner_text() == "Split contexts (1)"
    row = page.locator(f"#splits-table tr[data-context='{resists.pk}']")
    text = row.inner_text()
    assert "When a child resists authority" in text
    assert "too cyclic: the votes here read as no one order" in text
    assert "groups differ: their winners differ beyond their rank intervals" in text
    assert "0.420" in text
    assert "Democrat: Shared reasons (95% interval 1)" in text
    assert "Republican: Rules and discipline (95% interval 1–2)" in text
    assert "Counts are weighted by the snapshot's survey weights." in section.inner_text()
    widths = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, view: window.innerWidth,"
        " table: document.querySelector('#splits-table').getBoundingClientRect().right})"
    )
    assert widths["page"] <= widths["view"] and widths["table"] <= widths["view"]
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "graph-explorer-splits-1280px.png"), full_page=True)
    assert errors == []
