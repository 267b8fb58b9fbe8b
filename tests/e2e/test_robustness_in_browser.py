"""A coordinator on a phone reads a snapshot's robustness section (other
aggregators, cycle policies, bridging across groups) and the study report's
copy of it: inline SVG charts, no inline styles or scripts (the CSP fixture
fails the test on a refused one), nothing wider than 375 px except inside
its own sideways-scrolling box."""

import pytest

from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser

pytestmark = pytest.mark.django_db(transaction=True)

# Elements of the robustness section reaching past the phone's right edge,
# other than the insides of its horizontally scrolling table boxes.
_OVERFLOWING = f"""() => [...document.querySelectorAll('.robustness *')]
    .filter(e => !e.closest('.rb-scroll') || e.classList.contains('rb-scroll'))
    .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > {PHONE_WIDTH} + 1)
    .map(e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined ? '.' + e.className : ''))"""


@pytest.fixture
def built(transactional_db):
    def prepare():
        from graph import services
        from graph.aggregation import Parameters
        from graph.models import MoralContext, WisdomVote
        from studies import services as journey
        from studies.models import ProlificDemographics
        from tests.factories import consented_participant, make_values

        study, _ = journey.seed_case_study()
        values = make_values(study)
        context = MoralContext.objects.create(
            study=study, scenario=study.scenarios.get(key="parenting"), text="When a child resists authority"
        )
        a, b, c, d = values[:4]
        for i, party in enumerate(["Democrat"] * 4 + ["Republican"] * 3):
            p = consented_participant(study, f"e2e-voter-{i}")[0]
            ProlificDemographics.objects.create(
                participant=p, data={"U.s. political affiliation": party}, source_name="prolific.csv"
            )
            WisdomVote.objects.create(
                study=study, participant=p, from_value=a, to_value=b, context=context, answer="yes"
            )
            WisdomVote.objects.create(
                study=study,
                participant=p,
                from_value=c,
                to_value=d,
                context=context,
                answer="yes" if party == "Democrat" else "no",
            )
        return study, services.build_snapshot(study, parameters=Parameters(bootstrap_samples=0))

    return beside_the_browser(prepare)


def test_coordinator_reads_robustness_on_a_phone(built, coordinator, asgi_live_server, phone, screenshot_dir):
    study, snapshot = built
    page = phone
    page.goto(f"{asgi_live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(coordinator.email)
    page.get_by_label("Password").fill("x-coord-pass-1")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{asgi_live_server.url}/admin/")

    for url, name in (
        (f"/admin/graph/graphsnapshot/{snapshot.pk}/change/", "snapshot"),
        (f"/admin/studies/study/{study.pk}/report/", "report"),
    ):
        page.goto(asgi_live_server.url + url)
        bridging = page.locator("#bridging")
        bridging.scroll_into_view_if_needed()
        assert "Of 2 kept edges: 1 bridging, 1 one-sided, 0 held by no group alone." in bridging.inner_text()
        assert page.locator("#cycle-policies").get_by_text("drop (used)").is_visible()
        # the bars of the kinds and of the cyclic shares are drawn, inside the screen
        charts = page.locator(".robustness svg")
        assert charts.count() >= 2
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box["width"] > 100 and box["x"] + box["width"] <= PHONE_WIDTH + 1
        assert page.evaluate(_OVERFLOWING) == []
        page.screenshot(path=str(screenshot_dir / f"robustness-{name}-375px.png"), full_page=True)
