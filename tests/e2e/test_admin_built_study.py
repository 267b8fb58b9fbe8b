"""A study built from the admin's forms alone (issue 25, item 5): a
coordinator at 1280 px adds the study with its scenarios, consent form and
completion codes on the one "Add study" page, sets it to pilot as the form
allows, and its first participant, on a 375 px phone, goes from the
Prolific link to the completion code, with their resume code on the page."""

import pytest
from playwright.sync_api import expect

from studies.models import Cohort, ConsentDocument, Participant, Step, Study
from tests.e2e.helpers import PHONE_WIDTH, overflowing, play_prolific, send_answer, sign_in
from tests.factories import PROLIFIC

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CONSENT = (
    "We are asking people what matters to them when a chatbot answers hard questions.\n\n"
    "Taking part takes about 15 minutes. You may stop at any time."
)
CODES = {
    "completed": "C1SCREENS",
    "no_consent": "C2NOCONSENT",
    "screened_out": "C3SCREENED",
    "failed_attention": "C4ATTENTION",
    "no_places": "C5FULL",
}
SCENARIOS = [
    ("screens", "Screen time", "How much screen time should my ten-year-old have?"),
    ("homework", "Homework help", "Should I help my son with his homework or let him struggle?"),
]
ANSWERS = [
    "Honestly I think kids need rules, screens off at eight, that's just how it is in our house.",
    "But what I really want is for my daughter to notice when something makes her curious.",
    "When she was nine she took apart the old radio and asked me how every piece worked.",
    "I let her keep going instead of telling her to tidy up, and she learned so much.",
]


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def test_a_study_built_in_the_admin_takes_its_first_participant_to_the_completion_code(
    coordinator, asgi_live_server, laptop, phone, screenshot_dir
):
    base, page = asgi_live_server.url, laptop
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    sign_in(page, base, coordinator, "x-coord-pass-1")

    # --- the coordinator: one "Add study" page, study, scenarios, consent form and codes.
    page.goto(f"{base}/admin/studies/study/add/")
    page.locator("#id_title").fill("Screens at home")
    page.locator("#id_description").click()
    expect(page.locator("#id_slug")).to_have_value("screens-at-home")  # made from the title by the page
    page.locator("#id_description").fill("A short study about parenting and screens.")
    page.locator("#id_status").select_option("pilot")
    page.locator("#id_require_prolific").check()
    page.locator("#id_scripted_interviewer_ok").check()  # no language model here: the form asks for this
    for name, code in CODES.items():
        page.locator(f"#id_completion_code_{name}").fill(code)
    for index, (key, title, prompt) in enumerate(SCENARIOS):
        page.locator("#scenarios-group .add-row a").click()
        page.locator(f"#id_scenarios-{index}-order").fill(str(index))
        page.locator(f"#id_scenarios-{index}-key").fill(key)
        page.locator(f"#id_scenarios-{index}-title").fill(title)
        page.locator(f"#id_scenarios-{index}-prompt").fill(prompt)
    consent = page.locator("#consent_documents-group")
    expect(consent).to_contain_text("Consent form")
    page.locator("#id_consent_documents-0-version_label").fill("v1")
    page.locator("#id_consent_documents-0-irb_protocol_id").fill("IRB-2026-042")
    page.locator("#id_consent_documents-0-text").fill(CONSENT)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(screenshot_dir / "admin-built-01-add-page.png"), full_page=True)
    page.locator('input[name="_continue"]').click()

    # Saved: the study page again, the consent version frozen, a new version still possible.
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator("#id_consent_documents-0-text")).to_be_disabled()
    expect(page.locator("#id_consent_documents-0-text")).to_have_value(CONSENT)
    expect(page.locator("#id_consent_documents-0-is_active")).to_be_enabled()
    page.locator("#consent_documents-group .add-row a").click()
    expect(page.locator("#id_consent_documents-1-text")).to_be_enabled()
    expect(page.locator("#study-link-box")).to_be_visible()
    study = Study.objects.get(slug="screens-at-home")
    assert study.status == Study.Status.PILOT and study.require_prolific
    assert study.completion_code_completed == CODES["completed"]
    assert sorted(study.scenarios.values_list("key", flat=True)) == ["homework", "screens"]
    document = ConsentDocument.objects.get(study=study)
    # (A browser sends a textarea's line breaks as CRLF; the consent page draws the paragraphs either way.)
    assert (document.version_label, document.irb_protocol_id, document.text.replace("\r\n", "\n")) == (
        "v1",
        "IRB-2026-042",
        CONSENT,
    )

    # --- its first participant, on a phone, from the Prolific link.
    done, phone_errors = play_prolific(phone, CODES["completed"])
    phone.goto(f"{base}/s/{study.slug}/?" + "&".join(f"{k}={v}" for k, v in PROLIFIC.items()))
    phone.get_by_role("heading", name="Before you start").wait_for()
    expect(phone.locator(".consent-text p")).to_have_count(2)  # its two paragraphs
    expect(phone.locator(".consent-text")).to_contain_text("Taking part takes about 15 minutes.")
    expect(phone.locator("#resume-code")).to_have_text(
        Participant.objects.get(study=study).prolific_identity.shown_resume_code
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(phone) == []
    phone.get_by_role("button", name="I agree and want to take part").click()
    phone.get_by_text("Screen time", exact=True).click()
    phone.get_by_role("button", name="Start the interview").click()
    phone.locator(".msg.assistant").first.wait_for()
    for answer in ANSWERS:
        send_answer(phone, answer)
    card = phone.get_by_role("region", name="Your values card")
    card.wait_for()
    card.get_by_role("button", name="This is my value: submit").click()

    phone.get_by_role("heading", name="A few questions about taking part").wait_for(timeout=15000)
    for question in phone.locator("fieldset.survey-question").all():
        question.get_by_label("4 Agree", exact=True).check()
    phone.get_by_role("button", name="Finish the study").click()
    phone.get_by_role("heading", name="Thank you, you are done").wait_for()
    assert phone.locator("#completion-code").inner_text() == CODES["completed"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH and overflowing(phone) == []
    phone.screenshot(path=str(screenshot_dir / "admin-built-02-done.png"), full_page=True)
    phone.get_by_role("link", name="Back to Prolific").click()
    phone.wait_for_url(done)
    assert errors == [] and phone_errors == []
    participant = Participant.objects.get(study=study)
    assert participant.current_step == Step.COMPLETE and participant.cohort == Cohort.PILOT
