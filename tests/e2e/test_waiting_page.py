"""A step that waits on background work shows that it is waiting and moves
on by itself: the journey websocket tells the page when the work is done or
the participant's step changes elsewhere."""

import pytest

from studies.models import Participant, Step
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, overflowing, wait_until
from tests.factories import make_values, move_to, parent_with_card, run_jobs_until_idle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quick_poll(settings):
    """Set before the server process starts (it is forked with these settings)."""
    settings.STEP_POLL_SECONDS = 2


@pytest.fixture
def waiting_page(quick_poll, asgi_live_server, phone):
    """A parent whose question has values but no stories yet, at the stories
    step (no worker is running), with the waiting page open and listening."""
    from studies import services
    from values import relevance

    def prepare():
        study, _ = services.seed_case_study()
        values = make_values(study)
        participant, client = parent_with_card(study, "waiter", values[1])
        move_to(participant, Step.RELEVANCE)
        relevance.submit(participant=participant, draw=relevance.current_draw(participant), relevant_ids=set())
        return study, client.cookies["sessionid"].value

    study, session = beside_the_browser(prepare)
    phone.context.add_cookies([{"name": "sessionid", "value": session, "url": asgi_live_server.url}])
    phone.goto(f"{asgi_live_server.url}/s/{study.slug}/journey/")
    phone.get_by_role("heading", name="Getting the next part ready").wait_for()
    assert "moves on by itself" in phone.locator("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(phone) == []
    wait_until(phone, "window.performance.getEntriesByType('resource').some(e => e.name.indexOf('journey.js') >= 0)")
    phone.wait_for_timeout(300)  # the socket connects after the script runs
    return study


def test_the_waiting_page_shows_the_stories_once_the_job_has_written_them(waiting_page, phone, screenshot_dir):
    phone.screenshot(path=str(screenshot_dir / "waiting-page-375px.png"), full_page=True)
    beside_the_browser(run_jobs_until_idle)
    # Nobody touched the page: it loads again by itself and shows the first story
    # (the worker's push, with a shared channel layer; the page's own poll, without).
    phone.get_by_text("Did this person become wiser?").wait_for(timeout=10_000)
    assert phone.get_by_text("Story 1 of 3").is_visible()


def test_a_waiting_page_moves_on_when_the_participant_withdraws_in_another_tab(waiting_page, phone, screenshot_dir):
    study = waiting_page
    other_tab = phone.context.new_page()
    other_tab.goto(phone.url.replace("/journey/", "/withdraw/"))
    other_tab.get_by_role("button", name="Withdraw from the study").click()
    other_tab.wait_for_load_state()
    assert Participant.objects.get(prolific_identity__isnull=True, study=study, current_step=Step.WITHDRAWN)

    # The first tab was not touched: the pushed step reloads it.
    wait_until(phone, "document.body.innerText.indexOf('Getting the next part ready') < 0", timeout=10_000)
    assert "what you wrote and chose has been deleted" in phone.locator("main").inner_text()
    phone.screenshot(path=str(screenshot_dir / "waiting-page-moved-on-375px.png"), full_page=True)
