"""A coordinator watches a training-data export in the admin in a real
browser: the run's page updates itself while the job works (no reload, no
inline script) and, once done, offers the files for download."""

import json
from pathlib import Path

import pytest

from alignment import training
from graph.selectors import latest_snapshot
from tests.e2e.helpers import beside_the_browser, wait_until
from tests.e2e.helpers import sign_in as _sign_in
from tests.e2e.test_playground import _built_graph

pytestmark = pytest.mark.django_db(transaction=True)

PROMPTS = [
    {"text": "My child refuses to follow our rules at home. What should I do?", "source": "e2e:1"},
    {"text": "The child resists every rule we make. How do I answer?", "source": "e2e:2"},
]


def test_the_run_page_follows_the_job_and_offers_its_files(coordinator, asgi_live_server, browser):
    study, autonomy = _built_graph()
    run = training.start_run(study, latest_snapshot(study), PROMPTS, user=coordinator)
    base = asgi_live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    _sign_in(page, base, coordinator, "x-coord-pass-1")

    page.goto(f"{base}/admin/alignment/trainingrun/{run.pk}/change/")
    page.locator('#training-live [data-running="true"]').wait_for()
    assert "0 / at most 4 (2 of 2 prompts not read yet)" in page.locator("#training-done").inner_text()
    page.evaluate("window.notReloaded = true")

    beside_the_browser(training.process, run)  # what the job does
    wait_until(page, "document.querySelector('#training-live [data-running=\"false\"]') !== null", timeout=20_000)
    assert page.evaluate("window.notReloaded === true")  # updated in place by trainingrun.js
    assert page.locator("#training-done").inner_text() == "4 / 4"
    assert "2 SFT example(s), 2 preference pair(s)" in page.locator("#training-kept").inner_text()
    assert "Done" in page.locator("#training-status").inner_text()

    with page.expect_download() as download:
        page.get_by_role("link", name="preferences.jsonl").click()
    lines = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    assert len(lines) == 2 and all(line["metadata"]["chosen_value"]["id"] == autonomy.pk for line in lines)
    assert not errors
    context.close()
