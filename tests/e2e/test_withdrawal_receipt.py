"""Withdrawing on a phone (issue 25): a participant halfway through the
interview withdraws from the footer link and the thank-you page lists what
was removed, with counts and none of their words, on a 375 px screen."""

import pytest

from studies.models import Participant, Step
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, overflowing, send_answer
from tests.factories import PROLIFIC

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "We argue about bedtime, and I want my daughter to learn to read her own tiredness."


@pytest.fixture
def seeded_study(transactional_db):
    from studies import services
    from studies.models import Study

    def seed():
        study = services.seed_case_study()[0]
        study.withdrawal_policy = Study.WithdrawalPolicy.DELETE_CONTENT
        study.save()
        return study

    return beside_the_browser(seed)


def test_a_participant_who_withdraws_mid_interview_sees_what_was_removed(
    seeded_study, asgi_live_server, phone, screenshot_dir
):
    study, base = seeded_study, asgi_live_server.url
    phone.goto(f"{base}/s/{study.slug}/?" + "&".join(f"{k}={v}" for k, v in PROLIFIC.items()))
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_text("Parenting", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()
    phone.locator(".msg.assistant").first.wait_for()
    send_answer(phone, ANSWER)

    phone.get_by_role("link", name="Withdraw from the study").click()
    phone.get_by_role("heading", name="Withdraw from the study?").wait_for()
    phone.get_by_role("button", name="Withdraw from the study").click()
    phone.get_by_role("heading", name="You have withdrawn").wait_for()
    phone.get_by_role("heading", name="What was removed").wait_for()
    rows = phone.locator("#deletion-receipt tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any(t.startswith("Chat messages") for t in texts) and any(t.startswith("Interviews") for t in texts)
    assert ANSWER not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(phone) == []
    phone.screenshot(path=str(screenshot_dir / "withdrawal-receipt.png"), full_page=True)
    participant = beside_the_browser(lambda: Participant.objects.get(study=study))
    assert participant.current_step == Step.WITHDRAWN
