"""After the study, in a real browser: a participant answers the follow-up
questions on a phone (paper 4.5 and Table 4), and a coordinator on a laptop
reads the study report (Table 3, inline SVG charts) and downloads the data
export."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from graph.models import GraphSnapshot
from studies.models import Participant
from surveys.models import FollowUpLink, SurveyResponse
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, overflowing

pytestmark = pytest.mark.django_db(transaction=True)

DEDUP_QUESTION = "Does this value represent what you care about?"
FAIR_QUESTION = "Do you believe your value ended up in a fair position in the moral graph?"


# --- a participant who completed, weeks later ------------------------------------------


@pytest.fixture
def finished(transactional_db):
    """As tests/surveys/test_follow_up.py's `finished`
    (`finished_participant`), with the follow-up link issued the way the admin
    action does it."""
    from studies import services as journey
    from surveys import services
    from tests.factories import finished_participant

    def prepare():
        study, _ = journey.seed_case_study()
        result = finished_participant(study, "follow-up-pid")
        assert services.issue_follow_up_links(study, days_valid=30) == 1
        return result

    return beside_the_browser(prepare)


def _fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert overflowing(page) == []


def _question(page, key):
    return page.locator(f"fieldset#q-{key}")


def _checked(page) -> dict[str, str]:
    return {
        key: _question(page, key).locator("input:checked").get_attribute("value")
        for key in ("dedup_represents", "fair_position")
        if _question(page, key).locator("input:checked").count()
    }


def test_follow_up_on_a_phone(finished, asgi_live_server, phone, screenshot_dir):
    participant, card, live, wiser, less_wise = finished
    link = FollowUpLink.objects.get(participant=participant)
    url = f"{asgi_live_server.url}/f/{link.token}/"
    errors = []
    phone.on("pageerror", lambda err: errors.append(str(err)))

    response = phone.goto(url)
    assert response.status == 200
    phone.get_by_role("heading", name="Follow-up questions").wait_for()

    # (a) Their own card beside the shared wording it was merged into, then the question.
    own_card = phone.get_by_role("region", name="The card you wrote")
    merged = phone.get_by_role("region", name="The value it was grouped into")
    assert own_card.get_by_role("heading").inner_text() == "Let kids choose"
    assert merged.get_by_role("heading").inner_text() == "Informed autonomy"
    assert "An assistant that informed autonomy." in merged.inner_text()
    dedup = _question(phone, "dedup_represents")
    assert dedup.locator(".question-text").inner_text() == DEDUP_QUESTION
    assert dedup.locator(".eyebrow").inner_text().lower() == "question 1 of 2"
    assert "Gentle guidance" not in phone.locator("main").inner_text()  # the intermediate merge is not shown

    # (b) Their value between the wiser and the less wise neighbour, with vote counts.
    above = phone.get_by_role("region", name="Voted wiser than yours")
    own = phone.get_by_role("region", name="Your value")
    below = phone.get_by_role("region", name="Voted less wise than yours")
    assert above.get_by_role("heading").inner_text() == "Shared wisdom"
    assert own.get_by_role("heading").inner_text() == "Informed autonomy"
    assert below.get_by_role("heading").inner_text() == "Strict rules"
    assert above.locator(".vote-count").inner_text() == (
        "12 of 15 participants thought moving from yours to this one was wiser"
    )
    assert below.locator(".vote-count").inner_text() == (
        "5 of 6 participants thought moving from this one to yours was wiser"
    )
    # Drawn top to bottom: wiser, theirs, less wise; then the fairness question.
    fair = _question(phone, "fair_position")
    tops = [box.bounding_box()["y"] for box in (above, own, below, fair)]
    assert tops == sorted(tops), tops
    assert fair.locator(".question-text").inner_text() == FAIR_QUESTION
    assert fair.locator(".eyebrow").inner_text().lower() == "question 2 of 2"
    main_text = phone.locator("main").inner_text()
    assert "Wise elders" not in main_text and "Dropped" not in main_text  # runner-up and dropped edges
    # Every neighbour card is wide enough to read on the phone.
    for box in (own_card, merged, above, own, below):
        assert box.bounding_box()["width"] >= PHONE_WIDTH - 80
    _fits_the_phone(phone)
    phone.screenshot(path=str(screenshot_dir / "followup-01-questions.png"), full_page=True)

    # Only the first question answered: the browser points at the second ...
    dedup.get_by_label("Partly", exact=True).check()
    phone.get_by_role("button", name="Send my answers").click()
    missing = fair.locator("input").first
    assert missing.evaluate("e => e.validity.valueMissing") and missing.evaluate("e => e.validationMessage")
    assert phone.url == url and _checked(phone) == {"dedup_represents": "partly"}
    # ... and a browser that does not check forms gets the server's clear error,
    # with the first answer kept.
    phone.locator("form.survey-form").evaluate("f => f.noValidate = true")
    with phone.expect_response(lambda r: r.request.method == "POST") as posted:
        phone.get_by_role("button", name="Send my answers").click()
    assert posted.value.status == 400
    alert = phone.get_by_role("alert")
    alert.wait_for()
    assert "One question still needs an answer" in alert.inner_text()
    assert "Your other answers are kept" in alert.inner_text()
    assert alert.get_by_role("link", name="Question 2").is_visible()
    assert alert.bounding_box()["y"] < phone.viewport_size["height"]  # seen without scrolling
    assert fair.locator(".field-error").inner_text() == "Please choose an answer."
    # The error's link takes them to the unanswered question, further down.
    alert.get_by_role("link", name="Question 2").click()
    expect(fair.locator(".field-error")).to_be_in_viewport()
    assert _checked(phone) == {"dedup_represents": "partly"}
    assert not SurveyResponse.objects.filter(participant=participant).exists()
    _fits_the_phone(phone)
    phone.screenshot(path=str(screenshot_dir / "followup-02-one-unanswered.png"), full_page=True)

    # Both answered: thank-you state, answers shown, the button says they can still change them.
    fair.get_by_label("No", exact=True).check()
    phone.get_by_role("button", name="Send my answers").click()
    thanks = phone.get_by_role("status")
    thanks.wait_for()
    assert "Thank you, your answers are recorded." in thanks.inner_text()
    assert phone.get_by_role("alert").count() == 0
    assert _checked(phone) == {"dedup_represents": "partly", "fair_position": "no"}
    assert phone.get_by_role("button", name="Update my answers").is_visible()
    _fits_the_phone(phone)
    phone.screenshot(path=str(screenshot_dir / "followup-03-recorded.png"), full_page=True)

    # A reload (or opening the link again later) still shows what they answered.
    phone.reload()
    phone.get_by_role("status").wait_for()
    assert "Thank you, your answers are recorded." in phone.get_by_role("status").inner_text()
    assert _checked(phone) == {"dedup_represents": "partly", "fair_position": "no"}

    # Stored with what was shown beside each question.
    rows = {r.item.key: r for r in SurveyResponse.objects.filter(participant=participant).select_related("item")}
    assert {key: row.answer for key, row in rows.items()} == {"dedup_represents": "partly", "fair_position": "no"}
    assert rows["dedup_represents"].shown == {"card": card.pk, "canonical_value": live.pk}
    assert rows["fair_position"].shown == {
        "snapshot": GraphSnapshot.objects.get().pk,
        "value": live.pk,
        "wiser": wiser.pk,
        "less_wise": less_wise.pk,
    }
    link.refresh_from_db()
    assert link.first_opened_at is not None and link.completed_at is not None
    assert errors == []

    # Once the link has expired the page says so, and nothing else.
    FollowUpLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = phone.goto(url)
    assert response.status == 410
    assert phone.get_by_role("heading", name="This link has expired").is_visible()
    assert phone.locator("form").count() == 0
    assert "Informed autonomy" not in phone.locator("main").inner_text()
    _fits_the_phone(phone)
    phone.screenshot(path=str(screenshot_dir / "followup-04-expired.png"), full_page=True)


# --- the coordinator's report and export ------------------------------------------------

EXPRESSES_CARE = "Did the values you submitted and voted for express what you care about?"
# One answer per real participant to "expresses_care" (every other question answered 4).
CARE_ANSWERS = ["2", "3", "5", "5", "4"]
# By hand, n = 5: 1 → 0%, 2 → 1/5 = 20%, 3 → 20%, 4 → 20%, 5 → 2/5 = 40%;
# agree (3+) = 4/5 = 80%, agree (4+) = 3/5 = 60%.
CARE_ROW = [EXPRESSES_CARE, "5", "0.0%", "20.0%", "20.0%", "20.0%", "40.0%", "80.0%", "60.0%"]
REAL_PIDS = [f"report-pid-{i}" for i in range(len(CARE_ANSWERS))]


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def surveyed_study(transactional_db):
    """Five real participants who answered the survey step, and one simulated
    participant (answering 1 everywhere) the report must leave out."""
    from studies import services as journey
    from surveys import services as survey_services
    from tests.factories import at_step, full_answers

    def prepare():
        study, _ = journey.seed_case_study()
        bank = survey_services.ensure_default_bank(study)
        for pid, answer in zip(REAL_PIDS + ["report-simulated"], CARE_ANSWERS + ["1"]):
            participant, _ = at_step(study, pid)
            everything = full_answers("1") if pid == "report-simulated" else full_answers("4", expresses_care=answer)
            assert survey_services.submit_survey(participant=participant, bank=bank, answers=everything)
            if pid == "report-simulated":
                Participant.objects.filter(pk=participant.pk).update(simulated=True)
        return study

    return beside_the_browser(prepare)


def test_coordinator_reads_the_report_and_downloads_the_export(
    surveyed_study, coordinator, asgi_live_server, laptop, screenshot_dir, tmp_path
):
    study = surveyed_study
    page = laptop
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))

    # Staff log in through allauth (tests/fixtures.py's coordinator password).
    page.goto(f"{asgi_live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(coordinator.email)
    page.get_by_label("Password").fill("x-coord-pass-1")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{asgi_live_server.url}/admin/")

    page.goto(f"{asgi_live_server.url}/admin/studies/study/")
    row = page.locator("#result_list tbody tr", has_text=study.title)
    assert row.count() == 1
    row.get_by_role("link", name="Report").click()
    page.wait_for_url(f"**/admin/studies/study/{study.pk}/report/")
    assert page.get_by_role("heading", name=f"Report: {study.title}").is_visible()
    assert "5 participants, 5 completed" in page.locator("#progress").inner_text()

    # Table 3: the row of one question matches the hand computation above
    # (the simulated participant's 1s are left out).
    table3 = page.locator("#table3 table")
    care = table3.locator("tbody tr", has_text=EXPRESSES_CARE)
    assert care.count() == 1
    assert [c.strip() for c in care.locator("td").all_inner_texts()] == CARE_ROW
    assert table3.locator("tbody tr").count() == 6

    # The charts are drawn inline beside the numbers, inside the window.
    charts = page.locator(".report svg")
    assert charts.count() >= 3  # Table 2, Table 3, Table 4 (and Figure 8)
    table3_chart = page.locator("#table3 svg")
    assert table3_chart.is_visible()
    box = table3_chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 100 and box["x"] + box["width"] <= 1280
    assert table3_chart.locator("rect").count() >= 6  # at least one coloured part per question
    for i in range(charts.count()):
        assert charts.nth(i).is_visible(), f"chart {i} is not visible"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(screenshot_dir / "report-01-laptop.png"), full_page=True)

    # Export data, with the defaults (no simulated participants, no Prolific IDs).
    page.get_by_role("link", name="Export data").first.click()
    page.get_by_role("heading", name=f"Export data: {study.title}").wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download export").click()
    download = download_info.value
    assert download.suggested_filename == f"{study.slug}-export.zip"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"participants.csv", "survey_answers.csv", "codebook.md"} <= names
        assert "prolific_identities.csv" not in names
        participants = list(csv.DictReader(io.StringIO(archive.read("participants.csv").decode())))
        answers = list(csv.DictReader(io.StringIO(archive.read("survey_answers.csv").decode())))
        everything = b"".join(archive.read(name) for name in names).decode(errors="replace")
    real = {str(p.pk) for p in Participant.objects.filter(study=study, simulated=False)}
    assert {row["participant"] for row in participants} == real and len(real) == 5
    assert sorted(row["answer"] for row in answers if row["item"] == "expresses_care") == sorted(CARE_ANSWERS)
    # No Prolific ID is in any file.
    assert not any(pid in everything for pid in REAL_PIDS)
    assert errors == []
