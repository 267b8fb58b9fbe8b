"""A terse participant on a 375 px phone, interviewed by the scripted
(offline) interviewer: "dunno", "ok", ... still reach a card within a few
turns (never "Let me write it up as a card" over and over), the card and its
Submit button are on screen, not under the sticky answer box, and the
journey ends with the completion code."""

import pytest

from studies.models import Participant, Step
from tests.e2e.helpers import beside_the_browser, play_prolific, send_answer, wait_until
from tests.factories import PROLIFIC
from values.models import ValuesCard

pytestmark = pytest.mark.django_db(transaction=True)

TERSE = ["dunno", "ok", "idk", "no idea", "k"]

CARD_ON_SCREEN = """() => {
    const card = document.querySelector('#card').getBoundingClientRect();
    const button = document.querySelector('#submit-card');
    const b = button.getBoundingClientRect();
    const composer = document.querySelector('#composer').getBoundingClientRect();
    const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
    return {card_top: card.top, card_bottom: card.bottom, button_top: b.top, button_bottom: b.bottom,
            composer_top: composer.top, height: window.innerHeight, hit_is_button: hit === button};
}"""


@pytest.fixture
def fresh_study():
    from studies import services

    study, _ = beside_the_browser(services.seed_case_study)
    return study


def test_a_terse_participant_reaches_a_card_they_can_see_and_the_completion_code(
    fresh_study, asgi_live_server, phone, screenshot_dir
):
    study = fresh_study
    done, errors = play_prolific(phone, study.completion_code_completed)
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
    phone.goto(f"{asgi_live_server.url}/s/{study.slug}/?{query}")
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_text("Parenting", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()
    phone.locator(".msg.assistant").first.wait_for()

    for answer in TERSE:
        send_answer(phone, answer)
    card = phone.get_by_role("region", name="Your values card")
    card.wait_for(timeout=30000)
    # The interviewer's words about the card come after it is drawn: the page must still show the card then.
    wait_until(
        phone,
        "[...document.querySelectorAll('.msg.assistant:not(.streaming)')]"
        ".some(e => e.textContent.startsWith('This card, titled'))",
    )
    phone.wait_for_timeout(300)  # any scrolling the last words caused has happened
    geometry = phone.evaluate(CARD_ON_SCREEN)
    phone.screenshot(path=str(screenshot_dir / "terse-participant-01-card.png"))
    assert geometry["card_top"] >= 0 and geometry["card_bottom"] <= geometry["height"], geometry
    assert geometry["button_top"] >= 0 and geometry["button_bottom"] <= geometry["height"], geometry
    assert geometry["card_bottom"] <= geometry["composer_top"], f"the answer box covers the card: {geometry}"
    assert geometry["hit_is_button"], f"something covers the Submit button: {geometry}"
    # Asked for a card at most once with nothing to go on; never the same line over and over.
    said = phone.locator(".msg.assistant").all_inner_texts()
    assert sum("Let me write it up as a card" in s for s in said) <= 1, said
    assert card.locator(".card-title").inner_text() and "Dunno" not in card.inner_text()

    card.get_by_role("button", name="This is my value: submit").click()
    # A fresh study: no other values and no stories, so on to the survey.
    phone.get_by_role("heading", name="A few questions about taking part").wait_for(timeout=15000)
    for question in phone.locator("fieldset.survey-question").all():
        question.get_by_label("4 Agree", exact=True).check()
    phone.get_by_role("button", name="Finish the study").click()
    phone.get_by_role("heading", name="Thank you, you are done").wait_for()
    assert phone.locator("#completion-code").inner_text() == study.completion_code_completed
    phone.screenshot(path=str(screenshot_dir / "terse-participant-02-done.png"), full_page=True)
    assert errors == []

    participant = Participant.objects.get(study=study)
    assert participant.current_step == Step.COMPLETE
    submitted = ValuesCard.objects.get(interview__participant=participant, submitted=True)
    assert submitted.scripted and submitted.canonical is None  # a pilot's scripted card makes no value
