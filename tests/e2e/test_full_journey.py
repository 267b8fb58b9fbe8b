"""A participant on a phone goes through the whole study in a real browser:
Prolific link, consent, scenario, interview chat (websocket, offline
interviewer), approval of the shared wording of their value, relevance,
transition stories, legitimacy survey, and back to Prolific with the
completion code. A second test withdraws half-way through."""

import re

import pytest

from graph import stories
from graph.models import StoryAssignment, TransitionStory, WisdomVote
from interviews.models import ChatMessage
from studies.models import Participant, Step, Study
from surveys.models import SurveyResponse
from tests.e2e.helpers import (
    PHONE_WIDTH,
    beside_the_browser,
    overflowing,
    play_prolific,
    send_answer,
    wait_until,
)
from tests.factories import PROLIFIC, make_values
from values.models import CanonicalApproval, RelevanceItem, ValuesCard

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = 7  # consent, scenario, interview, relevance, stories, survey, complete

# Four turns: the offline interviewer shows the card after the fourth.
ANSWERS = [
    "He must do his homework before any screen time, that is just the rule.",
    "I want him to find something in school that makes him curious, not only to obey me.",
    "Last spring he built a model volcano for class and asked me questions all evening.",
    "Then I noticed what lit him up and followed his questions instead of nagging.",
]

QUESTIONS = 6  # the paper's Table 3 (surveys/defaults.py)


# --- what a participant sees on every page -------------------------------------------


def _spacing(page) -> dict:
    """Pixels between the header and the page's content, and between the
    page's last button and the footer's withdraw link (a thumb aiming at
    "Continue" must not land on "Withdraw"; no link, no risk)."""
    return page.evaluate("""() => {
        const header = document.querySelector('header').getBoundingClientRect();
        const first = [...document.querySelectorAll('main > *')].find(e => e.getClientRects().length);
        const anchor = document.querySelector('footer a');
        const buttons = [...document.querySelectorAll('main button, main .button')]
            .filter(b => b.getClientRects().length).map(b => b.getBoundingClientRect().bottom);
        const footer = anchor ? anchor.getBoundingClientRect().top - Math.max(...buttons) : 999;
        return {top: first.getBoundingClientRect().top - header.bottom, footer: footer};
    }""")


def _check_page(page, shots, name, step, label):
    """The progress label says where the participant is, the page fits the
    phone, and once they have joined the footer always offers a way out,
    clear of the buttons (before consent there is nothing to withdraw from)."""
    assert page.locator(".progress-label").inner_text() == f"Step {step} of {STEPS}: {label}"
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == str(step - 1)
    withdraw = page.locator("footer").get_by_role("link", name="Withdraw from the study")
    assert withdraw.is_visible() if step > 1 else withdraw.count() == 0
    spacing = _spacing(page)
    assert spacing["top"] >= 12 and spacing["footer"] >= 24, spacing
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert overflowing(page) == []
    page.screenshot(path=str(shots / f"journey-{name}.png"), full_page=True)


def _prolific_link(study, pid=PROLIFIC["PROLIFIC_PID"]):
    return f"/s/{study.slug}/?PROLIFIC_PID={pid}&STUDY_ID={PROLIFIC['STUDY_ID']}&SESSION_ID={PROLIFIC['SESSION_ID']}"


# --- one helper per step -------------------------------------------------------------


def _consent(page, shots):
    page.get_by_role("heading", name="Before you start").wait_for()
    _check_page(page, shots, "01-consent", 1, "Consent")
    page.get_by_role("button", name="I agree and want to take part").click()


def _choose_scenario(page, shots, title):
    page.get_by_role("heading", name="Choose a scenario").wait_for()
    _check_page(page, shots, "02-scenario", 2, "Choose a scenario")
    page.get_by_text(title, exact=True).click()
    page.get_by_role("button", name="Start the interview").click()


def _interview(page, shots, policies):
    page.locator(".msg.assistant").first.wait_for()
    _check_page(page, shots, "03-interview", 3, "Interview")
    for answer in ANSWERS[:-1]:
        send_answer(page, answer)
    page.get_by_label("Your answer").fill(ANSWERS[-1])
    page.get_by_role("button", name="Send").click()
    card = page.get_by_role("region", name="Your values card")
    card.wait_for()
    assert card.locator("li").count() >= 2
    # The participant rewords the card the way another parent put it, so the
    # in-chat match finds that value and asks them about it on the next page.
    card.get_by_role("button", name="Edit the card").click()
    page.get_by_label("Title").fill("Following his curiosity")
    page.get_by_label("What to pay attention to (one per line)").fill("\n".join(policies))
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("heading", name="Following his curiosity").wait_for()
    _check_page(page, shots, "04-interview-card", 3, "Interview")
    card.get_by_role("button", name="This is my value: submit").click()
    wait_until(page, "document.body.innerText.includes('Your card is submitted')")


def _approve(page, shots, shared_title):
    # The chat page moves on by itself after the card is submitted.
    page.get_by_role("heading", name="Is this your value?").wait_for()
    assert page.get_by_role("region", name="The shared value").get_by_role("heading").inner_text() == shared_title
    _check_page(page, shots, "05-approval", 4, "Your value")
    page.get_by_role("button", name="Yes, it represents what I care about").click()


def _relevance(page, shots, marks):
    page.get_by_role("heading", name="Which of these also matter here?").wait_for()
    _check_page(page, shots, "06-relevance", 4, "Relevance")
    boxes = page.get_by_role("checkbox")
    titles = page.locator(".scenario-option strong").all_inner_texts()
    assert len(titles) >= marks
    for i in range(marks):
        boxes.nth(i).check()

    # A reload (or a phone that dropped the tab) comes back to the same values.
    page.reload()
    page.get_by_role("heading", name="Which of these also matter here?").wait_for()
    assert page.locator(".progress-label").inner_text() == f"Step 4 of {STEPS}: Relevance"
    assert page.locator(".scenario-option strong").all_inner_texts() == titles
    for i in range(marks):
        boxes.nth(i).check()
    page.get_by_role("button", name="Continue").click()
    return titles[:marks]


def _stories(page, shots, own_title):
    """Answer every assigned story; returns how many there were."""
    page.get_by_text("Did this person become wiser?").wait_for()
    total = int(re.fullmatch(r"Story 1 of (\d+)", page.locator(".eyebrow").first.text_content()).group(1))
    answers = ["Yes, wiser", "Not sure", "No"]
    for n in range(1, total + 1):
        page.get_by_text(f"Story {n} of {total}", exact=True).wait_for()
        assert page.get_by_text("Did this person become wiser?").is_visible()
        before = page.get_by_role("region", name="Before").get_by_role("heading").inner_text()
        after = page.get_by_role("region", name="After").get_by_role("heading").inner_text()
        assert before != after and page.locator(".story-text").inner_text().strip()
        if n == 1:
            # Stories that start from the participant's own value come first.
            assert before == own_title
        _check_page(page, shots, f"07-story-{n}", 5, "Transition stories")
        page.get_by_label(answers[(n - 1) % len(answers)], exact=True).check()
        if n == 1:
            page.get_by_label("Why? (optional)").fill("He would learn more by following his questions.")
        page.get_by_role("button", name="Finish this part" if n == total else "Next story").click()
    return total


def _question(page, number):
    return page.locator("fieldset.survey-question").nth(number - 1)


def _answer(page, number, point):
    """Choose a Likert answer ("4 Agree") in question `number` (1-based)."""
    labels = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree", 5: "Strongly agree"}
    _question(page, number).get_by_label(f"{point} {labels[point]}", exact=True).check()


def _chosen(page) -> dict[int, str]:
    return {
        n: _question(page, n).locator("input:checked").get_attribute("value")
        for n in range(1, QUESTIONS + 1)
        if _question(page, n).locator("input:checked").count()
    }


def _survey(page, shots):
    page.get_by_role("heading", name="A few questions about taking part").wait_for()
    assert page.locator("fieldset.survey-question").count() == QUESTIONS
    _check_page(page, shots, "08-survey", 6, "Survey")

    # Halfway through the questions the page is reloaded: same step, same questions.
    _answer(page, 1, 4)
    _answer(page, 2, 5)
    page.reload()
    page.get_by_role("heading", name="A few questions about taking part").wait_for()
    assert page.locator(".progress-label").inner_text() == f"Step 6 of {STEPS}: Survey"
    assert page.locator("fieldset.survey-question").count() == QUESTIONS
    # The choices made before the reload are still there.
    assert _chosen(page) == {1: "4", 2: "5"}

    # Every question but the fourth is answered now.
    skipped = 4
    given = {1: 4, 2: 5, 3: 3, 5: 2, 6: 4}
    for number, point in given.items():
        if number > 2:
            _answer(page, number, point)
    url = page.url
    page.get_by_role("button", name="Finish the study").click()
    # The browser itself refuses and points at the unanswered question.
    missing = _question(page, skipped).locator("input").first
    assert missing.evaluate("e => e.validity.valueMissing") and missing.evaluate("e => e.validationMessage")
    assert page.url == url and _chosen(page) == {n: str(p) for n, p in given.items()}

    # A browser that does not check forms sends it anyway: the server says
    # which question is missing, and keeps the other answers.
    page.locator("form.survey-form").evaluate("f => f.noValidate = true")
    page.get_by_role("button", name="Finish the study").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "One question still needs an answer" in alert.inner_text()
    assert "Your other answers are kept" in alert.inner_text()
    assert alert.get_by_role("link", name=f"Question {skipped}").is_visible()
    assert _question(page, skipped).locator(".field-error").inner_text() == "Please choose an answer."
    assert _chosen(page) == {n: str(p) for n, p in given.items()}
    _check_page(page, shots, "09-survey-error", 6, "Survey")

    _answer(page, skipped, 1)
    given[skipped] = 1
    page.get_by_role("button", name="Finish the study").click()
    return given


# --- the tests -------------------------------------------------------------------------


@pytest.fixture
def study_with_stories(transactional_db):
    """Six parenting values from earlier participants (tests/factories.py make_values),
    with their transition stories written (by the background job, in
    production) before this participant arrives."""
    from studies import services

    def prepare():
        study, _ = services.seed_case_study()
        # The offline interviewer stands in for a language model here: the participant's card is matched.
        Study.objects.filter(pk=study.pk).update(include_scripted_cards=True)
        values = make_values(study)
        return study, values, stories.generate_stories(study, reverse=True)

    study, values, run = beside_the_browser(prepare)
    assert run.counts["stories"] >= study.stories_per_participant, run.problems
    # The value the participant will match (below) starts some stories.
    assert TransitionStory.objects.filter(from_value=values[1]).exists()
    return study, values


def test_phone_participant_goes_from_prolific_link_to_completion_code(
    study_with_stories, asgi_live_server, phone, screenshot_dir
):
    study, values = study_with_stories
    shared = values[1]
    done, errors = play_prolific(phone, study.completion_code_completed)

    phone.goto(asgi_live_server.url + _prolific_link(study))
    assert "PROLIFIC_PID" not in phone.url
    _consent(phone, screenshot_dir)
    _choose_scenario(phone, screenshot_dir, "Parenting")
    _interview(phone, screenshot_dir, shared.policies)
    _approve(phone, screenshot_dir, shared.title)
    marked = _relevance(phone, screenshot_dir, marks=2)
    judged = _stories(phone, screenshot_dir, own_title=shared.title)
    answers = _survey(phone, screenshot_dir)

    # A thank-you page with the completion code, and a button back to Prolific with it.
    phone.get_by_role("heading", name="Thank you, you are done").wait_for()
    assert phone.locator("#completion-code").inner_text() == study.completion_code_completed
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    phone.screenshot(path=str(screenshot_dir / "journey-10-done.png"), full_page=True)
    phone.get_by_role("link", name="Back to Prolific").click()
    phone.wait_for_url(done)
    assert phone.url == done and f"cc={study.completion_code_completed}" in phone.url
    assert errors == []

    # What the participant did was stored as they did it.
    participant = Participant.objects.get(prolific_identity__prolific_pid=PROLIFIC["PROLIFIC_PID"])
    assert participant.current_step == Step.COMPLETE
    assert (
        list(
            ChatMessage.objects.filter(interview__participant=participant, role="user")
            .order_by("seq")
            .values_list("content", flat=True)
        )
        == ANSWERS
    )
    card = ValuesCard.objects.get(interview__participant=participant, submitted=True)
    assert card.title == "Following his curiosity" and card.canonical == shared
    assert CanonicalApproval.objects.get(card=card).answer == "well"
    assert sorted(
        RelevanceItem.objects.filter(draw__participant=participant, relevant=True).values_list(
            "canonical__title", flat=True
        )
    ) == sorted(marked)
    assert (
        StoryAssignment.objects.filter(participant=participant).count()
        == judged
        == min(study.stories_per_participant, TransitionStory.objects.filter(study=study).count())
    )
    assert WisdomVote.objects.filter(participant=participant).count() == judged
    saved = dict(SurveyResponse.objects.filter(participant=participant).values_list("item__order", "answer"))
    assert saved == {n: str(p) for n, p in answers.items()}


def test_phone_participant_withdraws_mid_journey_and_stays_withdrawn(asgi_live_server, phone, screenshot_dir):
    from studies import services

    study, _ = services.seed_case_study()
    link = asgi_live_server.url + _prolific_link(study, pid="withdrawing-pid")
    phone.goto(link)
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_text("Weapons", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()
    phone.locator(".msg.assistant").first.wait_for()
    send_answer(phone, ANSWERS[0])

    # Mid-interview, the footer link leads to a confirmation, not straight out.
    phone.locator("footer").get_by_role("link", name="Withdraw from the study").click()
    phone.get_by_role("heading", name="Withdraw from the study?").wait_for()
    assert phone.url.endswith(f"/s/{study.slug}/withdraw/")
    assert "is deleted" in phone.locator("main").inner_text()
    assert phone.get_by_role("button", name="Go back and continue").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(phone) == []
    phone.screenshot(path=str(screenshot_dir / "journey-withdraw-01-confirm.png"), full_page=True)
    phone.get_by_label("Anything you want to tell us? (optional)").fill("No time today.")
    phone.get_by_role("button", name="Withdraw from the study").click()

    phone.get_by_role("heading", name="You have withdrawn").wait_for()
    assert "what you wrote and chose has been deleted" in phone.locator("main").inner_text()
    assert phone.locator("footer").get_by_role("link").count() == 0  # nothing left to withdraw from
    phone.screenshot(path=str(screenshot_dir / "journey-withdraw-02-done.png"), full_page=True)
    participant = Participant.objects.get(study=study)
    assert participant.current_step == Step.WITHDRAWN
    assert not ChatMessage.objects.filter(interview__participant=participant).exists()

    # Back to the study in the same browser: still withdrawn, no fresh start.
    phone.goto(f"{asgi_live_server.url}/s/{study.slug}/")
    assert phone.get_by_role("heading", name="You have withdrawn").is_visible()
    phone.goto(link)
    assert phone.get_by_role("heading", name="You have withdrawn").is_visible()
    assert Participant.objects.filter(study=study).count() == 1
