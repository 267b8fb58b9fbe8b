"""A participant on a phone: Prolific link, consent, first step."""

import pytest

from studies.models import ConsentRecord, Participant
from tests.factories import PROLIFIC

pytestmark = pytest.mark.django_db(transaction=True)


def _no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_participant_consents_and_reaches_first_step(live_server, phone, screenshot_dir):
    from studies import services

    study, _ = services.seed_case_study()
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
    phone.goto(f"{live_server.url}/s/{study.slug}/?{query}")

    assert phone.url.endswith(f"/s/{study.slug}/consent/")
    assert "PROLIFIC_PID" not in phone.url
    assert phone.get_by_role("heading", name="Before you start").is_visible()
    assert phone.locator(".study-title").inner_text() == study.title
    assert "Step 1 of 7" in phone.locator(".progress-label").inner_text()
    assert _no_sideways_scroll(phone)
    phone.screenshot(path=str(screenshot_dir / "01-consent-375px.png"), full_page=True)

    # A double tap on "agree" still records one answer.
    phone.get_by_role("button", name="I agree and want to take part").dblclick()
    phone.wait_for_url(f"**/s/{study.slug}/journey/")
    assert phone.get_by_role("heading", name="Choose a scenario").is_visible()
    assert phone.get_by_role("progressbar").is_visible()
    assert _no_sideways_scroll(phone)
    phone.screenshot(path=str(screenshot_dir / "02-first-step-375px.png"), full_page=True)

    assert ConsentRecord.objects.filter(accepted=True).count() == 1
    assert Participant.objects.get().current_step == "scenario"


def test_decline_in_browser_goes_back_to_prolific(live_server, phone, screenshot_dir):
    from studies import services

    study, _ = services.seed_case_study()
    prolific_hits = []
    phone.route(
        "https://app.prolific.com/**",
        lambda route: (prolific_hits.append(route.request.url), route.fulfill(status=200, body="prolific")),
    )
    phone.goto(f"{live_server.url}/s/{study.slug}/?PROLIFIC_PID=pid2&STUDY_ID=s&SESSION_ID=t")
    phone.get_by_role("button", name="I do not agree").click()
    phone.wait_for_url("https://app.prolific.com/**")
    assert prolific_hits == ["https://app.prolific.com/submissions/complete?cc=MGENOCON"]
