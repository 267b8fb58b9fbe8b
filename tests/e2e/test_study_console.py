"""A coordinator runs a study from the live console in a real browser: signs
in, copies the Prolific link, previews the study as a participant, watches a
participant on a phone move through the steps (the console refreshes by
itself), and exports the data. The study page and the console fit a laptop
without sideways scrolling, and the console fits a phone."""

import csv
import io
import zipfile

import pytest
from playwright.sync_api import expect

from studies.models import Participant, Step
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, sign_in
from tests.factories import PROLIFIC

pytestmark = pytest.mark.django_db(transaction=True)

REFRESH = 25_000  # ms: the console refreshes every 10 s; allow two rounds


@pytest.fixture
def seeded_study(transactional_db):
    from studies import services

    return beside_the_browser(lambda: services.seed_case_study()[0])


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    yield page
    context.close()


def _here_now(page, step):
    return page.locator(f'#console-steps tr[data-step="{step}"] td.now')


def _no_sideways_scroll(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(
        f"""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > {width} + 1)
        .slice(0, 8).map(e => e.tagName.toLowerCase() + '.' + e.className)"""
    )


def test_coordinator_watches_a_participant_from_the_console_and_exports(
    seeded_study, coordinator, asgi_live_server, laptop, phone, screenshot_dir, tmp_path
):
    study, base, page = seeded_study, asgi_live_server.url, laptop
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    sign_in(page, base, coordinator, "x-coord-pass-1")

    # The study page: the link for Prolific at the top, no sideways scrolling at 1280 px.
    page.goto(f"{base}/admin/studies/study/{study.pk}/change/")
    box = page.locator("#study-link-box")
    expect(box.get_by_label("Study link with Prolific's placeholders")).to_have_value(
        f"{base}/s/{study.slug}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}&STUDY_ID={{{{%STUDY_ID%}}}}"
        "&SESSION_ID={{%SESSION_ID%}}"
    )
    _no_sideways_scroll(page, 1280)
    page.screenshot(path=str(screenshot_dir / "console-00-study-page.png"), full_page=True)

    # From the study list to the console.
    page.goto(f"{base}/admin/studies/study/")
    page.locator("#result_list tbody tr", has_text=study.title).get_by_role("link", name="Live console").click()
    page.get_by_role("heading", name=f"Live console: {study.title}").wait_for()
    _no_sideways_scroll(page, 1280)
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator(".study-link-row", has=page.locator("#participant-link")).locator(".copy-status")).to_have_text(
        "Copied."
    )
    assert page.evaluate("navigator.clipboard.readText()").endswith("SESSION_ID={{%SESSION_ID%}}")
    expect(_here_now(page, "consent")).to_have_text("0")

    # Preview as participant: the journey opens in a new tab, and the preview is counted apart.
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Preview as participant").click()
    preview = opened.value
    preview.get_by_role("heading", name="Before you start").wait_for()
    preview.close()
    expect(page.locator("#not-counted")).to_contain_text("1 staff preview", timeout=REFRESH)
    expect(_here_now(page, "consent")).to_have_text("0")

    # A participant on a phone arrives from Prolific and consents...
    phone.goto(f"{base}/s/{study.slug}/?" + "&".join(f"{k}={v}" for k, v in PROLIFIC.items()))
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_role("heading", name="Choose a scenario").wait_for()
    # ... and the console shows them at the scenario choice, without a reload.
    expect(_here_now(page, "scenario")).to_have_text("1", timeout=REFRESH)
    expect(page.locator("#stat-participants .n")).to_have_text("1")

    # They choose a scenario and start the interview: the console follows.
    phone.get_by_text("Parenting", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()
    phone.locator(".msg.assistant").first.wait_for()
    expect(_here_now(page, "interview")).to_have_text("1", timeout=REFRESH)
    expect(_here_now(page, "scenario")).to_have_text("0")
    row = page.locator('#console-steps tr[data-step="scenario"] td')
    assert row.nth(1).inner_text() == "1" and row.nth(2).inner_text() == "1"  # reached, did it
    participant = Participant.objects.get(study=study, prolific_identity__prolific_pid=PROLIFIC["PROLIFIC_PID"])
    assert participant.current_step == Step.INTERVIEW
    page.screenshot(path=str(screenshot_dir / "console-01-laptop.png"), full_page=True)

    # The export from the console's tools has the participant (and not the preview).
    page.get_by_role("link", name="Export data").click()
    page.get_by_role("heading", name=f"Export data: {study.title}").wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download export").click()
    path = tmp_path / "export.zip"
    download_info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("participants.csv").decode())))
    assert [row["participant"] for row in rows] == [str(participant.pk)]
    assert errors == []


def test_console_fits_a_phone(seeded_study, coordinator, asgi_live_server, phone, screenshot_dir):
    study, base = seeded_study, asgi_live_server.url
    phone.goto(f"{base}/accounts/login/")
    _no_sideways_scroll(phone, PHONE_WIDTH)
    phone.screenshot(path=str(screenshot_dir / "console-login-phone.png"), full_page=True)
    sign_in(phone, base, coordinator, "x-coord-pass-1")
    phone.goto(f"{base}/admin/studies/study/{study.pk}/console/")
    phone.get_by_role("heading", name=f"Live console: {study.title}").wait_for()
    steps = phone.locator("#console-steps")
    assert steps.is_visible()
    # The whole table is readable without scrolling it sideways.
    assert steps.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth"), steps.evaluate("t => t.scrollWidth")
    _no_sideways_scroll(phone, PHONE_WIDTH)
    phone.screenshot(path=str(screenshot_dir / "console-02-phone.png"), full_page=True)
