"""Browser helpers the e2e tests share (tests in this package only)."""


def send_answer(page, text):
    """Send one chat answer and wait for the interviewer's whole reply."""
    replies = page.locator(".msg.assistant:not(.streaming)").count()
    page.get_by_label("Your answer").fill(text)
    page.get_by_role("button", name="Send").click()
    page.locator(".msg.assistant:not(.streaming)").nth(replies).wait_for()
