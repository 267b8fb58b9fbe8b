"""A participant whose answer never comes is offered Retry, without a reload."""

import pytest
from django.utils import timezone

from interviews import services as chat
from interviews.models import Interview
from tests.factories import PROLIFIC

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_wait(settings):
    # Set before the live server forks, so the page is drawn with it.
    settings.INTERVIEW_RETRY_AFTER_SECONDS = 2
    settings.INTERVIEW_REPLY_STALE_SECONDS = 120  # the dead reply is not taken over by itself in this test


def test_retry_appears_when_no_text_arrives_and_brings_the_answer(short_wait, asgi_live_server, phone):
    from studies import services

    study, _ = services.seed_case_study()
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
    phone.goto(f"{asgi_live_server.url}/s/{study.slug}/?{query}")
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_text("Abortion", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()
    phone.wait_for_url(f"**/s/{study.slug}/journey/")
    # The interviewer's opening is written in full first: a reply still in flight when the
    # test plants the dead server's token below would end, and be answered, on its own.
    phone.locator(".msg.assistant:not(.streaming)").first.wait_for(timeout=30_000)

    # The participant's message was saved by a server that died while answering.
    interview = Interview.objects.get()
    chat.add_user_message(interview_id=interview.pk, text="I care about everyone affected.", client_message_id="m1")
    Interview.objects.filter(pk=interview.pk).update(
        reply_token="00000000-0000-0000-0000-000000000001", reply_heartbeat_at=timezone.now()
    )
    phone.reload()
    retry = phone.get_by_role("button", name="Retry")
    retry.wait_for(state="visible", timeout=20_000)
    assert "No answer yet" in phone.locator("#status").inner_text()
    assert phone.get_by_role("button", name="Send").is_disabled()

    # While the other server still seems alive, Retry says so and waits on.
    retry.click()
    phone.get_by_text("already answering").wait_for(timeout=5_000)
    # Once it is known dead, Retry brings the answer to this page.
    Interview.objects.filter(pk=interview.pk).update(reply_heartbeat_at=timezone.now() - timezone.timedelta(hours=1))
    retry.wait_for(state="visible", timeout=10_000)
    retry.click()
    phone.locator(".msg.assistant:not(.streaming)").nth(1).wait_for(timeout=15_000)
    assert "good thing" in phone.locator(".msg.assistant").last.inner_text()
    assert retry.is_hidden()
