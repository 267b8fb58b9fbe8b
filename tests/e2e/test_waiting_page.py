"""A page with nothing to show yet follows the participant's step: the
journey websocket tells it when the step changes, and it moves on by itself."""

import pytest

from studies.models import Participant, Step
from tests.e2e.helpers import beside_the_browser
from tests.factories import run_interview

pytestmark = pytest.mark.django_db(transaction=True)



def test_a_waiting_page_moves_on_when_the_participant_withdraws_in_another_tab(asgi_live_server, phone,
                                                                                screenshot_dir):
    from studies import services

    study, _ = services.seed_case_study()
    phone.goto(f"{asgi_live_server.url}/s/{study.slug}/?PROLIFIC_PID=waiter&STUDY_ID=s&SESSION_ID=t")
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.wait_for_url(f"**/s/{study.slug}/journey/")
    # The first participant of an empty study: after the interview there are
    # no other values to mark yet, so the relevance step has nothing to show.
    participant = Participant.objects.get()
    beside_the_browser(run_interview, participant, study.scenarios.get(key="parenting"))
    phone.reload()
    assert "This part of the study is not open yet" in phone.locator("main").inner_text()
    phone.wait_for_function("window.performance.getEntriesByType('resource')"
                            ".some(e => e.name.indexOf('journey.js') >= 0)")
    phone.wait_for_timeout(300)  # the socket connects after the script runs

    other_tab = phone.context.new_page()
    other_tab.goto(f"{asgi_live_server.url}/s/{study.slug}/withdraw/")
    other_tab.get_by_role("button", name="Withdraw from the study").click()
    other_tab.wait_for_load_state()
    assert Participant.objects.get().current_step == Step.WITHDRAWN

    # The first tab was not touched: the pushed step reloads it.
    phone.wait_for_function("document.body.innerText.indexOf('not open yet') < 0", timeout=10_000)
    assert "what you wrote and chose has been deleted" in phone.locator("main").inner_text()
    phone.screenshot(path=str(screenshot_dir / "waiting-page-moved-on-375px.png"), full_page=True)
