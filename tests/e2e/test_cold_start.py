"""Cold start in a real browser: a coordinator seeds a fresh study from a
file of cards (checking the preview first), has its stories written ahead,
and the console says it is ready to launch; then the study's first three
participants, each on a 375 px phone and each with another question, have
values to mark and stories to judge rather than skipping both steps."""

import re

import pytest
from django.test import Client

from graph.models import StoryAssignment
from studies.models import Participant, Step
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, overflowing, play_prolific, send_answer, wait_until
from tests.factories import PROLIFIC, SEED_CARDS_CSV, run_jobs_until_idle
from values.models import CanonicalValue, RelevanceItem

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

ANSWERS = [
    "What matters to me is that the person is not pushed, they get to think it through.",
    "Once a friend was rushed into a decision and regretted it; she needed time and plain facts.",
    "I would want the assistant to give options and let people weigh them themselves.",
    "Most of all it should notice whether someone feels rushed, and slow things down when they do.",
]
QUESTIONS = ["Parenting", "Abortion", "Weapons"]
NEXT_HEADINGS = [
    "Is this your value?",
    "Which of these also matter here?",
    "Did this person become wiser?",
    "Getting the next part ready",
    "A few questions about taking part",
]


@pytest.fixture
def fresh_study():
    from studies import services

    study, _ = beside_the_browser(services.seed_case_study)
    return study


@pytest.fixture
def laptop(browser, coordinator, asgi_live_server):
    """A coordinator's browser, signed in (the sign-in page is tested in test_study_console.py)."""

    def session():
        client = Client()
        client.force_login(coordinator, backend="django.contrib.auth.backends.ModelBackend")
        return client.cookies["sessionid"].value

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": beside_the_browser(session), "url": asgi_live_server.url}])
    page = context.new_page()
    yield page
    context.close()


def _readiness(page) -> str:
    return " ".join(page.locator("#launch-readiness").inner_text().split())


def _now_showing(page) -> str:
    expression = " || ".join(f"document.body.innerText.indexOf({heading!r}) >= 0" for heading in NEXT_HEADINGS)
    try:
        wait_until(page, expression, timeout=60_000)
    except AssertionError as err:
        raise AssertionError(f"{err}\nthe page shows: {page.locator('body').inner_text()[:1500]}") from None
    text = page.locator("main").inner_text()
    return next(heading for heading in NEXT_HEADINGS if heading in text)


def test_a_study_seeded_from_a_file_with_stories_written_ahead_gives_its_first_participants_stories(
    fresh_study, asgi_live_server, laptop, browser, screenshot_dir, tmp_path
):
    study, base, page = fresh_study, asgi_live_server.url, laptop

    # Before launch the console says what each question lacks.
    page.goto(f"{base}/admin/studies/study/{study.pk}/console/")
    assert "Not ready to launch" in _readiness(page)
    assert "Parenting: 0 values, 0 stories — seed values, then write stories" in _readiness(page)

    # Seed from a file: the preview first (nothing saved), then save.
    cards = tmp_path / "pilot-cards.csv"
    cards.write_text(SEED_CARDS_CSV, encoding="utf-8")
    page.locator("#seed-values-link").click()
    page.get_by_label("File of cards (CSV or JSON):").set_input_files(str(cards))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="pilot-cards.csv: 6 cards, 6 to make").wait_for()
    assert CanonicalValue.objects.filter(study=study).count() == 0
    page.screenshot(path=str(screenshot_dir / "cold-start-01-seed-preview.png"), full_page=True)
    page.get_by_role("button", name="Save 6 values").click()
    page.get_by_text("Made 6 canonical values from pilot-cards.csv.").wait_for()
    assert "Parenting: 2 values, 0 stories — write stories" in _readiness(page)

    # Stories written ahead: queued from the console, written by the worker.
    page.get_by_role("button", name="Write stories now").click()
    page.get_by_text("Story writing is queued").first.wait_for()
    beside_the_browser(run_jobs_until_idle)
    page.reload()
    assert _readiness(page).startswith("Ready to launch? Ready to launch:"), _readiness(page)
    assert "Last story run: finished" in _readiness(page)
    page.screenshot(path=str(screenshot_dir / "cold-start-02-ready-to-launch.png"), full_page=True)

    # The first three participants, one per question, each on a phone.
    for n, question in enumerate(QUESTIONS, 1):
        context = browser.new_context(
            viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        phone = context.new_page()
        _, errors = play_prolific(phone, study.completion_code_completed)
        ids = {**PROLIFIC, "PROLIFIC_PID": PROLIFIC["PROLIFIC_PID"][:-1] + str(n), "SESSION_ID": f"cold000{n}"}
        query = "&".join(f"{k}={v}" for k, v in ids.items())
        phone.goto(f"{base}/s/{study.slug}/?{query}")
        phone.get_by_role("button", name="I agree and want to take part").click()
        phone.get_by_text(question, exact=True).click()
        phone.get_by_role("button", name="Start the interview").click()
        phone.locator(".msg.assistant").first.wait_for()
        for answer in ANSWERS:
            send_answer(phone, answer)
        card = phone.get_by_role("region", name="Your values card")
        card.wait_for()
        card.get_by_role("button", name="This is my value: submit").click()

        if _now_showing(phone) == "Is this your value?":
            phone.get_by_role("button", name="Yes, it represents what I care about").click()
        assert _now_showing(phone) == "Which of these also matter here?", f"participant {n} skipped relevance"
        boxes = phone.get_by_role("checkbox")
        assert boxes.count() >= 2  # the seeded values (and no fewer than two)
        boxes.first.check()
        phone.get_by_role("button", name="Continue").click()

        assert _now_showing(phone) == "Did this person become wiser?", f"participant {n} got no story"
        phone.get_by_text(re.compile(r"Story 1 of \d")).wait_for()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(phone) == []
        phone.screenshot(path=str(screenshot_dir / f"cold-start-03-participant-{n}-story.png"), full_page=True)
        assert errors == []
        context.close()

    participants = Participant.objects.filter(study=study).order_by("created_at")
    assert participants.count() == 3 and all(p.current_step == Step.STORIES for p in participants)
    for participant in participants:
        assert StoryAssignment.objects.filter(participant=participant).exists()
        assert RelevanceItem.objects.filter(draw__participant=participant).exists()
