"""Browser helpers the e2e tests share (tests in this package only)."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connections

PHONE_WIDTH = 375  # the `phone` fixture's viewport


def wait_until(page, expression: str, timeout: float = 30_000):
    """Playwright's wait_for_function, without eval in the page: its string
    predicates are compiled with eval, which the Content-Security-Policy
    (rightly) refuses. page.evaluate runs outside the page's policy."""
    from playwright.sync_api import Error  # imported where used, as conftest imports playwright lazily

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if page.evaluate(expression):
                return
        except Error as err:
            if "context was destroyed" not in str(err):
                raise  # only a page navigating away mid-check is worth another look
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def send_answer(page, text):
    """Send one chat answer and wait for the interviewer's whole reply."""
    replies = page.locator(".msg.assistant:not(.streaming)").count()
    page.get_by_label("Your answer").fill(text)
    page.get_by_role("button", name="Send").click()
    page.locator(".msg.assistant:not(.streaming)").nth(replies).wait_for()


def overflowing(page) -> list[str]:
    """Elements reaching past the right edge of the phone (cut off or making
    the page scroll sideways)."""
    return page.evaluate(f"""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > {PHONE_WIDTH} + 1)
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""")


def beside_the_browser(fn, *args):
    """Run fn in a worker thread: Playwright's sync API keeps an event loop
    running in this thread, and embeddings and offline model calls go through
    async_to_sync, which refuses to run under a running loop."""

    def call():
        try:
            return fn(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def play_prolific(page, code: str) -> tuple[str, list[str]]:
    """The browser must not leave the machine: Prolific's completion page is
    played by a handler. Returns the URL a participant with `code` is sent
    to, and the list the page's script errors are collected in."""
    done = settings.PROLIFIC_COMPLETION_URL.format(code=code)
    host = re.match(r"https?://[^/]+", done).group(0)
    page.route(
        lambda url: url.startswith(host),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<h1>Prolific</h1>"),
    )
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    return done, errors


def sign_in(page, base, user, password):
    """Sign a staff member in through the sign-in page, as they do."""
    page.goto(f"{base}/admin/")
    page.get_by_role("heading", name="Staff sign-in").wait_for()
    assert page.get_by_role("link", name="sign up").count() == 0
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}/admin/")
