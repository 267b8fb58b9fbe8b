"""A participant on a phone has the whole offline interview in a real browser."""

import pytest

from interviews.models import ChatMessage
from studies.models import Participant
from tests.e2e.helpers import send_answer, wait_until
from tests.factories import PROLIFIC
from values.models import ValuesCard

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = [
    "Abortion is wrong, you should never do it.",
    "I care that people think about everyone affected, not only themselves.",
    "When I thought I was pregnant in college I was scared and thought only of myself.",
    "Looking back I paid attention to how others would feel and to my faith.",
]


def test_phone_interview_from_link_to_submitted_card(asgi_live_server, phone, screenshot_dir):
    live_server = asgi_live_server
    from studies import services

    study, _ = services.seed_case_study()
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
    phone.goto(f"{live_server.url}/s/{study.slug}/?{query}")
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_text("Abortion", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()
    phone.wait_for_url(f"**/s/{study.slug}/journey/")
    assert phone.get_by_text("Offline mode").is_visible()
    assert "Everyone's input helps" in phone.locator(".msg.assistant").first.inner_text()

    send_answer(phone, ANSWERS[0])
    assert "good thing" in phone.locator(".msg.assistant").last.inner_text()
    phone.screenshot(path=str(screenshot_dir / "10-interview-first-reply-375px.png"), full_page=True)

    # A half-typed answer survives a reload; the transcript comes back.
    phone.get_by_label("Your answer").fill(ANSWERS[1])
    phone.reload()
    phone.locator(".msg.user").first.wait_for()
    assert phone.get_by_label("Your answer").input_value() == ANSWERS[1]
    assert phone.locator(".msg.user").count() == 1
    phone.get_by_role("button", name="Send").click()
    phone.locator(".msg.assistant:not(.streaming)").nth(2).wait_for()

    send_answer(phone, ANSWERS[2])
    phone.get_by_label("Your answer").fill(ANSWERS[3])
    phone.get_by_role("button", name="Send").click()
    card = phone.get_by_role("region", name="Your values card")
    card.wait_for()
    assert card.locator("li").count() >= 2
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot(path=str(screenshot_dir / "11-interview-card-375px.png"), full_page=True)

    # Edit the card directly, then submit it.
    card.get_by_role("button", name="Edit the card").click()
    phone.get_by_label("Title").fill("Care for Everyone Affected")
    phone.get_by_role("button", name="Save changes").click()
    phone.get_by_role("heading", name="Care for Everyone Affected").wait_for()
    card.get_by_role("button", name="This is my value: submit").click()
    wait_until(phone, "document.body.innerText.includes('Your card is submitted')")
    phone.screenshot(path=str(screenshot_dir / "12-interview-submitted-375px.png"), full_page=True)

    submitted = ValuesCard.objects.get(submitted=True)
    assert submitted.title == "Care for Everyone Affected" and submitted.source == "participant_edit"
    assert list(ChatMessage.objects.filter(role="user").values_list("content", flat=True)) == ANSWERS
    # The study's first participant: nothing to mark or judge yet, so on to the survey.
    assert Participant.objects.get().current_step == "survey"
