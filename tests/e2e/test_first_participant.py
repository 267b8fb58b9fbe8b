"""The first participant of a fresh study (no demo data, no other values, no
stories) on a 375 px phone: from the Prolific link to the completion code,
with the answer box on screen throughout the chat. A second test previews
the study from Prolific's template link."""

import pytest

from studies.models import Cohort, Participant, Step
from studies.services import preview_token
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, overflowing, play_prolific, send_answer
from tests.factories import PROLIFIC

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = [
    "Honestly I think kids need rules, screens off at eight, that's just how it is in our house.",
    "But what I really want is for my daughter to notice when something makes her curious.",
    "When she was nine she took apart the old radio and asked me how every piece worked.",
    "I let her keep going instead of telling her to tidy up, and she learned so much.",
]


def _composer_on_screen(page) -> bool:
    """The answer box and its Send button are inside the screen, and the
    interviewer's last words are not hidden behind them."""
    return page.evaluate("""() => {
        const box = document.querySelector('#message').getBoundingClientRect();
        const send = document.querySelector('#send').getBoundingClientRect();
        const composer = document.querySelector('#composer').getBoundingClientRect();
        const replies = document.querySelectorAll('.msg.assistant');
        const last = replies[replies.length - 1].getBoundingClientRect();
        return box.top >= 0 && send.bottom <= window.innerHeight && last.bottom <= composer.top + 1;
    }""")


@pytest.fixture
def fresh_study():
    from studies import services

    study, _ = beside_the_browser(services.seed_case_study)
    return study


def test_first_participant_of_a_fresh_study_reaches_the_completion_code_on_a_phone(
    fresh_study, asgi_live_server, phone, screenshot_dir
):
    study = fresh_study
    done, errors = play_prolific(phone, study.completion_code_completed)
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
    phone.goto(f"{asgi_live_server.url}/s/{study.slug}/?{query}")

    phone.get_by_role("heading", name="Before you start").wait_for()
    assert phone.locator("footer").get_by_role("link").count() == 0  # nothing to withdraw from yet
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_text("Parenting", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()

    phone.locator(".msg.assistant").first.wait_for()
    assert _composer_on_screen(phone), "the answer box starts below the fold"
    for answer in ANSWERS:
        send_answer(phone, answer)
        # After every reply the answer box is still on screen, with the cursor in it.
        assert _composer_on_screen(phone), f"the answer box fell below the fold after: {answer}"
        assert phone.evaluate("document.activeElement.id") == "message"
    phone.screenshot(path=str(screenshot_dir / "first-participant-01-chat.png"))
    card = phone.get_by_role("region", name="Your values card")
    card.wait_for()
    card.get_by_role("button", name="This is my value: submit").click()

    # No other values and no stories yet: straight on to the survey, never a dead end.
    phone.get_by_role("heading", name="A few questions about taking part").wait_for(timeout=15000)
    assert "Step 6 of 7: Survey" in phone.locator(".progress-label").inner_text()
    for question in phone.locator("fieldset.survey-question").all():
        question.get_by_label("4 Agree", exact=True).check()
    phone.get_by_role("button", name="Finish the study").click()

    phone.get_by_role("heading", name="Thank you, you are done").wait_for()
    assert phone.locator("#completion-code").inner_text() == study.completion_code_completed
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(phone) == []
    phone.screenshot(path=str(screenshot_dir / "first-participant-02-done.png"), full_page=True)
    phone.get_by_role("link", name="Back to Prolific").click()
    phone.wait_for_url(done)
    assert errors == []
    participant = Participant.objects.get(study=study)
    assert participant.current_step == Step.COMPLETE and participant.cohort == Cohort.PILOT


def test_prolific_template_link_opens_a_preview_that_is_not_counted(
    fresh_study, asgi_live_server, phone, screenshot_dir
):
    study = fresh_study
    # Opened with a preview link from the console (anyone else is refused a preview).
    phone.goto(
        f"{asgi_live_server.url}/s/{study.slug}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}"
        f"&STUDY_ID={{{{%STUDY_ID%}}}}&SESSION_ID={{{{%SESSION_ID%}}}}&preview={preview_token(study)}"
    )
    phone.get_by_role("heading", name="Before you start").wait_for()
    banner = phone.get_by_role("note")
    assert "Preview" in banner.inner_text() and "nothing you do here is counted" in banner.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    phone.screenshot(path=str(screenshot_dir / "preview-01-consent.png"), full_page=True)
    assert Participant.objects.get(study=study).cohort == Cohort.PREVIEW
    assert Participant.objects.real().count() == 0
