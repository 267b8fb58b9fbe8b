"""Carrying on on another phone (issue 25, item 4), in real browsers on a
375 px screen: someone who opens a participant's Prolific ID with another
session id gets the resume-code page, never the participant's interview;
the participant, with the code from their own footer, carries on there."""

import pytest
from playwright.sync_api import expect

from studies.models import Participant, Step
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, overflowing, send_answer
from tests.factories import PROLIFIC

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_ANSWER = "Honestly I think kids need rules, screens off at eight, that's just how it is in our house."


@pytest.fixture
def seeded_study(transactional_db):
    from studies import services

    return beside_the_browser(lambda: services.seed_case_study()[0])


@pytest.fixture
def second_phone(browser):
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


def _link(base, study, **changes):
    return f"{base}/s/{study.slug}/?" + "&".join(f"{k}={v}" for k, v in {**PROLIFIC, **changes}.items())


def test_another_phone_needs_the_resume_code_and_never_sees_the_interview(
    seeded_study, asgi_live_server, phone, second_phone, screenshot_dir
):
    study, base = seeded_study, asgi_live_server.url
    phone.goto(_link(base, study))
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_text("Parenting", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()
    phone.locator(".msg.assistant").first.wait_for()
    send_answer(phone, FIRST_ANSWER)
    code = phone.locator("#resume-code").inner_text()

    # The other phone, with the PID and another session id: the resume page, and nothing else.
    other = second_phone
    other.goto(_link(base, study, SESSION_ID="not-their-session"))
    other.get_by_role("heading", name="This study is already open on another device").wait_for()
    assert other.url == f"{base}/s/{study.slug}/resume/"
    assert other.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(other) == []
    other.screenshot(path=str(screenshot_dir / "resume-01-asked-for-the-code.png"), full_page=True)
    other.goto(f"{base}/s/{study.slug}/journey/")
    other.get_by_role("heading", name="Please start from the study link").wait_for()
    assert other.locator(".msg").count() == 0 and FIRST_ANSWER not in other.content()

    other.goto(f"{base}/s/{study.slug}/resume/")
    other.get_by_label("Resume code").fill("AAAA-AAAA" if code != "AAAA-AAAA" else "BBBB-BBBB")
    other.get_by_role("button", name="Carry on here").click()
    expect(other.get_by_role("alert")).to_contain_text("does not match")
    assert other.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(other) == []

    # With the code from the participant's own footer, the second phone carries on in their interview.
    other.get_by_label("Resume code").fill(code.lower())
    other.get_by_role("button", name="Carry on here").click()
    other.locator(".msg.user", has_text=FIRST_ANSWER).wait_for()
    assert other.url == f"{base}/s/{study.slug}/journey/"
    participant = Participant.objects.get(study=study)
    assert participant.current_step == Step.INTERVIEW
