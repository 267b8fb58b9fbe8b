"""A participant on a phone whose browser asks for Spanish, and one whose
browser asks for Arabic (issue 27): the study link's pages come in their
language, right to left for Arabic, without sideways scrolling."""

import pytest

from studies.models import Participant
from tests.factories import PROLIFIC

pytestmark = pytest.mark.django_db(transaction=True)


def _phone_in(browser, locale):
    return browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True, locale=locale
    )


def _multilingual_study():
    from studies import services

    study, _ = services.seed_case_study()
    study.languages = ["en", "es", "ar"]
    study.save(update_fields=["languages"])
    return study


def test_spanish_browser_gets_spanish_pages_through_consent(live_server, browser, screenshot_dir):
    study = _multilingual_study()
    context = _phone_in(browser, "es-ES")
    page = context.new_page()
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
    page.goto(f"{live_server.url}/s/{study.slug}/?{query}")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Antes de empezar").is_visible()
    assert "Paso 1 de 7" in page.locator(".progress-label").inner_text()
    page.screenshot(path=str(screenshot_dir / "languages-consent-es-375px.png"), full_page=True)
    page.get_by_role("button", name="Acepto y quiero participar").click()
    page.wait_for_url(f"**/s/{study.slug}/journey/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Elija un escenario").is_visible()
    assert Participant.objects.get().language == "es"
    context.close()


def test_arabic_browser_gets_a_right_to_left_page_without_sideways_scroll(live_server, browser, screenshot_dir):
    study = _multilingual_study()
    context = _phone_in(browser, "ar")
    page = context.new_page()
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC.items())
    page.goto(f"{live_server.url}/s/{study.slug}/?{query}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("button", name="أوافق وأرغب في المشاركة").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= 375")
    page.screenshot(path=str(screenshot_dir / "languages-consent-ar-375px.png"), full_page=True)
    context.close()
