"""A coordinator has a two-turn conversation in the wise-response playground
in a real browser: above each moral-graph reply stand the context and the
values card that guided it, whose provenance links open; the three columns
sit side by side on a laptop and stack on a phone (the read-only share link)."""

import pytest
from playwright.sync_api import expect

from graph.models import GraphSnapshot, MoralContext
from tests.e2e.helpers import PHONE_WIDTH
from tests.e2e.helpers import sign_in as _sign_in
from tests.e2e.test_study_console import _no_sideways_scroll
from values.models import CanonicalValue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def _built_graph():
    from studies import services

    study, _ = services.seed_case_study()
    MoralContext.objects.filter(study=study).update(active=False)
    parenting = study.scenarios.get(key="parenting")
    child = MoralContext.objects.create(
        study=study, scenario=parenting, text="When a child resists their parents' rules"
    )
    autonomy, strict = (
        CanonicalValue.objects.create(
            study=study, title=t, description=f"An assistant guided by {t}.", policies=p, origin="manual"
        )
        for t, p in (
            ("Informed autonomy", ["CHOICES the child can make alone", "REASONS behind each family rule"]),
            ("Strict rules", ["CONSEQUENCES that follow broken rules"]),
        )
    )
    GraphSnapshot.objects.create(
        study=study,
        parameters={"bootstrap_samples": 0},
        summary={"values": 2, "edges_kept": 1},
        values={
            str(v.pk): {
                "title": v.title,
                "description": v.description,
                "policies": v.policies,
                "scenarios": [parenting.pk],
            }
            for v in (autonomy, strict)
        },
        contexts={str(child.pk): {"text": child.text, "scenario": parenting.pk}},
        edges=[
            {
                "source": strict.pk,
                "target": autonomy.pk,
                "contexts": [child.pk],
                "kept": True,
                "likelihood": 0.8,
                "entropy": 0.9,
                "reason": "",
                "counts": {"wiser": 4, "not_wiser": 1, "unsure": 0, "less_wise": 0, "impressions": 5},
            }
        ],
        cycles=[],
        scores={
            "global": {str(autonomy.pk): 0.6, str(strict.pk): 0.4},
            "context": {str(child.pk): {str(autonomy.pk): 0.6, str(strict.pk): 0.4}},
        },
        bootstrap={},
    )
    return study, autonomy


def test_coordinator_converses_and_follows_the_provenance_of_each_reply(
    coordinator, asgi_live_server, laptop, phone, screenshot_dir
):
    study, autonomy = _built_graph()
    base, page = asgi_live_server.url, laptop
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    _sign_in(page, base, coordinator, "x-coord-pass-1")

    page.goto(f"{base}/graph/{study.slug}/playground/")
    page.get_by_role("heading", name="Wise-response playground").wait_for()
    page.get_by_label("Constitution").fill("Be honest.\nRespect the user's autonomy.")
    page.get_by_role("button", name="Start a conversation").click()
    page.get_by_text("No turns yet.").wait_for()

    for message in (
        "My child refuses to follow our rules at home. What should I do?",
        "What if the child still resists the rules after that?",
    ):
        page.get_by_label("Your message").fill(message)
        page.get_by_role("button", name="Send").click()
        page.locator(".playground-turn", has_text=message).wait_for()

    turns = page.locator(".playground-turn")
    expect(turns).to_have_count(2)
    for i in range(2):
        graph = turns.nth(i).locator('[data-column="graph"]')
        expect(graph.locator(".context-link")).to_have_text("When a child resists their parents' rules")
        expect(graph.locator(".used-card h3")).to_have_text("Informed autonomy")
        expect(graph.locator(".used-card .card-policies li")).to_have_count(2)
        expect(graph.locator(".reply-text")).to_contain_text("CHOICES the child can make alone")
        expect(turns.nth(i).locator('[data-column="plain"] .reply-text')).to_contain_text("without values")
        expect(turns.nth(i).locator('[data-column="constitution"] .reply-text')).to_contain_text("Be honest.")
    # Three columns side by side on a laptop.
    boxes = [turns.nth(0).locator(f'[data-column="{c}"]').bounding_box() for c in ("plain", "constitution", "graph")]
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"] and abs(boxes[0]["y"] - boxes[2]["y"]) < 2
    _no_sideways_scroll(page, 1280)
    page.screenshot(path=str(screenshot_dir / "playground-01-laptop.png"), full_page=True)
    share_url = page.locator(".share-link").get_attribute("href")
    conversation_url = page.url

    # Provenance: the value's admin page and the edge's stories and votes open.
    with page.expect_navigation():
        turns.nth(1).locator(".value-link").click()
    assert page.url.endswith(f"/admin/values/canonicalvalue/{autonomy.pk}/change/")
    page.get_by_role("heading", name="Change canonical value").or_(
        page.get_by_role("heading", name="View canonical value")
    ).wait_for()
    page.goto(conversation_url)
    edge = page.locator(".playground-turn").nth(0).locator(".edge-link")
    href = edge.get_attribute("href")
    response = page.request.get(base + href)
    assert response.status == 200, href
    edge.click()
    page.wait_for_url(f"**{href}")

    # The share link, read-only, on a phone: the columns stack without sideways scrolling.
    phone.goto(share_url)
    expect(phone.locator(".playground-turn")).to_have_count(2)
    assert phone.locator("#turn-form").count() == 0
    plain, graph = (
        phone.locator(".playground-turn").nth(0).locator(f'[data-column="{c}"]').bounding_box()
        for c in ("plain", "graph")
    )
    assert abs(plain["x"] - graph["x"]) < 2 and graph["y"] > plain["y"]
    _no_sideways_scroll(phone, PHONE_WIDTH)
    phone.screenshot(path=str(screenshot_dir / "playground-02-phone.png"), full_page=True)
    assert not errors, errors
