"""A fresh participant on a 375 px phone goes through the whole study in
Spanish, and another in Arabic (issue 27): consent, scenario, the interview
chat (its script's words included), relevance, transition stories, the
survey and the completion code. On every page the interface is in their
language (no sentence of the English interface is left on it), and the
Arabic pages read right to left without sideways scrolling.

What the study's own people wrote stays as written: the consent text, the
scenario questions, the other participants' values and stories, and the
offline interviewer's script (English only), whose messages are left out of
the check."""

import re

import pytest
from django.utils import translation

from graph import stories
from studies.models import Participant, Step, Study
from tests.e2e.helpers import PHONE_WIDTH, beside_the_browser, overflowing, play_prolific, wait_until
from tests.factories import PROLIFIC, make_values

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = [
    "He must do his homework before any screen time, that is just the rule.",
    "I want him to find something in school that makes him curious, not only to obey me.",
    "Last spring he built a model volcano for class and asked me questions all evening.",
    "Then I noticed what lit him up and followed his questions instead of nagging.",
]

# The text of the page minus what participants and coordinators wrote: the
# chat (the offline script speaks English), the consent text, the scenario
# questions, the values' and stories' own words.
INTERFACE_TEXT = """() => {
    const page = document.body.cloneNode(true);
    page.querySelectorAll(
        '#chat-log, .consent-text, .scenario-prompt p, .scenario-option, .values-card, .value-card, .story-text, '
        + '.context-heading, .card-title, .card-description, .card-policies, .language-switcher, code, .code'
    ).forEach(e => e.remove());
    return page.innerText;
}"""


def _english_interface(language: str) -> list[str]:
    """Sentences of the English interface (three words or more) that the
    catalog of `language` words differently: none may be left on a page."""
    from tests.studies.test_catalogs import LOCALE, entries

    catalog = LOCALE / translation.to_locale(language) / "LC_MESSAGES" / "django.po"
    found = []
    for entry in entries(catalog):
        msgid = entry["msgid"]
        if "msgid_plural" in entry or "%" in msgid or "{" in msgid or "<" in msgid:
            continue
        if len(msgid.split()) >= 3 and entry.get("msgstr") and entry["msgstr"] != msgid:
            found.append(msgid)
    return found


class Journey:
    """One participant's way through the study, in `language`."""

    def __init__(self, page, language, shots):
        self.page, self.language, self.shots = page, language, shots
        self.english = _english_interface(language)
        self.seen: list[str] = []

    def t(self, text: str) -> str:
        with translation.override(self.language):
            translated = translation.gettext(text)
        assert translated != text, f"{text!r} has no {self.language} translation"
        return translated

    def check(self, name: str):
        """The page is in the participant's language, fits the phone and,
        for Arabic, reads right to left."""
        page = self.page
        assert page.locator("html").get_attribute("lang") == self.language
        assert page.locator("html").get_attribute("dir") == ("rtl" if self.language == "ar" else "ltr")
        text = page.evaluate(INTERFACE_TEXT)
        left = [phrase for phrase in self.english if phrase in text]
        assert left == [], f"English on the {name} page: {left}"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        if self.language != "ar":
            assert overflowing(page) == []  # (left-edge overflow is what a right-to-left page would show)
        else:
            # The study's English title reads left to right inside the right-to-left page ("…consider?").
            assert page.evaluate("document.querySelector('.study-title').matches(':dir(ltr)')")
        page.screenshot(path=str(self.shots / f"translated-{self.language}-{name}.png"), full_page=True)
        self.seen.append(name)

    def step_label(self, index: int, label: str) -> str:
        with translation.override(self.language):
            return translation.gettext("Step %(index)s of %(total)s: %(label)s") % {
                "index": index,
                "total": 7,
                "label": translation.gettext(label),
            }

    def go(self, button):
        """Press a button that loads the next page, and wait for it."""
        with self.page.expect_navigation():
            button.click()

    def heading(self, text: str):
        return self.page.get_by_role("heading", name=self.t(text))

    def send(self, text: str):
        page = self.page
        replies = page.locator(".msg.assistant:not(.streaming)").count()
        page.get_by_label(self.t("Your answer")).fill(text)
        page.get_by_role("button", name=self.t("Send"), exact=True).click()
        page.locator(".msg.assistant:not(.streaming)").nth(replies).wait_for()

    def walk(self, study, base_url):
        page, t = self.page, self.t
        query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
        page.goto(f"{base_url}/s/{study.slug}/?{query}&lang={self.language}")

        self.heading("Before you start").wait_for()
        assert page.locator(".progress-label").inner_text() == self.step_label(1, "Consent")
        self.check("01-consent")
        self.go(page.get_by_role("button", name=t("I agree and want to take part")))

        self.heading("Choose a scenario").wait_for()
        self.check("02-scenario")
        page.get_by_text("Parenting", exact=True).click()
        self.go(page.get_by_role("button", name=t("Start the interview")))

        page.locator(".msg.assistant").first.wait_for()
        assert page.locator(".progress-label").inner_text() == self.step_label(3, "Interview")
        self.check("03-interview")
        # The greeting is in the participant's language, like the page around it.
        greeting = t("Help us figure out how an AI assistant should respond to questions like this one:")
        assert greeting in page.locator(".msg.assistant").first.inner_text()
        for n, answer in enumerate(ANSWERS):
            self.send(answer)
            if n == 0 and self.language == "ar":
                # The offline interviewer has no Arabic script: its English replies keep their own direction.
                assert page.locator(".msg.assistant").nth(1).evaluate("e => e.matches(':dir(ltr)')")
        card = page.get_by_role("region", name=t("Your values card"))
        card.wait_for(timeout=30000)
        # Written by the chat's script, in the participant's language.
        assert card.locator(".card-revision").inner_text() == t("Version {revision}").replace("{revision}", "1")
        assert page.locator(".msg.assistant").first.get_attribute("aria-label") == t("Interviewer")
        self.check("04-card")
        card.get_by_role("button", name=t("This is my value: submit")).click()
        submitted = t("Your card is submitted. Taking you to the next step…")
        wait_until(page, f"document.body.innerText.includes({submitted!r})")

        # The steps after the interview depend on the values and stories there are: follow the pages.
        for _ in range(120):
            done = self.heading("Thank you, you are done")
            page.locator("main h1, main h2").first.wait_for()
            if done.count():
                break
            if self.heading("Is this your value?").count():
                self.check("05-approval")
                self.go(page.get_by_role("button", name=t("Yes, it represents what I care about")))
            elif self.heading("Which of these also matter here?").count():
                self.check("06-relevance")
                page.get_by_role("checkbox").first.check()
                self.go(page.get_by_role("button", name=t("Continue")))
            elif page.get_by_text(t("Did this person become wiser?")).count():
                number = page.locator(".eyebrow").first.inner_text()
                self.check("07-story-" + re.sub(r"\D+", "-", number).strip("-"))
                page.get_by_label(t("Yes, wiser"), exact=True).check()
                last = page.get_by_role("button", name=t("Finish this part"))
                self.go(last if last.count() else page.get_by_role("button", name=t("Next story")))
            elif self.heading("A few questions about taking part").count():
                assert page.locator(".progress-label").inner_text() == self.step_label(6, "Survey")
                self.check("08-survey")
                for question in page.locator("fieldset.survey-question").all():
                    question.get_by_label(f"4 {t('Agree')}", exact=True).check()
                self.go(page.get_by_role("button", name=t("Finish the study")))
            else:
                page.wait_for_timeout(500)  # a page that waits for the study moves on by itself
        self.heading("Thank you, you are done").wait_for()
        self.check("09-done")
        assert page.locator("#completion-code").inner_text() == study.completion_code_completed
        assert t("Your completion code:") in page.locator("main").inner_text()


@pytest.fixture
def multilingual_study(transactional_db):
    """The case study in English, Spanish and Arabic, with values and
    stories from earlier participants, so every step has something to show."""
    from studies import services

    def prepare():
        study, _ = services.seed_case_study()
        Study.objects.filter(pk=study.pk).update(languages=["en", "es", "ar"], include_scripted_cards=True)
        study.refresh_from_db()
        make_values(study)
        stories.generate_stories(study, reverse=True)
        return study

    return beside_the_browser(prepare)


@pytest.mark.parametrize("language", ["es", "ar"])
def test_a_fresh_participant_goes_through_the_whole_study_in_their_language(
    multilingual_study, asgi_live_server, phone, screenshot_dir, language
):
    study = multilingual_study
    _, errors = play_prolific(phone, study.completion_code_completed)
    journey = Journey(phone, language, screenshot_dir)
    journey.walk(study, asgi_live_server.url)
    assert errors == []
    # Every kind of page was seen in the participant's language.
    assert {"01-consent", "02-scenario", "03-interview", "04-card", "06-relevance", "08-survey", "09-done"} <= set(
        journey.seen
    )
    assert any(name.startswith("07-story") for name in journey.seen)
    participant = Participant.objects.get(prolific_identity__prolific_pid=PROLIFIC["PROLIFIC_PID"])
    assert participant.language == language and participant.current_step == Step.COMPLETE
